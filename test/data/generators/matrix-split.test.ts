/** The benchmark matrix's split holds: dev never sees a frozen dataset or a held-out variant, frozen judges every family on frozen data. */
import { describe, expect, it } from 'vitest';
import { allCells, sampleCells } from '../../../bench/audit-matrix/cells.js';
import { DATASET_PART, FROZEN_VALUES } from '../../../bench/audit-matrix/split.js';
import { FAMILIES } from '../../../src/data/generators/matrix-attacks.js';

describe('benchmark matrix split', () => {
  it('the dev sample holds only dev datasets and dev variant values', () => {
    const dev = sampleCells('dev');
    expect(dev.length).toBeGreaterThan(30);
    for (const c of dev) {
      expect(DATASET_PART[c.dataset]).toBe('dev');
      for (const [k, held] of Object.entries(FROZEN_VALUES)) {
        const v = c.params[k];
        if (v !== undefined && typeof v !== 'boolean') expect(held).not.toContain(v);
      }
    }
  });

  it('the frozen sample judges every family on frozen datasets, and holds each held-out value somewhere', () => {
    const frozen = sampleCells('frozen');
    for (const f of FAMILIES) {
      expect(frozen.some((c) => c.family === f && DATASET_PART[c.dataset] === 'frozen')).toBe(true);
    }
    const all = allCells().filter((c) => c.part === 'frozen');
    for (const [k, held] of Object.entries(FROZEN_VALUES)) {
      for (const v of held) expect(all.some((c) => c.params[k] === v)).toBe(true);
    }
  });

  it('the sample is fixed: the same cells every time, no cell twice', () => {
    const a = sampleCells('dev').map((c) => c.id);
    expect(sampleCells('dev').map((c) => c.id)).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
  });
});
