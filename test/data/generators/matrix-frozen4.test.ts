/**
 * The fourth frozen part of the benchmark matrix (frozen4): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen4-data.sh writes, and
 * every frozen4 cell generates a valid trusted file, incoming file and truth.json. On small files written here
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
  FORTUNE_TOPIC_CLASSES,
  MATRIX_DATASETS,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen4-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN4 = datasetsOf('frozen4');

describe('frozen4 split', () => {
  it('leaves the frozen3 sample exactly as it was, and the frozen4 sample is fixed as first drawn', () => {
    // frozen3 as on main before frozen4 existed (42 cells); frozen, frozen2: matrix-frozen2.test.ts.
    expect(sampleCells('frozen3')).toHaveLength(42);
    expect(cellHash('frozen3')).toBe('4fc7825a6915031a3fe19e9748c8d244122ec335cb8803276cdb62807df765c2');
    expect(sampleCells('frozen4')).toHaveLength(41);
    expect(cellHash('frozen4')).toBe('5614618b56ad4565e93f76a306b2b7ebfc6ad6baa97d413f4eb19dfd6e46d047');
  });

  wholeDatasetPartTests(
    'frozen4',
    ['arrests', 'chile', 'beps', 'wells', 'contagious-diseases', 'fortunes-topics'],
    ['dev', 'frozen', 'frozen2', 'frozen3'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261205);

const WORDS = Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 4001}x`);
const zipfWord = () => WORDS[Math.min(WORDS.length - 1, Math.floor(WORDS.length * rng.next() ** 3))];
function fortuneFile(n: number, marker: string): string {
  const rec = () =>
    `${Array.from({ length: 6 + rng.int(10) }, zipfWord).join(' ')} ${marker}.\n  -- ${zipfWord()}`;
  return `${Array.from({ length: n }, rec).join('\n%\n')}\n%\n`;
}

function writeFrozen4Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen4', n), { recursive: true });
    return join(root, 'frozen4', n);
  };
  const yn = () => rng.pick(['No', 'Yes']);
  writeFileSync(
    join(dir('arrests'), 'arrests.csv'),
    rCsv(
      ['released', 'colour', 'year', 'age', 'sex', 'employed', 'citizen', 'checks'],
      Array.from({ length: 900 }, (_, i) => [
        i % 6 ? 'Yes' : 'No',
        rng.pick(['Black', 'White']),
        1997 + rng.int(6),
        14 + rng.int(40),
        rng.pick(['Female', 'Male']),
        yn(),
        yn(),
        rng.int(7),
      ]),
    ),
  );
  writeFileSync(
    join(dir('chile'), 'chile.csv'),
    rCsv(
      ['region', 'population', 'sex', 'age', 'education', 'income', 'statusquo', 'vote'],
      Array.from({ length: 800 }, (_, i) => [
        rng.pick(['C', 'M', 'N', 'S', 'SA']),
        rng.pick([15000, 175000, 250000]),
        rng.pick(['F', 'M']),
        rng.next() < 0.01 ? null : 18 + rng.int(60),
        rng.next() < 0.01 ? null : rng.pick(['P', 'PS', 'S']),
        rng.next() < 0.03 ? null : rng.pick([2500, 7500, 15000, 35000, 75000]),
        rng.next() < 0.01 ? null : Number((rng.next() * 3 - 1.5).toFixed(5)),
        ['Y', 'N', 'U', 'A', 'Y', 'N'][i % 6],
      ]),
    ),
  );
  writeFileSync(
    join(dir('beps'), 'beps.csv'),
    rCsv(
      [
        'vote',
        'age',
        'economic.cond.national',
        'economic.cond.household',
        'Blair',
        'Hague',
        'Kennedy',
        'Europe',
        'political.knowledge',
        'gender',
      ],
      Array.from({ length: 700 }, (_, i) => [
        ['Labour', 'Conservative', 'Labour', 'Liberal Democrat'][i % 4],
        24 + rng.int(70),
        1 + rng.int(5),
        1 + rng.int(5),
        1 + rng.int(5),
        1 + rng.int(5),
        1 + rng.int(5),
        1 + rng.int(11),
        rng.int(4),
        rng.pick(['female', 'male']),
      ]),
    ),
  );
  writeFileSync(
    join(dir('wells'), 'wells.csv'),
    rCsv(
      ['switch', 'arsenic', 'distance', 'education', 'association'],
      Array.from({ length: 700 }, (_, i) => [
        i % 4 ? 'yes' : 'no',
        Number((0.5 + rng.next() * 9).toFixed(2)),
        Number((rng.next() * 300).toFixed(3)),
        rng.int(18),
        rng.pick(['no', 'yes']),
      ]),
    ),
  );
  const diseases = ['Hepatitis A', 'Measles', 'Mumps', 'Pertussis', 'Polio', 'Rubella', 'Smallpox'];
  writeFileSync(
    join(dir('contagious-diseases'), 'contagious-diseases.csv'),
    rCsv(
      ['disease', 'state', 'year', 'weeks_reporting', 'count', 'population'],
      Array.from({ length: 900 }, (_, i) => [
        diseases[i % 7],
        rng.pick(['Alabama', 'Alaska', 'Arizona', 'New York', 'Ohio']),
        1928 + rng.int(84),
        rng.int(53),
        rng.int(5000),
        rng.next() < 0.02 ? null : 80000 + rng.int(20_000_000),
      ]),
    ),
  );
  for (const c of FORTUNE_TOPIC_CLASSES) writeFileSync(join(dir('fortunes-topics'), c), fortuneFile(100, c));
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen4Files(join(tmp, 'data'));
const pools = new Map(FROZEN4.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen4 readers', () => {
  it('read every frozen4 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN4) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    const arrests = pools.get('arrests')!;
    expect(arrests.label).toBe('released');
    expect(arrests.numeric).toEqual(['year', 'age', 'checks']);
    const chile = pools.get('chile')!;
    expect(new Set(chile.rows.map((r) => r.vote))).toEqual(new Set(['Y', 'N', 'U', 'A']));
    expect(chile.numeric).toEqual(['population', 'age', 'income', 'statusquo']);
    expect(chile.rows.some((r) => r.income === '')).toBe(true);
    expect(chile.rows.some((r) => r.education === '')).toBe(true);
    const beps = pools.get('beps')!;
    expect(beps.features).toContain('economic.cond.national');
    expect(beps.numeric).not.toContain('gender');
    expect(pools.get('wells')!.numeric).toEqual(['arsenic', 'distance', 'education']);
    const dis = pools.get('contagious-diseases')!;
    expect(dis.numeric).toEqual(['year', 'weeks_reporting', 'count', 'population']);
    expect(new Set(dis.rows.map((r) => r.disease)).size).toBe(7);
    const text = pools.get('fortunes-topics')!;
    expect(text.text).toBe('saying');
    expect(text.rows).toHaveLength(700);
    expect(new Set(text.rows.map((r) => r.topic))).toEqual(new Set(FORTUNE_TOPIC_CLASSES));
    for (const d of FROZEN4) expect(POOL_ROWS[d]).toBeGreaterThan(1000);
  });
});

partCellsGenerate('frozen4', pools, tmp);
