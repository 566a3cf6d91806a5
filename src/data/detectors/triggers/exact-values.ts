/**
 * Exact values of numeric columns as trigger items. A tabular item of a numeric column is its quantile bin,
 * which is right for a range but dilutes an exact value (age=48, amount=9.99, a pixel at 255) with every
 * natural row around it, and a planted conjunction sets exact values. So a value that the batch repeats with
 * one of its labels (support and lift, as candidates are pruned) more often than either reference says it
 * should becomes an item of its own, beside its bin: the trusted rows carrying the value (over-represented
 * against them; few when the trusted set is small), or the batch's other rows in the same bin (the label
 * jumps at one value and its neighbours do not share it; the bin's rate worth as many rows as the column's
 * values show it is: `smoothness`). Bonferroni over the two references, Benjamini-Hochberg over every value
 * and label with support. A value that holds most of its bin's rows in the batch and in the trusted set (the
 * zero of a sparse column, a bin of one value) is what the bin says already and gets none: the dilution an
 * exact item undoes is the bin's other rows. (A plant of a tenth of the batch can fill a bin by itself; the
 * trusted rows show the value's natural share.) An exact item is chosen for its labels, so the patterns
 * built on it stay out of the content test's empirical null and out of the screen that picks a wide table's
 * conjunction columns (spaces.ts).
 */
import { CountTable } from '../../features/counter.js';
import { combine } from '../../features/hash.js';
import type { TabularEncoding } from '../../features/tabular.js';
import { median } from '../../stats/robust.js';
import { betaBinomialUpperTail, liftOf } from '../../stats/shift.js';
import { benjaminiHochberg, binomialUpperTail } from '../../stats/tests.js';
import type { AuditContext } from '../types.js';

/**
 * How many rows a bin's label rate is worth for one of its values, in this column: the Beta concentration phi
 * at which the values' Pearson statistics against their bins' other rows, scaled by (phi + 1) / (phi + n),
 * have the median of a chi-square with K - 1 degrees of freedom (a median, so a few planted values cannot set
 * it). A smooth measurement earns a bin's full weight; a column of codes whose values each carry their own
 * labels (a capital gain of 14084 always sells high) earns little, and a spike there is no surprise.
 */
function smoothness(
  table: CountTable,
  W: number,
  K: number,
  restRate: (o: number, y: number, rows: number) => number,
  cap: number,
): number {
  const c = table.counts;
  const x2: number[] = [];
  const ns: number[] = [];
  table.forEach((_key, sl) => {
    const o = sl * W;
    if (c[o + 2 * K] === 0) return;
    let rows = 0;
    for (let y = 0; y < K; y++) rows += c[o + y];
    if (rows < 2) return;
    let x = 0;
    for (let y = 0; y < K; y++) {
      const e = rows * restRate(o, y, rows);
      x += (c[o + y] - e) ** 2 / Math.max(1e-9, e);
    }
    x2.push(x);
    ns.push(rows);
  });
  if (x2.length < 5) return cap;
  const target = (K - 1) * (1 - 2 / (9 * (K - 1))) ** 3;
  const medianAt = (phi: number) => median(x2.map((x, j) => (x * (phi + 1)) / (phi + ns[j])));
  if (medianAt(cap) <= target) return cap;
  if (medianAt(0.5) > target) return 0.5;
  let lo = Math.log(0.5);
  let hi = Math.log(cap);
  for (let it = 0; it < 30; it++) {
    const mid = (lo + hi) / 2;
    if (medianAt(Math.exp(mid)) > target) hi = mid;
    else lo = mid;
  }
  return Math.exp(lo);
}

