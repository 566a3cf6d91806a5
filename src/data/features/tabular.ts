/**
 * Tabular rows to items: one item per feature column per row, `column=value` for categorical columns and
 * `column in [a, b)` for numeric ones (cut at the trusted reference's quantiles, so a bin means the same on
 * both sides; missing values get their own bin). Items are 32-bit hashes in an n × F row-major array; the
 * value index beside them names the item for reports. Models one-hot these items; the trigger miner forms
 * conjunctions of them.
 */

import type { Dataset } from '../detectors/types.js';
import { binOf, quantileEdges } from '../stats/divergence.js';
import { combine, hashString } from './hash.js';

export interface TabularEncoding {
  /** Feature columns, in item order. */
  columns: string[];
  /** n × F item hashes. */
  items: Uint32Array;
  /** n × F value index: categorical code + 1 (0 = missing), or numeric bin. */
  values: Int32Array;
  n: number;
  F: number;
  /** Numeric cut points per numeric column (from the trusted set). */
  edges: Map<string, Float64Array>;
}

/** Cut points for every numeric column, from the reference table. */
export function numericEdges(reference: Dataset, columns: string[], bins: number): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const c of columns) {
    const v = reference.numeric.get(c);
    if (v) out.set(c, quantileEdges(v, bins));
  }
  return out;
}

export function encodeTabular(
  ds: Dataset,
  columns: string[],
  edges: Map<string, Float64Array>,
): TabularEncoding {
  const n = ds.n;
  const F = columns.length;
  const items = new Uint32Array(n * F);
  const values = new Int32Array(n * F);
  columns.forEach((col, f) => {
    // Token hashes fold ASCII case; a column name must not ("Age" and "age" can be two columns).
    const lower = col.toLowerCase();
    const base = col === lower ? hashString(`col:${col}`) : combine(hashString(`col:${col}`), caseMark(col));
    const num = ds.numeric.get(col);
    const cat = ds.categorical.get(col);
    // Item hashes per value index, computed once per column.
    const cache = new Map<number, number>();
    const itemOf = (v: number) => {
      let h = cache.get(v);
      if (h === undefined) {
        h = combine(base, v + 0x1000);
        cache.set(v, h);
      }
      return h;
    };
    if (num) {
      const e = edges.get(col) ?? new Float64Array(0);
      for (let i = 0; i < n; i++) {
        const b = binOf(num[i], e);
        values[i * F + f] = b;
        items[i * F + f] = itemOf(b);
      }
    } else if (cat) {
      for (let i = 0; i < n; i++) {
        const v = cat.codes[i] + 1;
        values[i * F + f] = v;
        items[i * F + f] = itemOf(v);
      }
    } else {
      for (let i = 0; i < n; i++) items[i * F + f] = itemOf(-1);
    }
  });
  return { columns, items, values, n, F, edges };
}

/** A hash of where a name has capitals (0 when it has none). */
function caseMark(name: string): number {
  let h = 0x1b873593;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) h = combine(h, i + 1);
  }
  return h;
}

/** Human-readable item: `workclass=Private`, `age in [37, 45)`, `age missing`. */
export function describeItem(ds: Dataset, enc: TabularEncoding, f: number, value: number): string {
  const col = enc.columns[f];
  const cat = ds.categorical.get(col);
  if (cat) return value === 0 ? `${col} missing` : `${col}=${cat.values[value - 1]}`;
  const e = enc.edges.get(col);
  if (!e) return `${col}`;
  if (value === e.length + 1) return `${col} missing`;
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
  if (e.length === 0) return `${col} (any)`;
  if (value === 0) return `${col} < ${fmt(e[0])}`;
  if (value === e.length) return `${col} >= ${fmt(e[e.length - 1])}`;
  return `${col} in [${fmt(e[value - 1])}, ${fmt(e[value])})`;
}
