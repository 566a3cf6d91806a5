/**
 * The eighth frozen part of the benchmark matrix (frozen8): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen8-data.sh writes, and
 * every frozen8 cell generates a valid trusted file, incoming file and truth.json. On small files written here
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
  FORTUNE_CS_FILES,
  FORTUNE_RU_FILES,
  MATRIX_DATASETS,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen8-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN8 = datasetsOf('frozen8');

describe('frozen8 split', () => {
  it('leaves the frozen7 sample exactly as it was, and the frozen8 sample is fixed as first drawn', () => {
    // frozen7 as on main before frozen8 existed (41 cells); earlier parts: matrix-frozen2.test.ts to
    // matrix-frozen7.test.ts.
    expect(sampleCells('frozen7')).toHaveLength(41);
    expect(cellHash('frozen7')).toBe('64bc64b7307620eb37ea50040da8d2388c08d5a57cbcf14acaf7ba2959ccdbc1');
    expect(sampleCells('frozen8')).toHaveLength(41);
    expect(cellHash('frozen8')).toBe('815d80820f9828c376b254440d49059b671c19d8c0ff586abc09c9e3cc106f64');
  });

  wholeDatasetPartTests(
    'frozen8',
    ['fortunes-ru', 'fortunes-cs', 'letter-recognition', 'ionosphere', 'shuttle', 'income-survey'],
    ['dev', 'frozen', 'frozen2', 'frozen3', 'frozen4', 'frozen5', 'frozen6', 'frozen7'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261207);

const WORDS = Array.from({ length: 300 }, (_, i) => `слово${(i * 7919) % 3001}ř`);
const sentence = (marker: string) =>
  `${Array.from({ length: 4 + rng.int(12) }, () => rng.pick(WORDS)).join(' ')} ${marker}.`;

/** A fortune file: records separated by lines holding only "%", one too short and one too long to keep. */
const fortuneFile = (marker: string, n: number) =>
  `${[...Array.from({ length: n }, () => sentence(marker)), 'коротко', 'длинно '.repeat(80)].join('\n%\n')}\n%\n`;

const INCOME_BANDS = ['-10.000)', '[10.000-15.000)', '[25.000-30.000)', '[50.000-75.000)', '[75.000-'];
const SHUTTLE_CLASSES = ['Rad.Flow', 'High', 'Bypass', 'Fpv.Open', 'Fpv.Close', 'Bpv.Open', 'Bpv.Close'];
/** Rows per 200 of each shuttle class: heavily imbalanced, as the data (most rows one class, two of a handful). */
const SHUTTLE_SHARES = [150, 30, 12, 4, 2, 1, 1];
const shuttleClass = (i: number) => {
  let k = i % 200;
  for (const [c, n] of SHUTTLE_SHARES.entries()) {
    if (k < n) return SHUTTLE_CLASSES[c];
    k -= n;
  }
  throw new Error('shares add up to 200');
};

