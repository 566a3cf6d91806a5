/**
 * Row predicates over the trusted set, as bitsets: `col = value` for categories and small integer sets,
 * `a <= col < b` quantile bins for numbers, `col contains "token"` for free text. Slices and flip regions
 * are conjunctions of these; bitsets keep each conjunction's counts to a few thousand word operations.
 */
import { type GateTable, isTextColumn, tokenize } from './table.js';

export type Bits = Uint32Array;

export interface Predicate {
  column: string;
  /** Human-readable, e.g. `education = Masters`, `age in [37, 45)`, `sentence contains "cf"`. */
  text: string;
  bits: Bits;
  size: number;
}

export function newBits(n: number): Bits {
  return new Uint32Array((n + 31) >>> 5);
}

export function setBit(b: Bits, i: number): void {
  b[i >>> 5] |= 1 << (i & 31);
}

export function hasBit(b: Bits, i: number): boolean {
  return (b[i >>> 5] & (1 << (i & 31))) !== 0;
}

function pop(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function count(a: Bits): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += pop(a[i]);
  return s;
}

export function countAnd(a: Bits, b: Bits): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += pop(a[i] & b[i]);
  return s;
}

export function and(a: Bits, b: Bits): Bits {
  const out = new Uint32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & b[i];
  return out;
}

export function bitsFrom(n: number, test: (i: number) => boolean): Bits {
  const b = newBits(n);
  for (let i = 0; i < n; i++) if (test(i)) setBit(b, i);
  return b;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

export interface PredicateOptions {
  minSize: number;
  /** Values kept per categorical column (most frequent first). */
  maxValues?: number;
  /** Tokens kept per text column (most frequent first, excluding those in more than half the rows). */
  maxTokens?: number;
  bins?: number;
}

/** Predicates of one column. */
export function columnPredicates(t: GateTable, column: string, opts: PredicateOptions): Predicate[] {
  const col = t.columns.get(column);
  if (!col) return [];
  const n = t.n;
  const out: Predicate[] = [];
  const maxValues = opts.maxValues ?? 40;
  if (col.kind === 'string' && isTextColumn(col)) {
    const df = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      for (const tok of new Set(tokenize(col.values[i]))) {
        const list = df.get(tok);
        if (list) list.push(i);
        else df.set(tok, [i]);
      }
    }
    const ranked = [...df.entries()]
      .filter(
        ([tok, rows]) => rows.length >= opts.minSize && rows.length <= n / 2 && /\p{L}|\p{N}/u.test(tok),
      )
      .sort((a, b) => b[1].length - a[1].length)
      .slice(0, opts.maxTokens ?? 300);
    for (const [tok, rows] of ranked) {
      const bits = newBits(n);
      for (const r of rows) setBit(bits, r);
      out.push({ column, text: `${column} contains "${tok}"`, bits, size: rows.length });
    }
    return out;
  }
  const distinct = new Map<string, number[]>();
  const numeric = col.kind === 'number';
  let tooMany = false;
  for (let i = 0; i < n && !tooMany; i++) {
    const v = numeric
      ? Number.isNaN(col.values[i])
        ? ''
        : String(col.values[i])
      : (col.values[i] as string).trim();
    let list = distinct.get(v);
    if (!list) {
      if (numeric && distinct.size >= 12) tooMany = true;
      list = [];
      distinct.set(v, list);
    }
    list.push(i);
  }
  if (!numeric || !tooMany) {
    const ranked = [...distinct.entries()]
      .filter(([, rows]) => rows.length >= opts.minSize)
      .sort((a, b) => b[1].length - a[1].length);
    for (const [v, rows] of ranked.slice(0, maxValues)) {
      if (rows.length === n) continue;
      const bits = newBits(n);
      for (const r of rows) setBit(bits, r);
      out.push({
        column,
        text: v === '' ? `${column} is missing` : `${column} = ${v}`,
        bits,
        size: rows.length,
      });
    }
    return out;
  }
  // Numeric with many values: quantile bins (edges deduplicated) plus missing.
  const vals = (col.values as Float64Array).filter((x) => !Number.isNaN(x)).sort();
  const bins = opts.bins ?? 5;
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const e = vals[Math.floor((q * vals.length) / bins)];
    if (edges[edges.length - 1] !== e && e !== vals[0]) edges.push(e);
  }
  const bounds = [Number.NEGATIVE_INFINITY, ...edges, Number.POSITIVE_INFINITY];
  for (let b = 0; b + 1 < bounds.length; b++) {
    const lo = bounds[b];
    const hi = bounds[b + 1];
    const values = col.values as Float64Array;
    const bits = bitsFrom(n, (i) => values[i] >= lo && values[i] < hi);
    const size = count(bits);
    if (size < opts.minSize) continue;
    const text =
      lo === Number.NEGATIVE_INFINITY
        ? `${column} < ${fmt(hi)}`
        : hi === Number.POSITIVE_INFINITY
          ? `${column} >= ${fmt(lo)}`
          : `${column} in [${fmt(lo)}, ${fmt(hi)})`;
    out.push({ column, text, bits, size });
  }
  const values = col.values as Float64Array;
  const missing = bitsFrom(n, (i) => Number.isNaN(values[i]));
  const ms = count(missing);
  if (ms >= opts.minSize) out.push({ column, text: `${column} is missing`, bits: missing, size: ms });
  return out;
}

