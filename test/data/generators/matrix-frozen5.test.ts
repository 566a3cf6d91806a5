/**
 * The fifth frozen part of the benchmark matrix (frozen5): whole datasets only, the other parts' samples
 * exactly as they were, its readers parse files in the formats bench/audit-matrix/frozen5-data.sh writes, and
 * every frozen5 cell generates a valid trusted file, incoming file and truth.json. On small files written here
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
  MATRIX_DATASETS,
  WORDNET_LEXFILES,
} from '../../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';
import { datasetsOf, partCellsGenerate, wholeDatasetPartTests } from './whole-dataset-part.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen5-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FROZEN5 = datasetsOf('frozen5');

describe('frozen5 split', () => {
  it('leaves the frozen4 sample exactly as it was, and the frozen5 sample is fixed as first drawn', () => {
    // frozen4 as on main before frozen5 existed (41 cells); frozen3: matrix-frozen4.test.ts; frozen, frozen2:
    // matrix-frozen2.test.ts.
    expect(sampleCells('frozen4')).toHaveLength(41);
    expect(cellHash('frozen4')).toBe('5614618b56ad4565e93f76a306b2b7ebfc6ad6baa97d413f4eb19dfd6e46d047');
    expect(sampleCells('frozen5')).toHaveLength(41);
    expect(cellHash('frozen5')).toBe('5e7a22c6cd6707e04722eedb37a4e082889a06826d2d9186fb0c7eefdccf651a');
  });

  wholeDatasetPartTests(
    'frozen5',
    ['wordnet-nouns', 'penguins', 'titanic', 'hpc-jobs', 'cell-segmentation', 'cps1985'],
    ['dev', 'frozen', 'frozen2', 'frozen3', 'frozen4'],
  );
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261206);

const WORDS = Array.from({ length: 400 }, (_, i) => `w${(i * 7919) % 4001}x`);
const zipfWord = () => WORDS[Math.min(WORDS.length - 1, Math.floor(WORDS.length * rng.next() ** 3))];
/** A gloss as WordNet writes one: a definition, sometimes examples in double quotes after semicolons. */
function gloss(marker: string): string {
  const def = `${Array.from({ length: 4 + rng.int(10) }, zipfWord).join(' ')} ${marker}`;
  return rng.next() < 0.4 ? `${def}; "${zipfWord()} ${zipfWord()} ${marker}"` : def;
}

/** 56 numeric measurement names like modeldata's cells (`*_ch_1` ... `*_ch_4`). */
const CELL_COLUMNS = Array.from({ length: 56 }, (_, i) => `measure_${i}_ch_${1 + (i % 4)}`);

