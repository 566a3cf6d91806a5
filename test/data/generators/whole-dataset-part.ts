/** What every part made of whole datasets (frozen4, frozen5, frozen6) must hold, stated once for each of them. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCells, POOL_ROWS, sampleCells } from '../../../bench/audit-matrix/cells.js';
import { DATASET_PART, type DatasetId, type Part } from '../../../bench/audit-matrix/split.js';
import { verifyWrittenCase } from '../../../bench/audit-matrix/verify.js';
import { FAMILIES, generateCell } from '../../../src/data/generators/matrix-attacks.js';
import type { BaseDataset } from '../../../src/data/generators/matrix-datasets.js';
import { DATASET_KIND } from '../../../src/data/generators/matrix-datasets.js';
import { writeMatrixCase } from '../../../src/data/generators/matrix-write.js';

/** The datasets of one part, in DATASET_PART's order. */
export const datasetsOf = (part: Part) =>
  (Object.keys(DATASET_PART) as DatasetId[]).filter((d) => DATASET_PART[d] === part);

/**
 * Tests (inside the caller's describe): the part holds exactly `datasets`, no cell of `others` uses one of them,
 * and its sample judges every family that applies (no mail or image set: header triggers and pixel patches are
 * not judged) with clean controls of 100 rows and 20% on every dataset.
 */
export function wholeDatasetPartTests(part: Part, datasets: DatasetId[], others: readonly Part[]): void {
  it(`whole datasets only: a cell is ${part} exactly when its dataset is, and no other part holds one`, () => {
    expect(datasetsOf(part)).toEqual(datasets);
    for (const c of allCells()) expect(c.part === part).toBe(DATASET_PART[c.dataset] === part);
    for (const p of others) for (const c of sampleCells(p)) expect(DATASET_PART[c.dataset]).not.toBe(part);
  });

  it('judges every family that applies, with clean controls of 100 rows (where 40% of the pool holds them) and 20% on every dataset', () => {
    const cells = sampleCells(part);
    expect(cells.every((c) => c.part === part)).toBe(true);
    for (const f of FAMILIES.filter((x) => x !== 'header-trigger' && x !== 'pixel-patch'))
      expect(cells.some((c) => c.family === f)).toBe(true);
    for (const d of datasets)
      expect(
        cells
          .filter((c) => c.family === 'clean' && c.dataset === d)
          .map((c) => c.params.trusted)
          .sort(),
      ).toEqual(POOL_ROWS[d] * 0.4 >= 100 ? [0.2, 100] : [0.2]);
    expect(new Set(datasets.map((d) => DATASET_KIND[d]))).toEqual(new Set(['tabular', 'text']));
    expect(sampleCells(part).map((c) => c.id)).toEqual(cells.map((c) => c.id));
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
  });
}

/**
 * Tests: every cell of the part, generated (seed 1) from `pools` (its datasets, read from small files in the
 * builder's formats) and written under `dir`, writes a trusted file, an incoming file and truth.json that agree.
 */
export function partCellsGenerate(part: Part, pools: Map<string, BaseDataset>, dir: string): void {
  describe(`${part} cells generate valid batches`, () => {
    it(`every ${part} cell writes a trusted file, an incoming file and truth.json that agree`, async () => {
      const failures: string[] = [];
      for (const [i, cell] of sampleCells(part).entries()) {
        const c = generateCell(pools.get(cell.dataset)!, cell.family, cell.params, 1);
        const out = join(dir, 'cells', String(i));
        await writeMatrixCase(c, out);
        const problems = verifyWrittenCase(c, out);
        if (problems.length) failures.push(`${cell.id}: ${problems.join('; ')}`);
      }
      expect(failures).toEqual([]);
    }, 60_000);
  });
}
