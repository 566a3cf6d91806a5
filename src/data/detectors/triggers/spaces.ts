/**
 * Pattern spaces of trigger mining: which keys a row carries, which of its units (tokens, feature columns)
 * a pattern covers, and which model buckets disappear when those units are masked.
 *
 * Text: word n-grams (length 1..maxNgram) at any position, and the structural shapes of features/shapes.ts
 * (header fields, sentence openings and endings, skeletons, frames, punctuation, casing), which cover no
 * unit: a shape has no meaning to remove. Tabular: feature=value items (numeric values binned at the trusted
 * quantiles, and, beside its bin, an exact value the batch repeats with one label: exact-values.ts) and their
 * conjunctions of up to three items of different columns. Conjunctions are formed only among the items of as many
 * columns as a fixed budget of row-triples pays for (conjunctionColumns: 16 at 12,000 rows, more in a smaller
 * batch), those whose item pairs shift the label most against the trusted reference (all columns when the table is
 * that narrow), so the search costs at most a fixed number of keys however wide the table: a planted conjunction
 * carries all its rows' target label into each of its pairs, which puts them first, background values included.
 */

import { firstOfEachRow, tabular, textTokens } from '../../features/context.js';
import { CountTable } from '../../features/counter.js';
import { combine, combineMany } from '../../features/hash.js';
import { shapeColumn, shapeNameAt } from '../../features/shapes.js';
import { bucketOf } from '../../features/sparse.js';
import { describeItem } from '../../features/tabular.js';
import { forEachToken, ngramHash, type TokenizedText } from '../../features/text.js';
import type { AuditContext } from '../types.js';
import { exactItems } from './exact-values.js';

/**
 * Visits every mined key of one row: `emit(key, len, pos)`; the pattern covers `len` units from `pos` (a
 * shape that covers none has len 0).
 */
export type KeyVisitor = (row: number, emit: (key: number, len: number, pos: number) => void) => void;

export interface Space {
  kind: 'text' | 'tabular';
  incoming: KeyVisitor;
  trusted: KeyVisitor;
  /** Maskable units of incoming row i (tokens or feature columns). */
  units: (row: number) => number;
  /** Set the units pattern (len, pos) covers in `mask`. */
  mark: (row: number, len: number, pos: number, mask: Uint8Array) => void;
  /**
   * Model buckets of incoming row i that disappear with the units set in `mask`; with `len`/`pos`, only the
   * further buckets that pattern's units remove beyond the mask.
   */
  removed: (row: number, mask: Uint8Array, out: number[], len?: number, pos?: number) => void;
  /** Whether pattern (len, pos) is a structural shape (header fields included), not a phrase or conjunction. */
  isShape: (len: number, pos: number) => boolean;
  /** Columns of pattern (len, pos) whose item is an exact value (chosen for its labels); none for text. */
  exactColumns: (len: number, pos: number) => string[];
  /** Human-readable name of the pattern. */
  name: (row: number, len: number, pos: number) => string;
  /** Keys of the proper sub-patterns (for reporting only the minimal trigger). */
  subKeys: (row: number, len: number, pos: number) => number[];
}

/** Most units a row can have (the tokeniser keeps 512 tokens; packing keeps 1023 columns). */
export const MAX_UNITS = 1024;

/** Columns whose items form conjunctions at least (see the module comment). */
export const CONJUNCTION_COLUMNS = 16;
/**
 * Row-triples of columns the conjunction search may visit: CONJUNCTION_COLUMNS columns at 12,000 rows. A smaller
 * batch can afford more columns at that cost (every column of a 30-column table of a few hundred rows).
 */
const triples = (c: number) => (c * (c - 1) * (c - 2)) / 6;
const CONJUNCTION_BUDGET = 12_000 * triples(CONJUNCTION_COLUMNS);

/** Columns whose items form conjunctions in a batch of n rows: as many as the budget pays for, at least 16. */
export function conjunctionColumns(n: number): number {
  let c = CONJUNCTION_COLUMNS;
  while (Math.max(1, n) * triples(c + 1) <= CONJUNCTION_BUDGET) c++;
  return c;
}

