import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze, blocks } from './helpers.js';

/**
 * The raw pickles of the picklescan corpus (../shared/corpora, see its README) through the analyser alone
 * (archives, numpy and torch containers are the scanner's job): malicious files block, benign ones pass.
 */
const ROOT = '/work/shared/corpora/picklescan';
const raw = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter(
      (f) => /\.(pkl|pickle|bin)$/.test(f) && !/^(pytorch_model|new_pytorch_model|not_a_pickle)/.test(f),
    )
    .map((f) => [dir, f] as const);

let files: Array<readonly [string, string]> = [];
try {
  files = [...raw('data'), ...raw('data2')];
} catch {
  files = [];
}

describe.skipIf(files.length === 0)('picklescan corpus, raw pickles', () => {
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