/** Per side, an n × F array of exact-value items (0 where the row's value has none). */
export interface ExactItems {
  incoming: Uint32Array;
  trusted: Uint32Array;
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** The item of value v in column f (never 0: 0 marks "no item"). */
function exactKey(f: number, v: number): number {
  bits[0] = v === 0 ? 0 : v;
  return combine(combine(0x3c6ef372 + f, words[0]), words[1]) || 1;
}

export function exactItems(
  ctx: AuditContext,
  ei: TabularEncoding,
  et: TabularEncoding,
  F: number,
  minSupport: number,
  minLift: number,
  fdr: number,
): ExactItems | undefined {
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const tru = ctx.trusted;
  // Per value: incoming rows per label in [0, K), trusted in [K, 2K), the value's bin + 1 at 2K.
  const W = 2 * K + 1;
  const pInc = inc.n / (inc.n + tru.n);
  const share = new Float64Array(K);
  for (let i = 0; i < inc.n; i++) share[inc.labels[i]] += 1 / inc.n;
  const keys: number[] = [];
  const columns: number[] = [];
  const pValues: number[] = [];
  let family = 0;
  for (let f = 0; f < F; f++) {
    const col = ei.columns[f];
    const vin = inc.numeric.get(col);
    const vtr = tru.numeric.get(col);
    if (!vin || !vtr) continue;
    const table = new CountTable(W, 1 << 10);
    const bins = (ei.edges.get(col)?.length ?? 0) + 2;
    const binRows = new Int32Array(bins);
    const binLabels = new Int32Array(bins * K);
    for (let i = 0; i < inc.n; i++) {
      const b = ei.values[i * ei.F + f];
      binRows[b]++;
      binLabels[b * K + inc.labels[i]]++;
      if (Number.isNaN(vin[i])) continue;
      const sl = table.slot(exactKey(f, vin[i]));
      if (sl < 0) continue;
      table.counts[sl * W + inc.labels[i]]++;
      table.counts[sl * W + 2 * K] = b + 1;
    }
    const trustedBinRows = new Int32Array(binRows.length);
    for (let i = 0; i < tru.n; i++) {
      trustedBinRows[et.values[i * et.F + f]]++;
      if (Number.isNaN(vtr[i])) continue;
      const sl = table.slot(exactKey(f, vtr[i]));
      if (sl >= 0) table.counts[sl * W + K + tru.labels[i]]++;
    }
    const c = table.counts;
    // The rate of label y on the batch's other rows of the value's bin (one row at the label's share added,
    // so an empty count does not read as certainty).
    const restRate = (o: number, y: number, rows: number) => {
      const b = c[o + 2 * K] - 1;
      return (binLabels[b * K + y] - c[o + y] + share[y]) / (binRows[b] - rows + 1);
    };
    const smooth = smoothness(table, W, K, restRate, inc.n);
    table.forEach((key, sl) => {
      const o = sl * W;
      if (c[o + 2 * K] === 0) return;
      let rows = 0;
      let trustedRows = 0;
      for (let y = 0; y < K; y++) {
        rows += c[o + y];
        trustedRows += c[o + K + y];
      }
      const b = c[o + 2 * K] - 1;
      if (2 * rows > binRows[b] && 2 * trustedRows >= trustedBinRows[b]) return;
      let best = 1;
      for (let y = 0; y < K; y++) {
        const k = c[o + y];
        if (k < minSupport) continue;
        family++;
        const kt = c[o + K + y];
        if (liftOf(k, inc.n, kt, tru.n) < minLift) continue;
        // Against the trusted rows, or against its bin's other rows in the batch, worth as many rows as the
        // column's values show a bin is worth; either reference, Bonferroni over the two.
        const m = restRate(o, y, rows);
        const w = Math.min(smooth, binRows[b] - rows + 1);
        const pSpike = betaBinomialUpperTail(k, rows, w * m + 0.5, w * (1 - m) + 0.5);
        best = Math.min(best, 2 * Math.min(binomialUpperTail(k, k + kt, pInc), pSpike));
      }
      if (best < 1) {
        keys.push(key);
        columns.push(f);
        pValues.push(best);
      }
    });
  }
  // Every (value, label) with support is a hypothesis; Benjamini-Hochberg over them all.
  const kept = benjaminiHochberg(pValues, fdr, family);
  const sharp = new Set<number>();
  const sharpColumns = new Set<number>();
  kept.forEach((k, j) => {
    if (!k || j >= keys.length) return;
    sharp.add(keys[j]);
    sharpColumns.add(columns[j]);
  });
  if (sharp.size === 0) return undefined;
  const out = { incoming: new Uint32Array(inc.n * F), trusted: new Uint32Array(tru.n * F) };
  const fill = (f: number, v: Float64Array, n: number, dst: Uint32Array) => {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(v[i])) continue;
      const key = exactKey(f, v[i]);
      if (sharp.has(key)) dst[i * F + f] = key;
    }
  };
  for (const f of sharpColumns) {
    const col = ei.columns[f];
    fill(f, inc.numeric.get(col) as Float64Array, inc.n, out.incoming);
    fill(f, tru.numeric.get(col) as Float64Array, tru.n, out.trusted);
  }
  return out;
}