function shapes(ctx: AuditContext, side: 'incoming' | 'trusted') {
  const key = `features:shapes:${side}`;
  if (!(key in ctx.shared)) {
    // Mining reads only the first row of each content and label: copies need no shapes.
    ctx.shared[key] =
      side === 'incoming'
        ? shapeColumn(ctx.incoming.text ?? [], firstOfEachRow(ctx))
        : shapeColumn(ctx.trusted.text ?? []);
  }
  return ctx.shared[key] as ReturnType<typeof shapeColumn>;
}

export function textSpace(ctx: AuditContext, maxNgram: number, hashBits: number): Space | undefined {
  const ti = textTokens(ctx, 'incoming');
  const tt = textTokens(ctx, 'trusted');
  if (!ti || !tt) return undefined;
  const si = shapes(ctx, 'incoming');
  const st = shapes(ctx, 'trusted');
  const maxN = Math.max(1, Math.min(3, maxNgram));
  const visitor =
    (tok: TokenizedText, sh: ReturnType<typeof shapeColumn>): KeyVisitor =>
    (i, emit) => {
      const a = tok.offsets[i];
      const b = tok.offsets[i + 1];
      for (let len = 1; len <= maxN; len++) {
        for (let t = a; t + len <= b; t++) emit(ngramHash(tok.tokens, t, len), len, t - a);
      }
      // A shape's pos is its index in the row's shapes, shifted past the token index of a covering one.
      for (let k = sh.offsets[i]; k < sh.offsets[i + 1]; k++) {
        const span = sh.spans[k];
        const index = (k - sh.offsets[i] + 1) * 1024;
        if (span === 0) emit(sh.keys[k], 0, index);
        else emit(sh.keys[k], span >> 10, index + (span & 1023));
      }
    };
  const tokens = ti.tokens;
  const uni = (a: number, t: number) => bucketOf(tokens[a + t], hashBits);
  const bi = (a: number, t: number) => bucketOf(combineMany(tokens, a + t, 2), hashBits);
  return {
    kind: 'text',
    incoming: visitor(ti, si),
    trusted: visitor(tt, st),
    units: (i) => ti.offsets[i + 1] - ti.offsets[i],
    mark(_i, len, pos, mask) {
      for (let t = pos & 1023; t < (pos & 1023) + len; t++) mask[t] = 1;
    },
    removed(i, mask, out, len, at) {
      const a = ti.offsets[i];
      const pos = at === undefined ? undefined : at & 1023;
      const T = ti.offsets[i + 1] - a;
      if (len === undefined || pos === undefined) {
        for (let t = 0; t < T; t++) if (mask[t]) out.push(uni(a, t));
        // A bigram goes with either of its words.
        for (let t = 0; t + 1 < T; t++) if (mask[t] || mask[t + 1]) out.push(bi(a, t));
        return;
      }
      for (let t = pos; t < pos + len; t++) if (!mask[t]) out.push(uni(a, t));
      for (let t = Math.max(0, pos - 1); t < Math.min(T - 1, pos + len); t++)
        if (!mask[t] && !mask[t + 1]) out.push(bi(a, t));
    },
    isShape: (_len, pos) => pos >= 1024,
    exactColumns: () => [],
    name(i, len, pos) {
      const text = ctx.incoming.text?.[i] ?? '';
      if (pos >= 1024) return shapeNameAt(text, (pos >> 10) - 1);
      const words: string[] = [];
      let k = 0;
      forEachToken(text, (_h, a, b) => {
        if (k >= pos && k < pos + len) words.push(text.slice(a, b).toLowerCase());
        k++;
      });
      return words.join(' ');
    },
    subKeys(i, len, pos) {
      if (pos >= 1024) return [];
      const t0 = ti.offsets[i] + pos;
      const out: number[] = [];
      for (let l = 1; l < len; l++)
        for (let t = t0; t + l <= t0 + len; t++) out.push(ngramHash(tokens, t, l));
      return out;
    },
  };
}

/**
 * Pack up to three item slots (each < 1023) into one number. Slot f < F is column f's item (a category or a
 * numeric bin); slot F + f is column f's exact value (triggers/exact-values.ts), where F + f < 1023.
 */