function writeFrozen5Files(root: string): DataPaths {
  const dir = (n: string) => {
    mkdirSync(join(root, 'frozen5', n), { recursive: true });
    return join(root, 'frozen5', n);
  };
  const glosses: Array<[string, string]> = Array.from({ length: 1500 }, (_, i) => {
    const lex = WORDNET_LEXFILES[i % WORDNET_LEXFILES.length];
    return [gloss(lex.slice(5)), lex];
  });
  // Glosses outside 20-300 characters, which the reader leaves out.
  glosses.push(['genus of fish', 'noun.animal'], [`${'a very long gloss '.repeat(20)}`, 'noun.plant']);
  writeFileSync(join(dir('wordnet-nouns'), 'wordnet-nouns.csv'), rCsv(['gloss', 'lexfile'], glosses));
  writeFileSync(
    join(dir('penguins'), 'penguins.csv'),
    rCsv(
      [
        'species',
        'island',
        'bill_length_mm',
        'bill_depth_mm',
        'flipper_length_mm',
        'body_mass_g',
        'sex',
        'year',
      ],
      Array.from({ length: 344 }, (_, i) => {
        const none = i === 3 || i === 271;
        return [
          ['Adelie', 'Gentoo', 'Adelie', 'Chinstrap', 'Gentoo'][i % 5],
          rng.pick(['Biscoe', 'Dream', 'Torgersen']),
          none ? null : Number((32 + rng.next() * 27).toFixed(1)),
          none ? null : Number((13 + rng.next() * 8).toFixed(1)),
          none ? null : 172 + rng.int(60),
          none ? null : 2700 + 25 * rng.int(144),
          none || rng.next() < 0.03 ? null : rng.pick(['female', 'male']),
          2007 + rng.int(3),
        ];
      }),
    ),
  );
  writeFileSync(
    join(dir('titanic'), 'titanic.csv'),
    rCsv(
      ['survived', 'sex', 'age', 'passengerClass'],
      // Ages missing mostly in third class, as in the data (so a rare conjunction of ordinary values exists).
      Array.from({ length: 1309 }, (_, i) => {
        const cls = rng.pick(['1st', '2nd', '3rd']);
        return [
          i % 5 < 2 ? 'yes' : 'no',
          rng.pick(['female', 'male']),
          rng.next() < (cls === '3rd' ? 0.4 : 0.04) ? null : rng.next() < 0.02 ? 0.91670001 : 1 + rng.int(25),
          cls,
        ];
      }),
    ),
  );
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  writeFileSync(
    join(dir('hpc-jobs'), 'hpc-jobs.csv'),
    rCsv(
      ['protocol', 'compounds', 'input_fields', 'iterations', 'num_pending', 'hour', 'day', 'class'],
      Array.from({ length: 1000 }, (_, i) => [
        rng.pick(['A', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O']),
        20 + rng.int(5000),
        10 + rng.int(2000),
        rng.pick([10, 20, 50, 100]),
        rng.next() < 0.8 ? 0 : rng.int(5000),
        Number((rng.next() * 24).toFixed(6)),
        rng.pick(days),
        ['VF', 'F', 'VF', 'M', 'F', 'VF', 'L', 'VF'][i % 8],
      ]),
    ),
  );
  writeFileSync(
    join(dir('cell-segmentation'), 'cell-segmentation.csv'),
    rCsv(
      ['class', ...CELL_COLUMNS],
      Array.from({ length: 800 }, (_, i) => [
        i % 3 ? 'PS' : 'WS',
        ...CELL_COLUMNS.map((_, j) =>
          j % 5 ? Number((rng.next() * 10 ** (j % 4)).toPrecision(8)) : rng.int(900),
        ),
      ]),
    ),
  );
  const occupations = ['worker', 'technical', 'services', 'office', 'sales', 'management'];
  writeFileSync(
    join(dir('cps1985'), 'cps1985.csv'),
    rCsv(
      [
        'wage',
        'education',
        'experience',
        'age',
        'ethnicity',
        'region',
        'gender',
        'occupation',
        'sector',
        'union',
        'married',
      ],
      Array.from({ length: 534 }, (_, i) => {
        const education = 6 + rng.int(13);
        const age = 18 + rng.int(46);
        return [
          Number((1 + rng.next() * 40).toFixed(2)),
          education,
          Math.max(0, age - education - 6),
          age,
          rng.pick(['cauc', 'hispanic', 'other']),
          rng.pick(['south', 'other']),
          rng.pick(['male', 'female']),
          occupations[i % 6],
          rng.pick(['manufacturing', 'construction', 'other']),
          rng.pick(['no', 'yes']),
          rng.pick(['no', 'yes']),
        ];
      }),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen5Files(join(tmp, 'data'));
const pools = new Map(FROZEN5.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));

describe('frozen5 readers', () => {
  it('read every frozen5 dataset with its label, kind, column names as the data has them, numbers and missing cells', () => {
    for (const d of FROZEN5) expect(pools.get(d)!.kind).toBe(DATASET_KIND[d]);
    const text = pools.get('wordnet-nouns')!;
    expect(text.text).toBe('gloss');
    expect(text.label).toBe('lexfile');
    // The two glosses outside 20-300 characters are left out; quotes inside a gloss are read back whole.
    expect(text.rows).toHaveLength(1500);
    expect(new Set(text.rows.map((r) => r.lexfile))).toEqual(new Set(WORDNET_LEXFILES));
    expect(text.rows.some((r) => /; "[^"]+"$/.test(String(r.gloss)))).toBe(true);
    const penguins = pools.get('penguins')!;
    expect(penguins.label).toBe('species');
    expect(penguins.numeric).toEqual([
      'bill_length_mm',
      'bill_depth_mm',
      'flipper_length_mm',
      'body_mass_g',
      'year',
    ]);
    expect(penguins.rows.filter((r) => r.body_mass_g === '')).toHaveLength(2);
    expect(penguins.rows.some((r) => r.sex === '')).toBe(true);
    const titanic = pools.get('titanic')!;
    expect(titanic.features).toEqual(['sex', 'age', 'passengerClass']);
    expect(titanic.numeric).toEqual(['age']);
    expect(titanic.rows.some((r) => r.age === '')).toBe(true);
    expect(titanic.rows.some((r) => r.age === 0.91670001)).toBe(true);
    const keys = titanic.rows.map((r) => JSON.stringify(r));
    expect(new Set(keys).size).toBeLessThan(keys.length / 2); // natural exact duplicates
    const hpc = pools.get('hpc-jobs')!;
    expect(hpc.label).toBe('class');
    expect(hpc.numeric).toEqual(['compounds', 'input_fields', 'iterations', 'num_pending', 'hour']);
    expect(new Set(hpc.rows.map((r) => r.class))).toEqual(new Set(['VF', 'F', 'M', 'L']));
    const seg = pools.get('cell-segmentation')!;
    expect(seg.features).toEqual(CELL_COLUMNS);
    expect(seg.numeric).toEqual(CELL_COLUMNS);
    const cps = pools.get('cps1985')!;
    expect(cps.label).toBe('occupation');
    expect(cps.numeric).toEqual(['wage', 'education', 'experience', 'age']);
    expect(new Set(cps.rows.map((r) => r.occupation)).size).toBe(6);
    // The real pools (DATASETS.md): every one holds a 100-row trusted set within 40% of its rows.
    expect(Object.fromEntries(FROZEN5.map((d) => [d, POOL_ROWS[d]]))).toEqual({
      'wordnet-nouns': 24632,
      penguins: 344,
      titanic: 1309,
      'hpc-jobs': 4331,
      'cell-segmentation': 2019,
      cps1985: 534,
    });
  });
});

partCellsGenerate('frozen5', pools, tmp);
