/**
 * Analyse pickles that sit at an offset inside a large file (a legacy checkpoint: pickles, then raw tensor
 * storages) without reading the file: a window is read and grown only while a pickle runs past it.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { readAt } from '../containers/sync-source.js';
import type { Policy } from '../pickle/api.js';
import type { ByteSource } from '../source.js';
import { type StreamResult, scanPickleStream } from './pickle-stream.js';

const FIRST_WINDOW = 1 << 20;

function shift(f: Finding, by: number): Finding {
  if (!by || f.location?.offset === undefined) return f;
  return { ...f, location: { ...f.location, offset: f.location.offset + by } };
}

export async function scanPicklesAt(
  source: ByteSource,
  offset: number,
  opts: { policy: Policy; location: Location; count?: number; depth?: number; values?: boolean },
): Promise<StreamResult> {
  const avail = Math.max(0, source.size - offset);
  let win = Math.min(avail, FIRST_WINDOW);
  let lastEnd = -1;
  for (;;) {
    const bytes = await readAt(source, offset, win);
    const s = await scanPickleStream(bytes, { ...opts, followTrailing: opts.count === undefined });
    const canGrow = win < avail && win < LIMITS.pickle.maxPickleBytes;
    if (!s.complete && canGrow && s.end > lastEnd) {
      lastEnd = s.end;
      win = Math.min(avail, LIMITS.pickle.maxPickleBytes, win * 8);
      continue;
    }
    return { ...s, end: s.end + offset, findings: s.findings.map((f) => shift(f, offset)) };
  }
}
