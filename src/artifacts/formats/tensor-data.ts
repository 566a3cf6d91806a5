/**
 * Raw tensor bytes that another file of the folder reads at offsets it names: ONNX external data (one
 * `weights.bin`, or one extension-less file per tensor) and OpenVINO `.bin` weights. The runtime copies
 * these bytes into tensors and interprets nothing else, so there is nothing in them to analyse beyond what
 * the referencing file's scanner checks (paths, offsets against the file's size). The orchestrator hands a
 * file here only when its role is known and no structural format claimed it; a genuine pickle among them is
 * still scanned as one (the orchestrator's polyglot check).
 */
import type { ByteSource } from '../source.js';
import type { FileRole, FormatResult } from './types.js';

export function scanTensorData(
  source: ByteSource,
  role: Extract<FileRole, { kind: 'tensor-data' }>,
): FormatResult {
  return {
    format: role.format,
    complete: true,
    findings: [],
    details: { readBy: role.by, bytes: source.size },
  };
}
