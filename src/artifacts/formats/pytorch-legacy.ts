/**
 * PyTorch's legacy (pre-1.6, or `_use_new_zipfile_serialization=False`) format: five pickles in a row
 * (magic number, protocol version, sys info, the object, the storage keys), then raw storages that
 * torch.load copies without unpickling. All five pickles are analysed: a known bypass keeps the first ones
 * benign and hides the payload in a later one. Storage bytes are never read.
 */
import { isTorchLegacy } from '../detect.js';
import type { ByteSource } from '../source.js';
import { scanPicklesAt } from './pickle-window.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

export const LEGACY_PICKLES = 5;

export async function scanLegacy(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  const s = await scanPicklesAt(source, 0, {
    policy: ctx.policy,
    location: where,
    count: LEGACY_PICKLES,
    depth: ctx.depth,
  });
  return {
    format: 'pytorch-legacy',
    findings: s.findings,
    complete: s.complete,
    details: {
      pickles: s.pickles.length,
      globals: s.globals,
      storageBytes: Math.max(0, source.size - s.end),
    },
  };
}

export const legacyFormat: FormatScanner = {
  id: 'pytorch-legacy',
  title: 'PyTorch legacy checkpoint (magic-number pickle sequence)',
  detect: ({ head }) => isTorchLegacy(head),
  scan: scanLegacy,
};
