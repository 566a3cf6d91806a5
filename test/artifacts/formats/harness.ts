/** A minimal orchestrator for format tests: content detection over the registry, nested scans, verdicts. */
import { basename } from 'node:path';
import { FORMATS } from '../../../src/artifacts/formats/index.js';
import { type FormatResult, HEAD_BYTES, type ScanContext } from '../../../src/artifacts/formats/types.js';
import { type ByteSource, FileSource } from '../../../src/artifacts/source.js';
import type { Location } from '../../../src/core/finding.js';
import { verdictOf } from '../../../src/core/verdict.js';

export async function scanSource(source: ByteSource, displayPath: string, depth = 0): Promise<FormatResult> {
  const head = await source.read(0, Math.min(source.size, HEAD_BYTES));
  const fmt = FORMATS.find((f) => f.detect({ head, size: source.size, name: basename(source.name) }));
  if (!fmt) return { format: 'none', complete: false, findings: [] };
  const ctx: ScanContext = {
    policy: { allowed: new Set(), profiles: [] },
    failOn: 'high',
    displayPath,
    depth,
    scanNested: async (src: ByteSource, location: Location) => {
      const r = await scanSource(src, displayPath, depth + 1);
      return {
        ...r,
        findings: r.findings.map((f) => ({
          ...f,
          location: { ...location, ...f.location, entry: location.entry },
        })),
      };
    },
  };
  return fmt.scan(source, ctx);
}

export async function scanPath(path: string): Promise<FormatResult & { verdict: 'pass' | 'block' }> {
  const src = await FileSource.open(path);
  try {
    const r = await scanSource(src, path);
    return { ...r, verdict: verdictOf(r.findings, 'high') };
  } finally {
    await src.close();
  }
}
