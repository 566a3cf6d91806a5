/**
 * Mutation property test: bit flips, truncations and splices of the corpus and of the benign real
 * fixtures. Whatever the bytes, the scanner never throws (no internal error either), never hangs, and
 * never passes a file it could not fully parse: a mutated file passes only when its result says it was
 * parsed completely and every global its pickles import is allowed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/artifacts/containers/sync-source.js';
import { loadScanPolicy } from '../../src/artifacts/formats/pickle-stream.js';
import { scanSource } from '../../src/artifacts/scan.js';
import { atLeast } from '../../src/core/severity.js';
import { CORPUS, FIXTURES } from '../helpers/cli.js';

const MAX_MS_PER_CASE = 3000;

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

const seeds = [...listFiles(CORPUS), ...listFiles(join(FIXTURES, 'real'))]
  .filter((p) => !/LICENSE|make\.py|tensors\.json/.test(p) && statSync(p).size <= 64 * 1024)
  .map((p) => ({ name: p.split('/').pop() as string, bytes: new Uint8Array(readFileSync(p)) }));

describe('scanner under mutation', async () => {
  const policy = await loadScanPolicy(undefined, []);

  it('starts from the corpus and the real fixtures', () => {
    expect(seeds.filter((s) => s.name.startsWith('GHSA-')).length).toBeGreaterThan(40);
    expect(seeds.length).toBeGreaterThan(100);
  });

  async function check(name: string, bytes: Uint8Array): Promise<void> {
    const t0 = performance.now();
    const r = await scanSource(new MemorySource(name, bytes), { policy, failOn: 'high', displayPath: name });
    const ms = performance.now() - t0;
    expect(ms, `${name}: ${ms.toFixed(0)} ms`).toBeLessThan(MAX_MS_PER_CASE);
    const rules = r.findings.map((f) => f.rule);
    expect(
      rules,
      `${name}: ${r.findings.find((f) => f.rule === 'scan/internal-error')?.message}`,
    ).not.toContain('scan/internal-error');
    const passes = !r.findings.some((f) => atLeast(f.severity, 'high'));
    if (!passes) return;
    expect(r.complete, `${name} (${r.format}) passed without being fully parsed`).toBe(true);
    const globals = (r.details?.globals as string[] | undefined) ?? [];
    // TorchScript archives also allow the classes their own code defines (listed in the result).
    const archive = new Set((r.details?.archiveAllowed as string[] | undefined) ?? []);
    for (const g of globals)
      expect(policy.allowed.has(g) || archive.has(g), `${name} passed with ${g}`).toBe(true);
  }

  const seed = fc.integer({ min: 0, max: seeds.length - 1 });

  it('bit flips', async () => {
    await fc.assert(
      fc.asyncProperty(
        seed,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }),
        async (i, flips) => {
          const b = seeds[i].bytes.slice();
          if (!b.length) return;
          for (const [pos, bit] of flips) b[pos % b.length] ^= 1 << bit;
          await check(seeds[i].name, b);
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('truncations', async () => {
    await fc.assert(
      fc.asyncProperty(seed, fc.double({ min: 0, max: 1, noNaN: true }), async (i, frac) => {
        const b = seeds[i].bytes;
        await check(seeds[i].name, b.subarray(0, Math.floor(b.length * frac)));
      }),
      { numRuns: 3000 },
    );
  });

  it('splices of two files', async () => {
    await fc.assert(
      fc.asyncProperty(seed, seed, fc.nat(), fc.nat(), fc.nat(), async (i, j, a, b2, c) => {
        const x = seeds[i].bytes;
        const y = seeds[j].bytes;
        const cut = x.length ? a % (x.length + 1) : 0;
        const from = y.length ? b2 % y.length : 0;
        const len = y.length ? c % (y.length - from + 1) : 0;
        const out = new Uint8Array(cut + len + (x.length - cut));
        out.set(x.subarray(0, cut), 0);
        out.set(y.subarray(from, from + len), cut);
        out.set(x.subarray(cut), cut + len);
        await check(seeds[i].name, out);
      }),
      { numRuns: 3000 },
    );
  });
});
