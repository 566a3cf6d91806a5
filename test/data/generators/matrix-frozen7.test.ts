/**
 * The seventh frozen part of the benchmark matrix (frozen7): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen7-data.sh writes, and
 * every frozen7 cell generates a valid trusted file, incoming file and truth.json. On small files written here
 * (never the benchmark data folder; nothing audited).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POOL_ROWS, sampleCells } from '../../../bench/audit-matrix/cells.js';
import {
  DATASET_KIND,
  type DataPaths,
  FORTUNE_IT_FILES,
  FORTUNE_PL_FILES,
  MATRIX_DATASETS,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen7-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN7 = datasetsOf('frozen7');

describe('frozen7 split', () => {
  it('leaves the frozen6 sample exactly as it was, and the frozen7 sample is fixed as first drawn', () => {
    // frozen6 as on main before frozen7 existed (41 cells); earlier parts: matrix-frozen2.test.ts to
    // matrix-frozen6.test.ts.
    expect(sampleCells('frozen6')).toHaveLength(41);
    expect(cellHash('frozen6')).toBe('90fcba255c2db86b9d97b37efaec9e9804a29cd9275e13cdf37393a4a75e03cb');
    expect(sampleCells('frozen7')).toHaveLength(41);
    expect(cellHash('frozen7')).toBe('64bc64b7307620eb37ea50040da8d2388c08d5a57cbcf14acaf7ba2959ccdbc1');
  });

  wholeDatasetPartTests(
    'frozen7',
    ['fortunes-it', 'fortunes-pl', 'satellite', 'soybean', 'house-votes', 'vehicle'],
    ['dev', 'frozen', 'frozen2', 'frozen3', 'frozen4', 'frozen5', 'frozen6'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261206);

const WORDS = Array.from({ length: 300 }, (_, i) => `s${(i * 7919) % 3001}ł`);
const sentence = (marker: string) =>
  `${Array.from({ length: 4 + rng.int(12) }, () => rng.pick(WORDS)).join(' ')} ${marker}.`;

/** A fortune file: records separated by lines holding only "%", one too short and one too long to keep. */
const fortuneFile = (marker: string, n: number) =>
  `${[...Array.from({ length: n }, () => sentence(marker)), 'krótko', 'długo '.repeat(80)].join('\n%\n')}\n%\n`;

function writeFrozen7Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen7', n), { recursive: true });
    return join(root, 'frozen7', n);
  };
  for (const f of FORTUNE_IT_FILES)
    writeFileSync(join(dir('fortunes-it'), f), fortuneFile(f.slice(0, 3), 130));
  for (const f of FORTUNE_PL_FILES)
    writeFileSync(join(dir('fortunes-pl'), f), fortuneFile(f.slice(0, 3), 130));
  const SATELLITE_CLASSES = ['red soil', 'cotton crop', 'grey soil', 'damp grey soil', 'vegetation stubble'];
  writeFileSync(
    join(dir('satellite'), 'satellite.csv'),
    rCsv(
      [...Array.from({ length: 36 }, (_, j) => `x.${j + 1}`), 'classes'],
      Array.from({ length: 1500 }, (_, i) => [
        ...Array.from({ length: 36 }, () => 40 + rng.int(100)),
        SATELLITE_CLASSES[i % 5],
      ]),
    ),
  );
  writeFileSync(
    join(dir('soybean'), 'soybean.csv'),
    rCsv(
      ['Class', ...Array.from({ length: 35 }, (_, j) => `a.${j}`)],
      Array.from({ length: 683 }, (_, i) => [
        ['brown-spot', 'alternarialeaf-spot', 'frog-eye-leaf-spot', 'phytophthora-rot', 'anthracnose'][i % 5],
        ...Array.from({ length: 35 }, () => (rng.next() < 0.1 ? null : String(rng.int(4)))),
      ]),
    ),
  );
  writeFileSync(
    join(dir('house-votes'), 'house-votes.csv'),
    rCsv(
      ['Class', ...Array.from({ length: 16 }, (_, j) => `V${j + 1}`)],
      Array.from({ length: 435 }, (_, i) => [
        i % 5 < 2 ? 'republican' : 'democrat',
        // A few votes most members cast one way (so some conjunctions of ordinary values are rare), the rest
        // along party lines.
        ...Array.from({ length: 16 }, (_, j) =>
          rng.next() < 0.05
            ? null
            : j < 4
              ? rng.next() < 0.13
                ? 'y'
                : 'n'
              : rng.next() < 0.9 === i % 5 < 2
                ? 'y'
                : 'n',
        ),
      ]),
    ),
  );
  writeFileSync(
    join(dir('vehicle'), 'vehicle.csv'),
    rCsv(
      ['Comp', 'Circ', 'D.Circ', 'Rad.Ra', 'Pr.Axis.Ra', 'Max.L.Ra', 'Scat.Ra', 'Elong', 'Class'],
      Array.from({ length: 846 }, (_, i) => [
        ...Array.from({ length: 8 }, () => 30 + rng.int(200)),
        ['bus', 'opel', 'saab', 'van'][i % 4],
      ]),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen7Files(join(tmp, 'data'));
const pools = new Map(FROZEN7.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen7 readers', () => {
  it('read every frozen7 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN7) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    for (const [d, files] of [
      ['fortunes-it', FORTUNE_IT_FILES],
      ['fortunes-pl', FORTUNE_PL_FILES],
    ] as const) {
      const text = pools.get(d)!;
      // Each file a class; the records outside 20-300 characters are left out; Polish letters kept.
      expect(text.rows).toHaveLength(130 * files.length);
      expect(new Set(text.rows.map((r) => r[text.label]))).toEqual(new Set(files));
      expect(text.rows.every((r) => String(r[text.text!]).includes('ł'))).toBe(true);
    }
    const sat = pools.get('satellite')!;
    expect(sat.label).toBe('classes');
    expect(sat.numeric).toHaveLength(36);
    expect(sat.numeric[35]).toBe('x.36');
    expect(new Set(sat.rows.map((r) => r.classes))).toContain('damp grey soil');
    const soy = pools.get('soybean')!;
    expect(soy.label).toBe('Class');
    expect(soy.features).toHaveLength(35);
    expect(soy.rows.some((r) => r['a.0'] === '')).toBe(true);
    const votes = pools.get('house-votes')!;
    expect(votes.label).toBe('Class');
    expect(votes.numeric).toEqual([]);
    expect(votes.features).toHaveLength(16);
    const vehicle = pools.get('vehicle')!;
    expect(vehicle.numeric).toContain('D.Circ');
    expect(new Set(vehicle.rows.map((r) => r.Class))).toEqual(new Set(['bus', 'opel', 'saab', 'van']));
    // The real pools (DATASETS.md): every one holds a 100-row trusted set within 40% of its rows.
    expect(Object.fromEntries(FROZEN7.map((d) => [d, POOL_ROWS[d]]))).toEqual({
      'fortunes-it': 6970,
      'fortunes-pl': 3310,
      satellite: 6435,
      soybean: 683,
      'house-votes': 435,
      vehicle: 846,
    });
  });
});

partCellsGenerate('frozen7', pools, tmp);
