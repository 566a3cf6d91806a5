/**
 * Pattern spaces of trigger mining: which keys a row carries, which of its units (tokens, feature columns)
 * a pattern covers, and which model buckets disappear when those units are masked.
 *
 * Text: word n-grams (length 1..maxNgram) at any position, and the structural shapes of features/shapes.ts
 * (header fields, sentence openings and endings, skeletons, frames, punctuation, casing), which cover no
 * unit: a shape has no meaning to remove. Tabular: feature=value items (numeric values binned at the trusted
 * quantiles) and their conjunctions of up to three items. Conjunctions are formed only among the items of
 * at most CONJUNCTION_COLUMNS columns, those whose items shift the label most against the trusted reference
 * (all columns when the table is that narrow), so a row costs at most a fixed number of keys however wide
 * the table: a planted conjunction carries all its rows' target label into each of its items, which puts
 * them first.
 */

import { firstOfEachRow, tabular, textTokens } from '../../features/context.js';
import { combine, combineMany } from '../../features/hash.js';
import { shapeColumn, shapeNameAt } from '../../features/shapes.js';
import { bucketOf } from '../../features/sparse.js';
import { describeItem, type TabularEncoding } from '../../features/tabular.js';
import { forEachToken, ngramHash, type TokenizedText } from '../../features/text.js';
import { binomialUpperTail } from '../../stats/tests.js';
import type { AuditContext } from '../types.js';

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
  /** Human-readable name of the pattern. */
  name: (row: number, len: number, pos: number) => string;
  /** Keys of the proper sub-patterns (for reporting only the minimal trigger). */
  subKeys: (row: number, len: number, pos: number) => number[];
}

/** Most units a row can have (the tokeniser keeps 512 tokens; packing keeps 1023 columns). */
export const MAX_UNITS = 1024;

/** Columns whose items form conjunctions (see the module comment). */
export const CONJUNCTION_COLUMNS = 16;

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

/** Pack up to three feature indices (each < 1023) into one number. */
const pack = (f1: number, f2 = 1023, f3 = 1023) => f1 + f2 * 1024 + f3 * 1048576;
const unpack = (p: number): number[] =>
  [p % 1024, Math.floor(p / 1024) % 1024, Math.floor(p / 1048576)].filter((f) => f !== 1023);

/**
 * Columns of each row whose items may join a conjunction: every column of a narrow table; otherwise the
 * items that shift the label most (trusted-model expectation, as the label-shift test), taken in order of
 * significance until they span CONJUNCTION_COLUMNS columns.
 */
function conjunctionItems(
  ctx: AuditContext,
  ei: TabularEncoding,
  F: number,
  proba: Float32Array,
): (enc: TabularEncoding, i: number, f: number) => boolean {
  if (F <= CONJUNCTION_COLUMNS) return () => true;
  const K = ctx.classes.length;
  // Item statistics keyed by item hash: [column, n, k per label, sum of P per label].
  const W = 2 + 2 * K;
  const stats = new Map<number, Float64Array>();
  const at = (h: number, f: number) => {
    let s = stats.get(h);
    if (!s) {
      s = new Float64Array(W);
      s[0] = f;
      stats.set(h, s);
    }
    return s;
  };
  for (let i = 0; i < ei.n; i++) {
    const y = ctx.incoming.labels[i];
    for (let f = 0; f < F; f++) {
      const s = at(ei.items[i * ei.F + f], f);
      s[1]++;
      s[2 + y]++;
      for (let k = 0; k < K; k++) s[2 + K + k] += proba[i * K + k];
    }
  }
  // Screening only orders the items (the tests come later): the departure of each item's label count from
  // what the trusted model predicts for its incoming rows is sharper than the full test, which also carries
  // the trusted counts' uncertainty.
  const ranked: Array<{ h: number; f: number; p: number }> = [];
  for (const [h, s] of stats) {
    let p = 1;
    for (let k = 0; k < K; k++) {
      const m = Math.min(1 - 1e-9, Math.max(1e-9, s[2 + K + k] / Math.max(1, s[1])));
      p = Math.min(p, binomialUpperTail(s[2 + k], s[1], m));
    }
    ranked.push({ h, f: s[0], p });
  }
  ranked.sort((a, b) => a.p - b.p);
  const columns = new Set<number>();
  const chosen = new Set<number>();
  for (const r of ranked) {
    if (!columns.has(r.f) && columns.size >= CONJUNCTION_COLUMNS) continue;
    columns.add(r.f);
    chosen.add(r.h);
  }
  return (enc, i, f) => chosen.has(enc.items[i * enc.F + f]);
}

export function tabularSpace(
  ctx: AuditContext,
  opts: { numericBins: number; maxConjunction: number },
  hashBits: number,
  proba: Float32Array,
): Space | undefined {
  const ei = tabular(ctx, 'incoming', opts.numericBins);
  const et = tabular(ctx, 'trusted', opts.numericBins);
  if (!ei || !et) return undefined;
  const F = Math.min(ei.F, 1023);
  const maxLen = Math.max(1, Math.min(3, opts.maxConjunction));
  const eligible = maxLen > 1 ? conjunctionItems(ctx, ei, F, proba) : () => false;
  const cols = new Int32Array(F);
  const visitor =
    (enc: TabularEncoding): KeyVisitor =>
    (i, emit) => {
      const it = enc.items;
      const o = i * enc.F;
      let m = 0;
      for (let a = 0; a < F; a++) {
        emit(it[o + a], 1, pack(a));
        if (maxLen > 1 && eligible(enc, i, a)) cols[m++] = a;
      }
      for (let x = 0; x < m; x++) {
        const a = cols[x];
        for (let y = x + 1; y < m; y++) {
          const b = cols[y];
          const hab = combine(it[o + a], it[o + b]);
          emit(hab, 2, pack(a, b));
          if (maxLen < 3) continue;
          for (let z = y + 1; z < m; z++) emit(combine(hab, it[o + cols[z]]), 3, pack(a, b, cols[z]));
        }
      }
    };
  const keyOf = (i: number, fs: number[]) => {
    let h = ei.items[i * ei.F + fs[0]];
    for (let k = 1; k < fs.length; k++) h = combine(h, ei.items[i * ei.F + fs[k]]);
    return h;
  };
  const item = (i: number, f: number) => bucketOf(ei.items[i * ei.F + f], hashBits);
  return {
    kind: 'tabular',
    incoming: visitor(ei),
    trusted: visitor(et),
    units: () => F,
    isShape: () => false,
    mark(_i, _len, pos, mask) {
      for (const f of unpack(pos)) mask[f] = 1;
    },
    removed(i, mask, out, len, pos) {
      if (len === undefined || pos === undefined) {
        for (let f = 0; f < F; f++) if (mask[f]) out.push(item(i, f));
        return;
      }
      for (const f of unpack(pos)) if (!mask[f]) out.push(item(i, f));
    },
    name(i, _len, pos) {
      return unpack(pos)
        .map((f) => describeItem(ctx.incoming, ei, f, ei.values[i * ei.F + f]))
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
