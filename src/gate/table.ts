/**
 * The gate's view of a table (trusted holdout, live set): column-oriented, with labels as class codes.
 * Reading goes through the data layer's DuckDB source (src/data/source.ts); this module only shapes
 * what it returns into what the gate's checks need.
 */
import { schemaError, usageError } from '../core/errors.js';
import { isIdentifierName, isIndexColumn } from '../data/source.js';

export type Column = { kind: 'number'; values: Float64Array } | { kind: 'string'; values: string[] };

export interface GateTable {
  /** Path as given. */
  path: string;
  n: number;
  /** Column names in file order (label and id included). */
  names: string[];
  columns: Map<string, Column>;
  /** Row ids: the --id column as strings, or the 1-based row number. */
  ids: string[];
  /** Class code per row (index into the shared class list); -1 when the label is missing or unknown. */
  labels: Int32Array;
}

export interface RawTable {
  names: string[];
  columns: Map<string, Column>;
  n: number;
}

/** Order class names the way a model's output columns are ordered: numerically when all numeric, else lexically. */
export function sortClasses(values: Iterable<string>): string[] {
  const list = [...new Set(values)];
  const numeric = list.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  return numeric ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

export function labelStrings(col: Column): string[] {
  if (col.kind === 'string') return col.values.map((v) => v.trim());
  return Array.from(col.values, (v) => (Number.isNaN(v) ? '' : String(v)));
}

/** Class names found in a label column (missing labels ignored). */
export function classesOf(raw: RawTable, label: string): string[] {
  const col = raw.columns.get(label);
  if (!col) throw schemaError(`no column "${label}" in the table`, `columns are: ${raw.names.join(', ')}`);
  return sortClasses(labelStrings(col).filter((v) => v !== ''));
}

export function shapeTable(
  path: string,
  raw: RawTable,
  roles: { label?: string; id?: string },
  classes: string[],
): GateTable {
  const n = raw.n;
  let ids: string[];
  if (roles.id) {
    const col = raw.columns.get(roles.id);
    if (!col)
      throw schemaError(`${path}: no id column "${roles.id}"`, `columns are: ${raw.names.join(', ')}`);
    ids = labelStrings(col);
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      if (id === '') throw schemaError(`${path}: row ${i + 1} has an empty id in column "${roles.id}"`);
      if (seen.has(id))
        throw schemaError(`${path}: id "${id}" appears twice in column "${roles.id}"`, 'ids must be unique');
      seen.add(id);
    }
  } else {
    ids = Array.from({ length: n }, (_, i) => String(i + 1));
  }
  const labels = new Int32Array(n).fill(-1);
  if (roles.label) {
    const col = raw.columns.get(roles.label);
    if (!col)
      throw schemaError(`${path}: no label column "${roles.label}"`, `columns are: ${raw.names.join(', ')}`);
    const index = new Map(classes.map((c, i) => [c, i]));
    const strs = labelStrings(col);
    let unknown = 0;
    for (let i = 0; i < n; i++) {
      const code = index.get(strs[i]);
      if (code === undefined) unknown++;
      else labels[i] = code;
    }
    if (unknown === n) throw schemaError(`${path}: no row has a known label in column "${roles.label}"`);
  }
  return { path, n, names: raw.names, columns: raw.columns, ids, labels };
}

/** Feature columns: every column except label and id, or exactly `features` when given. */
export function featureColumns(
  t: Pick<GateTable, 'path' | 'names' | 'columns'>,
  roles: { label: string; id?: string; features?: string[] },
): string[] {
  if (roles.features?.length) {
    for (const f of roles.features)
      if (!t.columns.has(f)) throw usageError(`--features names "${f}", which ${t.path} does not have`);
    return roles.features;
  }
  // A pandas row index, or a column named as an identifier whose every value differs, is not an input of the
  // model (as the audit reads them).
  return t.names.filter(
    (c, i) => c !== roles.label && c !== roles.id && !isIndexColumn(c, i) && !isRowKey(t.columns.get(c), c),
  );
}

function isRowKey(col: Column | undefined, name: string): boolean {
  if (!col || !isIdentifierName(name)) return false;
  const values = col.kind === 'number' ? Array.from(col.values, String) : col.values;
  return new Set(values).size === values.length;
}

/**
 * A string column holds free text (rather than categories) when its values are long and mostly distinct;
 * text columns get token predicates in slices and token insertion in probes.
 */
export function isTextColumn(col: Column): boolean {
  if (col.kind !== 'string') return false;
  const n = Math.min(col.values.length, 2000);
  if (n === 0) return false;
  let tokens = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < n; i++) {
    const v = col.values[i];
    distinct.add(v);
    tokens += v.split(/\s+/).filter(Boolean).length;
  }
  return tokens / n >= 4 && distinct.size / n > 0.5;
}

export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}
