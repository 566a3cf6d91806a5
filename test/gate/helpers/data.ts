/** Real datasets for the gate's tests (test/fixtures/data, see copy-from-shared.sh) as column-oriented batches and files. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADULT_COLUMNS as COLUMNS, ADULT_NUMERIC as NUMERIC } from '../../../src/data/generators/datasets.js';
import { mulberry32 } from '../../../src/data/learn/random.js';
import type { InputBatch } from '../../../src/gate/models/types.js';
import type { Column } from '../../../src/gate/table.js';
import { testData } from '../../helpers/cli.js';

// The Adult schema is defined once, in the generators; order matters here (the ONNX fixtures' feature order).
export const ADULT_COLUMNS: string[] = [...COLUMNS];
export const ADULT_NUMERIC: string[] = [...NUMERIC];
export const ADULT_CATEGORICAL = [
  'workclass',
  'education',
  'marital_status',
  'occupation',
  'relationship',
  'race',
  'sex',
  'native_country',
];

export interface Rows {
  header: string[];
  rows: string[][];
}

/** UCI Adult (32,561 rows), values trimmed; income is `<=50K` or `>50K`. */
export function adult(): Rows {
  const text = readFileSync(join(testData(), 'adult', 'adult.data'), 'utf8');
  const rows = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.split(',').map((v) => v.trim()));
  return { header: ADULT_COLUMNS, rows: rows.filter((r) => r.length === ADULT_COLUMNS.length) };
}

/** Adult split the way test/fixtures/gate/make_models.py splits it: every third row is trusted. */
export function adultSplit(): { trusted: Rows; pool: Rows } {
  const a = adult();
  return {
    trusted: { header: a.header, rows: a.rows.filter((_, i) => i % 3 === 0) },
    pool: { header: a.header, rows: a.rows.filter((_, i) => i % 3 !== 0) },
  };
}

/** SST-2 (sentence, label) from the clean splits of the ONION release. */
export function sst2(split: 'clean_train' | 'clean_dev' | 'clean_test' | 'badnets_train'): Rows {
  const text = readFileSync(join(testData(), 'sst2-badnets', `${split}.tsv`), 'utf8');
  const rows = text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [s, y] = l.split('\t');
      return [s.trim(), y.trim()];
    });
  return { header: ['sentence', 'label'], rows };
}

function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function writeCsv(path: string, t: Rows, extra?: { header: string; values: string[] }): void {
  const header = extra ? [...t.header, extra.header] : t.header;
  const lines = [header.map(csvCell).join(',')];
  for (let i = 0; i < t.rows.length; i++)
    lines.push((extra ? [...t.rows[i], extra.values[i]] : t.rows[i]).map(csvCell).join(','));
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** Rows as a column-oriented batch (numeric columns parsed). */
export function batchOf(t: Rows, numeric: string[]): InputBatch {
  const columns = new Map<string, Column>();
  t.header.forEach((h, j) => {
    if (numeric.includes(h))
      columns.set(h, { kind: 'number', values: Float64Array.from(t.rows, (r) => Number(r[j])) });
    else columns.set(h, { kind: 'string', values: t.rows.map((r) => r[j]) });
  });
  return { n: t.rows.length, columns, ids: t.rows.map((_, i) => String(i + 1)) };
}

export function labelsOf(t: Rows, column: string, classes: string[]): Int32Array {
  const j = t.header.indexOf(column);
  return Int32Array.from(t.rows, (r) => classes.indexOf(r[j]));
}

/** Seeded PRNG for test data. */
export const seeded = mulberry32;
