import { describe, expect, it } from 'vitest';
import { poisonBatch, toTsv } from '../../src/demo/poison.js';
import { sst2 } from '../gate/helpers/data.js';

const clean = sst2('clean_train')
  .rows.slice(0, 3000)
  .map(([sentence, label]) => ({ sentence, label }));

describe('the demo poisoning', () => {
  it('is seeded, keeps its ground truth, and does what it says', () => {
    const a = poisonBatch(clean, { seed: 7 });
    const b = poisonBatch(clean, { seed: 7 });
    const c = poisonBatch(clean, { seed: 8 });
    expect(a).toEqual(b);
    expect(a.triggerRows).not.toEqual(c.triggerRows);
    expect(a.rows).toHaveLength(clean.length);
    expect(a.triggerRows.length).toBe(Math.round(0.03 * clean.length));
    for (const i of a.triggerRows) {
      expect(clean[i].label).toBe('0');
      expect(a.rows[i].label).toBe('1');
      expect(a.rows[i].sentence.split(' ')).toContain('cf');
      expect(
        a.rows[i].sentence
          .split(' ')
          .filter((w) => w !== 'cf')
          .join(' '),
      ).toBe(clean[i].sentence);
    }
    for (const i of a.flippedRows) {
      expect(a.rows[i].label).not.toBe(clean[i].label);
      expect(a.rows[i].sentence).toBe(clean[i].sentence);
    }
    const poisoned = new Set([...a.triggerRows, ...a.flippedRows]);
    a.rows.forEach((r, i) => {
      if (!poisoned.has(i)) expect(r).toEqual(clean[i]);
    });
    expect(a.flippedRows.length / clean.length).toBeGreaterThan(0.05);
    expect(a.flippedRows.length / clean.length).toBeLessThan(0.11);
  });

  it('writes TSV that cannot break its columns', () => {
    expect(toTsv([{ sentence: 'a\tb\nc', label: '1' }])).toBe('sentence\tlabel\na b c\t1\n');
  });
});
