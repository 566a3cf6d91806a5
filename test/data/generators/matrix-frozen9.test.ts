/**
 * The ninth frozen part of the benchmark matrix (frozen9): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen9-data.sh writes, and
 * every frozen9 cell generates a valid trusted file, incoming file and truth.json. On small files written here
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
  FORTUNE_MARIO_FILES,
  MATRIX_DATASETS,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen9-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN9 = datasetsOf('frozen9');

describe('frozen9 split', () => {
  it('leaves the frozen8 sample exactly as it was, and the frozen9 sample is fixed as first drawn', () => {
    expect(sampleCells('frozen8')).toHaveLength(41);
    expect(cellHash('frozen8')).toBe('815d80820f9828c376b254440d49059b671c19d8c0ff586abc09c9e3cc106f64');
    expect(sampleCells('frozen9')).toHaveLength(40);
    expect(cellHash('frozen9')).toBe('6d073c71eea1b711152a5940318f4b6f032441c4749e4097093e42a208259cd3');
  });

  wholeDatasetPartTests(
    'frozen9',
    ['fortunes-mario', 'fine-foods', 'vowel', 'sonar', 'cowles', 'lending-club'],
    ['dev', 'frozen', 'frozen2', 'frozen3', 'frozen4', 'frozen5', 'frozen6', 'frozen7', 'frozen8'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261207);

const WORDS = Array.from({ length: 300 }, (_, i) => `palavra${(i * 7919) % 3001}ção`);
const sentence = (marker: string) =>
  `${Array.from({ length: 4 + rng.int(12) }, () => rng.pick(WORDS)).join(' ')} ${marker}.`;

/** A fortune file: records separated by lines holding only "%", one too short and one too long to keep. */
const fortuneFile = (marker: string, n: number) =>
  `${[...Array.from({ length: n }, () => sentence(marker)), 'curto', 'longo '.repeat(80)].join('\n%\n')}\n%\n`;

/** Eleven vowels whose names differ by case only, as Vowel's classes do. */
const VOWELS = ['hid', 'hId', 'hEd', 'hAd', 'hYd', 'had', 'hOd', 'hod', 'hUd', 'hud', 'hed'];

function writeFrozen9Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen9', n), { recursive: true });
    return join(root, 'frozen9', n);
  };
  for (const f of FORTUNE_MARIO_FILES)
    writeFileSync(join(dir('fortunes-mario'), f), fortuneFile(f.slice(0, 3), 130));
  writeFileSync(
    join(dir('fine-foods'), 'fine-foods.csv'),
    rCsv(
      ['product', 'review', 'score'],
      Array.from({ length: 900 }, (_, i) => [
        `B00${1000 + (i % 300)}`,
        // Reviews as written: HTML line breaks, runs of spaces, some too long to keep.
        i % 10 === 9
          ? 'long review '.repeat(40)
          : `${rng.pick(WORDS)} ${i % 3 ? 'great' : 'meh'} ${rng.pick(WORDS)}.<br />  ${rng.pick(WORDS)}`,
        i % 3 ? 'great' : 'other',
      ]),
    ),
  );
  writeFileSync(
    join(dir('vowel'), 'vowel.csv'),
    rCsv(
      ['V1', ...Array.from({ length: 9 }, (_, j) => `V${j + 2}`), 'Class'],
      Array.from({ length: 990 }, (_, i) => [
        String(Math.floor(i / 66)),
        ...Array.from({ length: 9 }, () => Math.round((6 * rng.next() - 3) * 1e3) / 1e3),
        VOWELS[i % 11],
      ]),
    ),
  );
  writeFileSync(
    join(dir('sonar'), 'sonar.csv'),
    rCsv(
      [...Array.from({ length: 60 }, (_, j) => `V${j + 1}`), 'Class'],
      Array.from({ length: 208 }, (_, i) => [
        ...Array.from({ length: 60 }, () => Math.round(rng.next() * 1e4) / 1e4),
        i % 2 ? 'M' : 'R',
      ]),
    ),
  );
  writeFileSync(
    join(dir('cowles'), 'cowles.csv'),
    rCsv(
      ['neuroticism', 'extraversion', 'sex', 'volunteer'],
      Array.from({ length: 1421 }, (_, i) => [
        rng.int(25),
        rng.int(24),
        rng.pick(['female', 'male']),
        i % 5 < 2 ? 'yes' : 'no',
      ]),
    ),
  );
  writeFileSync(
    join(dir('lending-club'), 'lending-club.csv'),
    rCsv(
      [
        'funded_amnt',
        'term',
        'int_rate',
        'sub_grade',
        'addr_state',
        'annual_inc',
        'emp_length',
        'revol_util',
        'Class',
      ],
      Array.from({ length: 1500 }, (_, i) => [
        1000 * (1 + rng.int(35)),
        rng.pick(['term_36', 'term_60']),
        Math.round((5 + 20 * rng.next()) * 100) / 100,
        rng.pick(['A1', 'B3', 'C4', 'D2', 'E5']),
        rng.pick(['CA', 'CT', 'NY', 'TX']),
        rng.next() < 0.05 ? null : 20000 + rng.int(100000),
        rng.pick(['emp_lt_1', 'emp_5', 'emp_ge_10', 'emp_unk']),
        Math.round(100 * rng.next() * 10) / 10,
        i % 20 ? 'good' : 'bad',
      ]),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen9Files(join(tmp, 'data'));
const pools = new Map(FROZEN9.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen9 readers', () => {
  it('read every frozen9 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN9) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    const mario = pools.get('fortunes-mario')!;
    // Each file a class; the records outside 20-300 characters are left out; Portuguese letters kept.
    expect(mario.rows).toHaveLength(130 * FORTUNE_MARIO_FILES.length);
    expect(new Set(mario.rows.map((r) => r[mario.label]))).toEqual(new Set(FORTUNE_MARIO_FILES));
    expect(mario.rows.every((r) => /palavra\d+ção/.test(String(r[mario.text!])))).toBe(true);
    const foods = pools.get('fine-foods')!;
    expect(foods.text).toBe('review');
    expect(foods.rows).toHaveLength(810);
    expect(foods.rows.every((r) => !/\s\s/.test(String(r.review)))).toBe(true);
    expect(foods.rows.some((r) => String(r.review).includes('<br />'))).toBe(true);
    const vowel = pools.get('vowel')!;
    // Class names that differ by case only stay eleven classes; the speaker's code reads as a number.
    expect(new Set(vowel.rows.map((r) => r.Class))).toEqual(new Set(VOWELS));
    expect(vowel.numeric).toHaveLength(10);
    expect(pools.get('sonar')!.numeric).toHaveLength(60);
    const cowles = pools.get('cowles')!;
    expect(cowles.label).toBe('volunteer');
    expect(cowles.numeric).toEqual(['neuroticism', 'extraversion']);
    const loans = pools.get('lending-club')!;
    expect(loans.label).toBe('Class');
    expect(loans.features).toContain('sub_grade');
    expect(loans.rows.some((r) => r.annual_inc === '' || r.annual_inc === null)).toBe(true);
    expect(Object.fromEntries(FROZEN9.map((d) => [d, POOL_ROWS[d]]))).toEqual({
      'fortunes-mario': 2939,
      'fine-foods': 2711,
      vowel: 990,
      sonar: 208,
      cowles: 1421,
      'lending-club': 9857,
    });
  });
});

partCellsGenerate('frozen9', pools, tmp);
