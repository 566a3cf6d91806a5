/**
 * The sixth frozen part of the benchmark matrix (frozen6): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen6-data.sh writes, and
 * every frozen6 cell generates a valid trusted file, incoming file and truth.json. On small files written here
 * (never the benchmark data folder; nothing audited).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POOL_ROWS, sampleCells } from '../../../bench/audit-matrix/cells.js';
import {
  AUSTEN_BOOKS,
  DATASET_KIND,
  type DataPaths,
  MATRIX_DATASETS,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN6 = datasetsOf('frozen6');

describe('frozen6 split', () => {
  it('leaves the frozen5 sample exactly as it was, and the frozen6 sample is fixed as first drawn', () => {
    // frozen5 as on main before frozen6 existed (41 cells); frozen4: matrix-frozen5.test.ts; frozen3:
    // matrix-frozen4.test.ts; frozen, frozen2: matrix-frozen2.test.ts.
    expect(sampleCells('frozen5')).toHaveLength(41);
    expect(cellHash('frozen5')).toBe('5e7a22c6cd6707e04722eedb37a4e082889a06826d2d9186fb0c7eefdccf651a');
    expect(sampleCells('frozen6')).toHaveLength(41);
    expect(cellHash('frozen6')).toBe('90fcba255c2db86b9d97b37efaec9e9804a29cd9275e13cdf37393a4a75e03cb');
  });

  wholeDatasetPartTests(
    'frozen6',
    ['austen-paragraphs', 'wvs', 'swiss-labor', 'credit-data', 'credit-card', 'salaries'],
    ['dev', 'frozen', 'frozen2', 'frozen3', 'frozen4', 'frozen5'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261207);

const WORDS = Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 4001}x`);
const zipfWord = () => WORDS[Math.min(WORDS.length - 1, Math.floor(WORDS.length * rng.next() ** 3))];
/** A paragraph as a novel has one: narration, or dialogue in double quotes with a speech tag. */
function paragraph(marker: string): string {
  const words = () => Array.from({ length: 4 + rng.int(14) }, zipfWord).join(' ');
  return rng.next() < 0.5
    ? `"${words()}, ${marker}," said ${zipfWord()}; "${words()}--"`
    : `${words()} ${marker}. ${words()}.`;
}

/** AER CreditCard's columns, the label `card` first, as the data has them. */
const CARD_COLUMNS = [
  'card',
  'reports',
  'age',
  'income',
  'share',
  'expenditure',
  'owner',
  'selfemp',
  'dependents',
  'months',
  'majorcards',
  'active',
];