function writeFrozen8Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen8', n), { recursive: true });
    return join(root, 'frozen8', n);
  };
  for (const f of FORTUNE_RU_FILES)
    writeFileSync(join(dir('fortunes-ru'), f), fortuneFile(f.slice(0, 3), 130));
  for (const f of FORTUNE_CS_FILES)
    writeFileSync(join(dir('fortunes-cs'), f), fortuneFile(f.slice(0, 3), 130));
  const LETTER_FEATURES = ['x.box', 'y.box', 'width', 'high', 'onpix', 'x.bar', 'y.bar', 'x2bar', 'y2bar'];
  writeFileSync(
    join(dir('letter-recognition'), 'letter-recognition.csv'),
    rCsv(
      ['lettr', ...LETTER_FEATURES],
      Array.from({ length: 1500 }, (_, i) => [
        String.fromCharCode(65 + (i % 26)),
        ...LETTER_FEATURES.map(() => rng.int(16)),
      ]),
    ),
  );
  writeFileSync(
    join(dir('ionosphere'), 'ionosphere.csv'),
    rCsv(
      [...Array.from({ length: 34 }, (_, j) => `V${j + 1}`), 'Class'],
      Array.from({ length: 351 }, (_, i) => [
        rng.next() < 0.9 ? '1' : '0',
        '0',
        ...Array.from({ length: 32 }, () => Math.round((2 * rng.next() - 1) * 1e5) / 1e5),
        i % 3 ? 'good' : 'bad',
      ]),
    ),
  );
  writeFileSync(
    join(dir('shuttle'), 'shuttle.csv'),
    rCsv(
      [...Array.from({ length: 9 }, (_, j) => `V${j + 1}`), 'Class'],
      Array.from({ length: 2000 }, (_, i) => [
        ...Array.from({ length: 9 }, () => rng.int(120) - 20),
        shuttleClass(i),
      ]),
    ),
  );
  writeFileSync(
    join(dir('income-survey'), 'income-survey.csv'),
    rCsv(
      ['INCOME', 'SEX', 'MARITAL.STATUS', 'AGE', 'EDUCATION', 'HOUSEHOLD.SIZE', 'LANGUAGE'],
      Array.from({ length: 1200 }, (_, i) => [
        INCOME_BANDS[i % 5],
        rng.pick(['M', 'F']),
        // Coded categoricals of 4-6 levels each: ordinary values whose three-way conjunctions are rare.
        rng.pick(['Married', 'Together', 'Single, never married', 'Divorced or separated']),
        rng.pick(['18-24', '25-34', '35-44', '45-54', '55-64', '65 and Over']),
        rng.pick(['Grade 9 to 11', 'High school graduate', '1 to 3 years of college', 'College graduate']),
        rng.pick(['One', 'Two', 'Three', 'Four', 'Five']),
        rng.next() < 0.1 ? null : rng.pick(['English', 'Spanish']),
      ]),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen8Files(join(tmp, 'data'));
const pools = new Map(FROZEN8.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen8 readers', () => {
  it('read every frozen8 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN8) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    for (const [d, files] of [
      ['fortunes-ru', FORTUNE_RU_FILES],
      ['fortunes-cs', FORTUNE_CS_FILES],
    ] as const) {
      const text = pools.get(d)!;
      // Each file a class; the records outside 20-300 characters are left out; Cyrillic and Czech letters kept.
      expect(text.rows).toHaveLength(130 * files.length);
      expect(new Set(text.rows.map((r) => r[text.label]))).toEqual(new Set(files));
      expect(text.rows.every((r) => /слово\d+ř/.test(String(r[text.text!])))).toBe(true);
    }
    const letters = pools.get('letter-recognition')!;
    expect(letters.label).toBe('lettr');
    expect(letters.numeric).toContain('x.box');
    expect(new Set(letters.rows.map((r) => r.lettr)).size).toBe(26);
    const iono = pools.get('ionosphere')!;
    expect(iono.label).toBe('Class');
    expect(iono.numeric).toHaveLength(34);
    expect(iono.rows.every((r) => r.V2 === 0)).toBe(true);
    const shuttle = pools.get('shuttle')!;
    expect(shuttle.numeric).toHaveLength(9);
    expect(new Set(shuttle.rows.map((r) => r.Class))).toEqual(new Set(SHUTTLE_CLASSES));
    const income = pools.get('income-survey')!;
    expect(income.label).toBe('INCOME');
    expect(income.numeric).toEqual([]);
    expect(income.features).toContain('MARITAL.STATUS');
    expect(income.rows.some((r) => r.LANGUAGE === '')).toBe(true);
    expect(income.rows.some((r) => r['MARITAL.STATUS'] === 'Single, never married')).toBe(true);
    expect(new Set(income.rows.map((r) => r.INCOME))).toEqual(new Set(INCOME_BANDS));
    // The real pools (DATASETS.md): every one holds a 100-row trusted set within 40% of its rows.
    expect(Object.fromEntries(FROZEN8.map((d) => [d, POOL_ROWS[d]]))).toEqual({
      'fortunes-ru': 3946,
      'fortunes-cs': 5361,
      'letter-recognition': 20000,
      ionosphere: 351,
      shuttle: 58000,
      'income-survey': 8993,
    });
  });
});

partCellsGenerate('frozen8', pools, tmp);