const pack = (f1: number, f2 = 1023, f3 = 1023) => f1 + f2 * 1024 + f3 * 1048576;
const unpack = (p: number): number[] =>
  [p % 1024, Math.floor(p / 1024) % 1024, Math.floor(p / 1048576)].filter((f) => f !== 1023);

/** Rows read to order the item pairs of a wide table (a stride sample of larger batches). */
const SCREEN_ROWS = 4000;

/** A row's items as slots: keys and slot numbers, in column order (a column's bin before its exact value). */
interface RowSlots {
  keys: Uint32Array;
  slots: Int32Array;
  /** Fill the arrays for row i of one side; returns how many. */
  fill: (items: Uint32Array, exact: Uint32Array | undefined, i: number) => number;
}

function rowSlots(F: number, stride: number): RowSlots {
  const keys = new Uint32Array(2 * F);
  const slots = new Int32Array(2 * F);
  return {
    keys,
    slots,
    fill(items, exact, i) {
      let m = 0;
      for (let a = 0; a < F; a++) {
        keys[m] = items[i * stride + a];
        slots[m++] = a;
        const x = exact ? exact[i * F + a] : 0;
        if (x !== 0 && F + a < 1023) {
          keys[m] = x;
          slots[m++] = F + a;
        }
      }
      return m;
    },
  };
}

/**
 * Items of each row that may join a conjunction: every item of a narrow table; otherwise the items of the
 * item pairs whose label departs most from what the trusted model predicts for their incoming rows, taken in
 * order until they span CONJUNCTION_COLUMNS columns. Pairs, not single items: a planted conjunction of
 * ordinary values (a patch's background pixels among them) shifts the label of its pairs, while each of its
 * items alone is as common and as mixed as any other.
 */
function conjunctionItems(
  ctx: AuditContext,
  ei: { items: Uint32Array; n: number; F: number },
  exact: Uint32Array | undefined,
  F: number,
  proba: Float32Array,
): (key: number) => boolean {
  const budget = conjunctionColumns(ei.n);
  if (F <= budget) return () => true;
  const K = ctx.classes.length;
  // Per pair: rows, rows per label, the model's sum of P per label (thousandths), the two items, their columns.
  const W = 1 + 2 * K + 4;
  const pairs = new CountTable(W, 1 << 16);
  const scaled = new Int32Array(K);
  const row = rowSlots(F, ei.F);
  const colOf = (slot: number) => (slot >= F ? slot - F : slot);
  const stride = Math.max(1, Math.floor(ei.n / SCREEN_ROWS));
  for (let i = 0; i < ei.n; i += stride) {
    const y = ctx.incoming.labels[i];
    for (let k = 0; k < K; k++) scaled[k] = Math.round(1000 * proba[i * K + k]);
    // Regular items only: an exact value is chosen for its labels, and would crowd out the columns' bins.
    const m = row.fill(ei.items, undefined, i);
    for (let x = 0; x < m; x++) {
      const ha = row.keys[x];
      const fa = colOf(row.slots[x]);
      for (let z = x + 1; z < m; z++) {
        const fb = colOf(row.slots[z]);
        if (fb === fa) continue;
        const sl = pairs.slot(combine(ha, row.keys[z]));
        if (sl < 0) continue;
        // Read after slot(): the table may have grown.
        const c = pairs.counts;
        const at = sl * W;
        if (c[at] === 0) {
          c[at + 1 + 2 * K] = ha | 0;
          c[at + 2 + 2 * K] = row.keys[z] | 0;
          c[at + 3 + 2 * K] = fa;
          c[at + 4 + 2 * K] = fb;
        }
        c[at]++;
        c[at + 1 + y]++;
        for (let k = 0; k < K; k++) c[at + 1 + K + k] += scaled[k];
      }
    }
  }
  // Screening only orders the pairs (the tests come later): a normal score of each pair's label count against
  // the trusted model's expectation for its rows, the largest over the labels.
  const c = pairs.counts;
  const ranked: Array<{ sl: number; z: number }> = [];
  pairs.forEach((_key, sl) => {
    const at = sl * W;
    const n = c[at];
    if (n < 2) return;
    let z = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) {
      const e = Math.min(n - 0.5, Math.max(0.5, c[at + 1 + K + k] / 1000));
      const zk = (c[at + 1 + k] - e) / Math.sqrt(e * (1 - e / n));
      if (zk > z) z = zk;
    }
    ranked.push({ sl, z });
  });
  ranked.sort((x, y) => y.z - x.z);
  const columns = new Set<number>();
  const chosen = new Set<number>();
  for (const r of ranked) {
    const at = r.sl * W + 1 + 2 * K;
    const fa = c[at + 2];
    const fb = c[at + 3];
    const added = (columns.has(fa) ? 0 : 1) + (columns.has(fb) ? 0 : 1);
    if (columns.size + added > budget) continue;
    columns.add(fa);
    columns.add(fb);
    chosen.add(c[at] >>> 0);
    chosen.add(c[at + 1] >>> 0);
  }
  // The chosen columns' exact values join their bins.
  if (exact)
    for (let i = 0; i < ei.n; i++)
      for (const f of columns) {
        const x = exact[i * F + f];
        if (x) chosen.add(x >>> 0);
      }
  return (key) => chosen.has(key >>> 0);
}