function writeFrozen6Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen6', n), { recursive: true });
    return join(root, 'frozen6', n);
  };
  const paragraphs: Array<[string, string]> = Array.from({ length: 1500 }, (_, i) => {
    const book = AUSTEN_BOOKS[i % AUSTEN_BOOKS.length];
    return [paragraph(book.slice(0, 4).toLowerCase()), book];
  });
  // Paragraphs outside 20-300 characters, which the reader leaves out.
  paragraphs.push(['by Jane Austen', 'Emma'], [`${'a very long paragraph '.repeat(20)}`, 'Persuasion']);
  writeFileSync(
    join(dir('austen-paragraphs'), 'austen-paragraphs.csv'),
    rCsv(['paragraph', 'book'], paragraphs),
  );
  writeFileSync(
    join(dir('wvs'), 'wvs.csv'),
    rCsv(
      ['poverty', 'religion', 'degree', 'country', 'age', 'gender'],
      Array.from({ length: 1500 }, (_, i) => [
        ['Too Little', 'About Right', 'Too Little', 'Too Much', 'About Right'][i % 5],
        rng.pick(['no', 'yes']),
        rng.pick(['no', 'yes']),
        rng.pick(['Australia', 'Norway', 'Sweden', 'USA']),
        18 + rng.int(20),
        rng.pick(['female', 'male']),
      ]),
    ),
  );
  writeFileSync(
    join(dir('swiss-labor'), 'swiss-labor.csv'),
    rCsv(
      ['participation', 'income', 'age', 'education', 'youngkids', 'oldkids', 'foreign'],
      Array.from({ length: 872 }, (_, i) => [
        i % 9 < 4 ? 'yes' : 'no',
        Number((9.5 + rng.next() * 3).toFixed(6)),
        Number((2 + rng.next() * 4.2).toFixed(1)),
        1 + rng.int(21),
        rng.next() < 0.8 ? 0 : 1 + rng.int(3),
        rng.int(5),
        rng.next() < 0.25 ? 'yes' : 'no',
      ]),
    ),
  );
  writeFileSync(
    join(dir('credit-data'), 'credit-data.csv'),
    rCsv(
      [
        'Status',
        'Seniority',
        'Home',
        'Time',
        'Age',
        'Marital',
        'Records',
        'Job',
        'Expenses',
        'Income',
        'Assets',
        'Debt',
        'Amount',
        'Price',
      ],
      Array.from({ length: 1200 }, (_, i) => [
        i % 7 < 2 ? 'bad' : 'good',
        rng.int(40),
        rng.next() < 0.01 ? null : rng.pick(['ignore', 'other', 'owner', 'parents', 'priv', 'rent']),
        rng.pick([12, 24, 36, 48, 60]),
        18 + rng.int(50),
        rng.next() < 0.005 ? null : rng.pick(['divorced', 'married', 'separated', 'single', 'widow']),
        rng.next() < 0.17 ? 'yes' : 'no',
        rng.next() < 0.005 ? null : rng.pick(['fixed', 'freelance', 'others', 'partime']),
        35 + rng.int(140),
        rng.next() < 0.09 ? null : 50 + rng.int(400),
        rng.next() < 0.01 ? null : rng.next() < 0.4 ? 0 : 500 * rng.int(40),
        rng.next() < 0.005 ? null : rng.next() < 0.8 ? 0 : 100 * rng.int(50),
        100 + 50 * rng.int(100),
        300 + rng.int(6000),
      ]),
    ),
  );
  writeFileSync(
    join(dir('credit-card'), 'credit-card.csv'),
    rCsv(
      CARD_COLUMNS,
      Array.from({ length: 1319 }, (_, i) => {
        const card = i % 9 < 2 ? 'no' : 'yes';
        const income = Number((1.5 + rng.next() * 8).toFixed(4));
        const expenditure = card === 'no' ? 0 : Number((rng.next() * 900).toPrecision(7));
        return [
          card,
          rng.next() < 0.8 ? 0 : 1 + rng.int(6),
          Number((18 + rng.next() * 50).toPrecision(7)),
          income,
          card === 'no' ? 0.0005 : Number((expenditure / (income * 833)).toPrecision(7)),
          expenditure,
          rng.pick(['no', 'yes']),
          rng.next() < 0.07 ? 'yes' : 'no',
          rng.int(5),
          rng.int(400),
          rng.next() < 0.8 ? 1 : 0,
          rng.int(30),
        ];
      }),
    ),
  );
  writeFileSync(
    join(dir('salaries'), 'salaries.csv'),
    rCsv(
      ['rank', 'discipline', 'yrs.since.phd', 'yrs.service', 'sex', 'salary'],
      Array.from({ length: 397 }, (_, i) => {
        const phd = 1 + rng.int(55);
        return [
          ['Prof', 'Prof', 'AsstProf', 'Prof', 'AssocProf', 'Prof'][i % 6],
          rng.pick(['A', 'B']),
          phd,
          Math.max(0, phd - rng.int(8)),
          rng.next() < 0.1 ? 'Female' : 'Male',
          57800 + 50 * rng.int(3000),
        ];
      }),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen6Files(join(tmp, 'data'));
const pools = new Map(FROZEN6.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen6 readers', () => {
  it('read every frozen6 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN6) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    const text = pools.get('austen-paragraphs')!;
    expect(text.text).toBe('paragraph');
    expect(text.label).toBe('book');
    // The two paragraphs outside 20-300 characters are left out; quotes inside a paragraph are read back whole.
    expect(text.rows).toHaveLength(1500);
    expect(new Set(text.rows.map((r) => r.book))).toEqual(new Set(AUSTEN_BOOKS));
    expect(text.rows.some((r) => /^"[^"]+," said \S+; "[^"]+--"$/.test(String(r.paragraph)))).toBe(true);
    const wvs = pools.get('wvs')!;
    expect(wvs.label).toBe('poverty');
    expect(wvs.features).toEqual(['religion', 'degree', 'country', 'age', 'gender']);
    expect(wvs.numeric).toEqual(['age']);
    expect(new Set(wvs.rows.map((r) => r.poverty))).toEqual(
      new Set(['Too Little', 'About Right', 'Too Much']),
    );
    const keys = wvs.rows.map((r) => JSON.stringify(r));
    expect(new Set(keys).size).toBeLessThan(keys.length); // natural exact duplicates
    const swiss = pools.get('swiss-labor')!;
    expect(swiss.label).toBe('participation');
    expect(swiss.numeric).toEqual(['income', 'age', 'education', 'youngkids', 'oldkids']);
    expect(swiss.features).toContain('foreign');
    const credit = pools.get('credit-data')!;
    expect(credit.label).toBe('Status');
    expect(credit.numeric).toEqual([
      'Seniority',
      'Time',
      'Age',
      'Expenses',
      'Income',
      'Assets',
      'Debt',
      'Amount',
      'Price',
    ]);
    expect(credit.rows.some((r) => r.Income === '')).toBe(true);
    expect(credit.rows.some((r) => r.Home === '')).toBe(true);
    const card = pools.get('credit-card')!;
    expect(card.label).toBe('card');
    expect(card.features).toEqual(CARD_COLUMNS.slice(1));
    expect(card.numeric).toEqual(CARD_COLUMNS.slice(1).filter((c) => c !== 'owner' && c !== 'selfemp'));
    expect(new Set(card.rows.map((r) => r.card))).toEqual(new Set(['no', 'yes']));
    const salaries = pools.get('salaries')!;
    expect(salaries.label).toBe('rank');
    expect(salaries.numeric).toEqual(['yrs.since.phd', 'yrs.service', 'salary']);
    expect(new Set(salaries.rows.map((r) => r.rank))).toEqual(new Set(['AsstProf', 'AssocProf', 'Prof']));
    // The real pools (DATASETS.md): every one holds a 100-row trusted set within 40% of its rows.
    expect(Object.fromEntries(FROZEN6.map((d) => [d, POOL_ROWS[d]]))).toEqual({
      'austen-paragraphs': 5365,
      wvs: 5381,
      'swiss-labor': 872,
      'credit-data': 4454,
      'credit-card': 1319,
      salaries: 397,
    });
  });
});

partCellsGenerate('frozen6', pools, tmp);
