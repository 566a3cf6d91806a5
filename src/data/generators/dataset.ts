/**
 * Turn a generated case into the audit's in-memory Datasets without going through files, so that tests and
 * the in-process baselines can run detectors on exactly the rows the benchmark writes to disk. Column typing
 * is simple on purpose (a column is numeric when every non-empty value parses as a number); the audit's
 * own reader (src/data/source.ts) remains the reference for files.
 */
import type { AuditContext, AuditRoles, Categorical, Dataset } from '../detectors/types.js';
import type { GeneratedCase, Roles } from './cases.js';
import type { Cell } from './csv.js';

type Row = Record<string, Cell>;

function categoricalColumn(values: Cell[], dict: Map<string, number>, vals: string[]): Categorical {
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (v === null || v === undefined || v === '') {
      codes[i] = -1;
      return;
    }
    const s = String(v);
    let c = dict.get(s);
    if (c === undefined) {
      c = vals.length;
      vals.push(s);
      dict.set(s, c);
    }
    codes[i] = c;
  });
  return { codes, values: vals };
}

const isNum = (v: Cell) =>
  v === null ||
  v === undefined ||
  v === '' ||
  (typeof v === 'number' ? true : /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v));

export function toDatasets(
  rowsT: Row[],
  rowsI: Row[],
  roles: Roles,
  opts: { embeddings?: string } = {},
): { trusted: Dataset; incoming: Dataset; classes: string[]; roles: AuditRoles } {
  const classes = [...new Set([...rowsT, ...rowsI].map((r) => String(r[roles.label])))].sort();
  const features = roles.features ?? [];
  // One dictionary per column shared by both sides (same code = same value), as the audit's reader does.
  const dicts = new Map<string, { map: Map<string, number>; values: string[] }>();
  const categorical = (values: Cell[], column: string) => {
    let d = dicts.get(column);
    if (!d) {
      d = { map: new Map(), values: [] };
      dicts.set(column, d);
    }
    return categoricalColumn(values, d.map, d.values);
  };
  const build = (rows: Row[]): Dataset => {
    const numeric = new Map<string, Float64Array>();
    const cat = new Map<string, Categorical>();
    for (const f of features) {
      const col = rows.map((r) => r[f]);
      const all = [...rowsT, ...rowsI].every((r) => isNum(r[f]));
      if (all)
        numeric.set(
          f,
          Float64Array.from(col, (v) => (v === '' || v === null || v === undefined ? Number.NaN : Number(v))),
        );
      else cat.set(f, categorical(col, f));
    }
    const d: Dataset = {
      n: rows.length,
      ids: rows.map((r, i) => (roles.id ? String(r[roles.id]) : String(i + 1))),
      labels: Int32Array.from(rows, (r) => classes.indexOf(String(r[roles.label]))),
      numeric,
      categorical: cat,
    };
    if (roles.text) d.text = rows.map((r) => String(r[roles.text!] ?? ''));
    if (roles.source)
      d.source = categorical(
        rows.map((r) => r[roles.source!]),
        roles.source,
      );
    if (roles.labeler)
      d.labeler = categorical(
        rows.map((r) => r[roles.labeler!]),
        roles.labeler,
      );
    if (roles.time) d.time = Float64Array.from(rows, (r) => Date.parse(String(r[roles.time!])));
    if (opts.embeddings) {
      const vecs = rows.map((r) => JSON.parse(String(r[opts.embeddings!])) as number[]);
      const dim = vecs[0]?.length ?? 0;
      const data = new Float32Array(rows.length * dim);
      for (const [i, v] of vecs.entries()) data.set(v, i * dim);
      d.embeddings = { data, dim };
    }
    return d;
  };
  return {
    trusted: build(rowsT),
    incoming: build(rowsI),
    classes,
    roles: {
      label: roles.label,
      id: roles.id,
      text: roles.text,
      features,
      source: roles.source,
      labeler: roles.labeler,
      time: roles.time,
      embeddings: opts.embeddings,
    },
  };
}

/** An AuditContext over a generated case (no settings, empty shared state). */
export function contextOf(
  c: Pick<GeneratedCase, 'trusted' | 'incoming' | 'truth'>,
  seed = 1,
  opts: { embeddings?: string } = {},
): AuditContext {
  const { trusted, incoming, classes, roles } = toDatasets(c.trusted, c.incoming, c.truth.roles, {
    embeddings: opts.embeddings ?? c.truth.roles.embeddings,
  });
  return { trusted, incoming, classes, roles, settings: {}, shared: {}, seed };
}