export function tabularSpace(
  ctx: AuditContext,
  opts: { numericBins: number; maxConjunction: number; minSupport: number; minLift: number; fdr: number },
  hashBits: number,
  proba: Float32Array,
): Space | undefined {
  const ei = tabular(ctx, 'incoming', opts.numericBins);
  const et = tabular(ctx, 'trusted', opts.numericBins);
  if (!ei || !et) return undefined;
  const F = Math.min(ei.F, 1023);
  const exact = exactItems(ctx, ei, et, F, opts.minSupport, opts.minLift, opts.fdr);
  const maxLen = Math.max(1, Math.min(3, opts.maxConjunction));
  const minSupport = opts.minSupport;
  const eligible = maxLen > 1 ? conjunctionItems(ctx, ei, exact?.incoming, F, proba) : () => false;
  const colOf = (slot: number) => (slot >= F ? slot - F : slot);
  const row = rowSlots(F, ei.F);
  const keys = new Uint32Array(2 * F);
  const slots = new Int32Array(2 * F);
  /** Of the n items row.fill put in `row`, those that may join a conjunction, into keys/slots; their number. */
  const collect = (n: number) => {
    let m = 0;
    if (maxLen > 1)
      for (let x = 0; x < n; x++)
        if (eligible(row.keys[x])) {
          keys[m] = row.keys[x];
          slots[m++] = row.slots[x];
        }
    return m;
  };
  // A triple has no more rows than any pair inside it, so a triple is formed only from pairs with support in
  // the batch (Apriori): in a wide table of few rows almost every triple is seen once, and counting them all
  // would cost millions of keys (and fill the table) for patterns none of which could be tested. Checking a
  // row's pairs costs about C(m, 2) lookups and saves at least the share u of its C(m, 3) triples whose pairs
  // lack support, so it is done only where that pays, u > 3 / (m - 2), as an even sample of rows (the
  // screen's) estimates it.
  const countPairs = (stride: number) => {
    const table = new CountTable(1, 1 << 14);
    let rowPairs = 0;
    let items = 0;
    let rows = 0;
    for (let i = 0; i < ei.n; i += stride) {
      const m = collect(row.fill(ei.items, exact?.incoming, i));
      items += m;
      rows++;
      for (let x = 0; x < m; x++)
        for (let y = x + 1; y < m; y++)
          if (colOf(slots[y]) !== colOf(slots[x])) {
            table.add(combine(keys[x], keys[y]), 0);
            rowPairs++;
          }
    }
    let unsupported = 0;
    table.forEach((_key, sl) => {
      const c = table.countAt(sl, 0);
      if (c * stride < minSupport) unsupported += c;
    });
    const m = items / Math.max(1, rows);
    return { table, pays: m > 3 && unsupported > (3 / (m - 2)) * rowPairs };
  };
  let pairRows: CountTable | undefined;
  if (maxLen >= 3) {
    const stride = Math.max(1, Math.floor(ei.n / SCREEN_ROWS));
    const sampled = countPairs(stride);
    if (sampled.pays) pairRows = stride === 1 ? sampled.table : countPairs(1).table;
  }
  // Per row, whether its item pair (x, y) has support (x * m + y); only where the pruning is on.
  const supported = pairRows ? new Uint8Array(4 * F * F) : undefined;
  const visitor =
    (it: Uint32Array, ex: Uint32Array | undefined): KeyVisitor =>
    (i, emit) => {
      const n = row.fill(it, ex, i);
      for (let x = 0; x < n; x++) emit(row.keys[x], 1, pack(row.slots[x]));
      const m = collect(n);
      if (pairRows && supported)
        for (let x = 0; x < m; x++)
          for (let y = x + 1; y < m; y++)
            supported[x * m + y] =
              colOf(slots[y]) !== colOf(slots[x]) && pairRows.get(combine(keys[x], keys[y]), 0) >= minSupport
                ? 1
                : 0;
      // Pairs and triples of items of different columns (a column's exact value lies inside its bin).
      for (let x = 0; x < m; x++) {
        const a = slots[x];
        for (let y = x + 1; y < m; y++) {
          const b = slots[y];
          if (colOf(b) === colOf(a)) continue;
          const hab = combine(keys[x], keys[y]);
          emit(hab, 2, pack(a, b));
          if (maxLen < 3 || (supported && !supported[x * m + y])) continue;
          for (let z = y + 1; z < m; z++) {
            if (colOf(slots[z]) === colOf(b)) continue;
            if (supported && (!supported[x * m + z] || !supported[y * m + z])) continue;
            emit(combine(hab, keys[z]), 3, pack(a, b, slots[z]));
          }
        }
      }
    };
  /** The item in `slot` of incoming row i. */
  const itemAt = (i: number, slot: number) =>
    slot >= F ? (exact?.incoming[i * F + slot - F] ?? 0) : ei.items[i * ei.F + slot];
  const keyOf = (i: number, fs: number[]) => {
    let h = itemAt(i, fs[0]);
    for (let k = 1; k < fs.length; k++) h = combine(h, itemAt(i, fs[k]));
    return h;
  };
  const item = (i: number, f: number) => bucketOf(ei.items[i * ei.F + f], hashBits);
  return {
    kind: 'tabular',
    incoming: visitor(ei.items, exact?.incoming),
    trusted: visitor(et.items, exact?.trusted),
    units: () => F,
    isShape: () => false,
    exactColumns: (_len, pos) => unpack(pos).flatMap((slot) => (slot >= F ? [ei.columns[slot - F]] : [])),
    mark(_i, _len, pos, mask) {
      for (const s of unpack(pos)) mask[colOf(s)] = 1;
    },
    removed(i, mask, out, len, pos) {
      if (len === undefined || pos === undefined) {
        for (let f = 0; f < F; f++) if (mask[f]) out.push(item(i, f));
        return;
      }
      for (const s of unpack(pos)) if (!mask[colOf(s)]) out.push(item(i, colOf(s)));
    },
    name(i, _len, pos) {
      return unpack(pos)
        .map((s) => {
          if (s < F) return describeItem(ctx.incoming, ei, s, ei.values[i * ei.F + s]);
          const col = ei.columns[s - F];
          return `${col}=${ctx.incoming.numeric.get(col)?.[i]}`;
        })
        .join(' & ');
    },
    subKeys(i, _len, pos) {
      const fs = unpack(pos);
      if (fs.length === 1) return [];
      if (fs.length === 2) return [keyOf(i, [fs[0]]), keyOf(i, [fs[1]])];
      return [
        keyOf(i, [fs[0]]),
        keyOf(i, [fs[1]]),
        keyOf(i, [fs[2]]),
        keyOf(i, [fs[0], fs[1]]),
        keyOf(i, [fs[0], fs[2]]),
        keyOf(i, [fs[1], fs[2]]),
      ];
    },
  };
}