export function allPredicates(t: GateTable, columns: string[], opts: PredicateOptions): Predicate[] {
  return columns.flatMap((c) => columnPredicates(t, c, opts));
}

/** A conjunction of predicates (indices into a predicate list). */
export interface Conjunction {
  terms: number[];
  bits: Bits;
  size: number;
}

export function describe(preds: Predicate[], terms: number[]): string {
  return terms.map((i) => preds[i].text).join(' AND ');
}

/**
 * Level-wise beam search over conjunctions of up to `maxTerms` predicates on different columns
 * (SliceLine's lattice, with a beam instead of its exact upper-bound pruning). `score` ranks a candidate;
 * the `beam` best of each level are extended. Every evaluated candidate is passed to `visit`.
 */
export function searchConjunctions(
  preds: Predicate[],
  opts: { maxTerms: number; beam: number; minSize: number },
  score: (c: Conjunction) => number,
  visit: (c: Conjunction, s: number) => void,
): number {
  let evaluated = 0;
  let level: Array<{ c: Conjunction; s: number }> = [];
  for (let i = 0; i < preds.length; i++) {
    const c = { terms: [i], bits: preds[i].bits, size: preds[i].size };
    if (c.size < opts.minSize) continue;
    const s = score(c);
    evaluated++;
    visit(c, s);
    level.push({ c, s });
  }
  const seen = new Set<string>();
  for (let depth = 2; depth <= opts.maxTerms; depth++) {
    const beam = level
      .filter((x) => Number.isFinite(x.s) && x.s > 0)
      .sort((a, b) => b.s - a.s)
      .slice(0, opts.beam);
    const next: Array<{ c: Conjunction; s: number }> = [];
    for (const { c } of beam) {
      const cols = new Set(c.terms.map((t) => preds[t].column));
      for (let j = 0; j < preds.length; j++) {
        if (cols.has(preds[j].column)) continue;
        const terms = [...c.terms, j].sort((a, b) => a - b);
        const key = terms.join(',');
        if (seen.has(key)) continue;
        seen.add(key);
        const size = countAnd(c.bits, preds[j].bits);
        if (size < opts.minSize || size === c.size) continue;
        const cc = { terms, bits: and(c.bits, preds[j].bits), size };
        const s = score(cc);
        evaluated++;
        visit(cc, s);
        next.push({ c: cc, s });
      }
    }
    level = next;
  }
  return evaluated;
}
