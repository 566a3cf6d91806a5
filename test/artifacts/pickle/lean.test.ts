import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS } from '../../helpers/cli.js';
import { analyze, FIXTURES } from './helpers.js';

/** Lean mode (values: false) must report exactly what full mode reports, on every kind of input. */
const inputs: Array<[string, Uint8Array]> = [];
for (const dir of ['benign', 'attacks']) {
  for (const f of readdirSync(join(FIXTURES, dir)))
    if (f.endsWith('.pkl'))
      inputs.push([`${dir}/${f}`, new Uint8Array(readFileSync(join(FIXTURES, dir, f)))]);
}
// The picklescan corpus (committed under test/fixtures/corpora); a missing corpus fails, it is never skipped.
for (const dir of ['data', 'data2'])
  for (const f of readdirSync(join(CORPUS, dir)))
    if (/\.(pkl|pickle)$/.test(f))
      inputs.push([`corpus/${f}`, new Uint8Array(readFileSync(join(CORPUS, dir, f)))]);

const summary = (bytes: Uint8Array, values: boolean, start = 0) => {
  const r = analyze(bytes, { values, start });
  return {
    complete: r.complete,
    end: r.end,
    opcodes: r.opcodes,
    findings: r.findings.map((f) => [f.rule, f.severity, f.message, f.location?.offset]),
    globals: r.globals.map((g) => [g.module, g.name, g.importedBy, g.usedBy.join('+')]),
    persistentIds: r.persistentIds.length,
  };
};

describe('lean mode reports what full mode reports', () => {
  it('on every fixture and corpus pickle', () => {
    expect(inputs.filter(([n]) => !n.startsWith('corpus/')).length).toBeGreaterThan(40);
    expect(inputs.filter(([n]) => n.startsWith('corpus/')).length).toBeGreaterThan(80);
    for (const [name, bytes] of inputs) expect(summary(bytes, false), name).toEqual(summary(bytes, true));
  });

  it('on mutated inputs', () => {
    let seed = 3;
    const rnd = () => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 1500; i++) {
      const b = inputs[i % inputs.length][1].slice();
      b[rnd() % b.length] = rnd() & 0xff;
      const cut = b.subarray(0, b.length - (rnd() % 3));
      expect(summary(cut, false), inputs[i % inputs.length][0]).toEqual(summary(cut, true));
    }
  });

  it('keeps primitive results (counts, magic numbers) intact', () => {
    const r = analyze(Uint8Array.from([0x80, 2, 0x4b, 7, 0x2e]), { values: false });
    expect(r.value).toBe(7);
  });
});
