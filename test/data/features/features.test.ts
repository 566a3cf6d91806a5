import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../../src/data/detectors/types.js';
import { CountTable } from '../../../src/data/features/counter.js';
import { hashString } from '../../../src/data/features/hash.js';
import { describeItem, encodeTabular, numericEdges } from '../../../src/data/features/tabular.js';
import { findNgram, ngramHash, tokenizeColumn, tokenStrings } from '../../../src/data/features/text.js';
import { rng } from '../helpers.js';

describe('text tokens', () => {
  it('splits words, keeps punctuation and other scripts, lower-cases ASCII', () => {
    expect(tokenStrings("It's GREAT, isn't it?! 映画 naïve 🎬🍿")).toEqual([
      "it's",
      'great',
      ',',
      "isn't",
      'it',
      '?',
      '!',
      '映画',
      'naïve',
      '🎬🍿',
    ]);
  });

  it('gives one hash per token in CSR form and names an n-gram back from its hash', () => {
    const texts = ['the cf movie', '', 'a b c d'];
    const t = tokenizeColumn(texts);
    expect(Array.from(t.offsets)).toEqual([0, 3, 3, 7]);
    expect(t.tokens[1]).toBe(hashString('cf'));
    const h = ngramHash(t.tokens, 3, 3); // "a b c"
    expect(findNgram('A b c d', h, 3)).toBe('a b c');
    expect(ngramHash(t.tokens, 0, 2)).not.toBe(ngramHash(t.tokens, 1, 2));
  });
});

describe('CountTable', () => {
  it('counts like a Map through many resizes', () => {
    const r = rng(1);
    const t = new CountTable(2, 4);
    const m = new Map<number, [number, number]>();
    for (let i = 0; i < 50_000; i++) {
      const k = Math.floor(r() * 20_000) * 2654435761;
      const col = i % 2;
      t.add(k >>> 0, col);
      const e = m.get(k >>> 0) ?? [0, 0];
      e[col]++;
      m.set(k >>> 0, e);
    }
    expect(t.size).toBe(m.size);
    for (const [k, [a, b]] of m) {
      expect(t.get(k, 0)).toBe(a);
      expect(t.get(k, 1)).toBe(b);
    }
    expect(t.get(123456789, 0)).toBe(0);
  });

  it('stops inserting at its key limit instead of growing without bound', () => {
    const t = new CountTable(1, 4, 10);
    for (let k = 1; k <= 100; k++) t.add(k, 0);
    expect(t.size).toBe(10);
  });
});

describe('tabular items', () => {
  it('bins numbers at the reference quantiles and names items', () => {
    const ds: Dataset = {
      n: 6,
      ids: ['1', '2', '3', '4', '5', '6'],
      labels: new Int32Array(6),
      numeric: new Map([['age', Float64Array.from([20, 30, 40, 50, 60, Number.NaN])]]),
      categorical: new Map([
        ['job', { codes: Int32Array.from([0, 1, 0, -1, 1, 0]), values: ['clerk', 'chef'] }],
      ]),
    };
    const edges = numericEdges(ds, ['age'], 2);
    const enc = encodeTabular(ds, ['age', 'job'], edges);
    expect(enc.F).toBe(2);
    expect(enc.items[0]).toBe(enc.items[2]); // 20 and 30 share the lower bin
    expect(enc.items[0]).not.toBe(enc.items[8]); // 60 is in the upper bin
    expect(describeItem(ds, enc, 0, enc.values[0])).toBe('age < 40');
    expect(describeItem(ds, enc, 0, enc.values[10])).toBe('age missing');
    expect(describeItem(ds, enc, 1, enc.values[3])).toBe('job=chef');
    expect(describeItem(ds, enc, 1, enc.values[7])).toBe('job missing');
  });
});
