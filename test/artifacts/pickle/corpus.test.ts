import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS as ROOT } from '../../helpers/cli.js';
import { analyze, blocks } from './helpers.js';

/**
 * The raw pickles of the picklescan corpus (test/fixtures/corpora, see its README) through the analyser alone
 * (archives, numpy and torch containers are the scanner's job): malicious files block, benign ones pass.
 * A missing corpus fails here (readdirSync throws), it never skips.
 */
const raw = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter(
      (f) => /\.(pkl|pickle|bin)$/.test(f) && !/^(pytorch_model|new_pytorch_model|not_a_pickle)/.test(f),
    )
    .map((f) => [dir, f] as const);

const files = [...raw('data'), ...raw('data2')];

describe('picklescan corpus, raw pickles', () => {
  it('holds the corpus pickles, malicious and benign', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files.filter(([, f]) => f.startsWith('benign')).length).toBeGreaterThanOrEqual(3);
  });
  for (const [dir, f] of files) {
    const benign = f.startsWith('benign');
    it(`${f} ${benign ? 'passes' : 'blocks'}`, () => {
      const bytes = new Uint8Array(readFileSync(join(ROOT, dir, f)));
      // A loader may call pickle.load again: follow every pickle in the stream, as the scanner does.
      let off = 0;
      let blocked = false;
      for (let n = 0; n < 64 && off < bytes.length; n++) {
        const r = analyze(bytes, { start: off });
        if (blocks(r)) blocked = true;
        if (!r.complete || r.end <= off) break;
        off = r.end;
      }
      expect(blocked).toBe(!benign);
    });
  }
});
