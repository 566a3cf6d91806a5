/**
 * The contract between the scan orchestrator (src/artifacts/scan.ts) and one format module
 * (src/artifacts/formats/<format>.ts). Adding a format = one module + one line in formats/index.ts.
 *
 * Detection is by content (magic bytes / structure), never by extension alone. The orchestrator reads
 * the first HEAD_BYTES of every file, asks each format's `detect` in registry order, and hands the file
 * to the first that claims it. A file no format claims is reported as `unknown` (info, pass) unless
 * its name or content suggests a model format, in which case it blocks as unanalysable.
 */
import type { Finding, Location } from '../../core/finding.js';
import type { Severity } from '../../core/severity.js';
import type { Policy } from '../pickle/api.js';
import type { ByteSource } from '../source.js';

export const HEAD_BYTES = 64 * 1024;

export interface DetectInput {
  /** First min(size, HEAD_BYTES) bytes. */
  head: Uint8Array;
  size: number;
  /** Base name, for tie-breaks only (never trusted for the verdict). */
  name: string;
}

export interface ScanContext {
  /** The active pickle allowlist/denylist policy. */
  policy: Policy;
  failOn: Severity;
  /** Path shown in findings (relative to the scanned folder, or as given). */
  displayPath: string;
  /** Nesting depth of archives within archives; formats pass depth+1 when recursing. */
  depth: number;
  /**
   * Scan bytes found inside this file (an archive member, a nested pickle, a file inside a tar) with
   * full detection, as if it were a file of its own. Findings come back located under `location`.
   */
  scanNested(source: ByteSource, location: Location): Promise<FormatResult>;
}

export interface FormatResult {
  /** Format id, e.g. `pytorch-zip`. Refined by the scanner (e.g. `joblib-zlib`). */
  format: string;
  /**
   * Whether every byte a loader reads was analysed. Required so that a scanner cannot forget to say: the
   * orchestrator blocks any result that is not complete, whatever its findings.
   */
  complete: boolean;
  findings: Finding[];
  details?: Record<string, unknown>;
  /** Files on disk a loader of this file also reads (ONNX external data): scanned as what they are to it. */
  references?: string[];
}

/** What a file is to another file that references it, found by following the references loaders follow. */
export type FileRole =
  | { kind: 'tensor-data'; format: 'onnx-external-data' | 'openvino-weights'; by: string }
  | { kind: 'shard'; expect: 'safetensors' | 'pytorch'; by: string };

export interface FormatScanner {
  /** Stable id, e.g. `pickle`, `pytorch-zip`, `safetensors`. */
  id: string;
  title: string;
  detect(input: DetectInput): boolean;
  scan(source: ByteSource, ctx: ScanContext): Promise<FormatResult>;
}
