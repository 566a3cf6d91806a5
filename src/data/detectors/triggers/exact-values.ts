/**
 * Exact values of numeric columns as trigger items. A tabular item of a numeric column is its quantile bin,
 * which is right for a range but dilutes an exact value (age=48, amount=9.99, a pixel at 255) with every
 * natural row around it, and a planted conjunction sets exact values. So a value that the batch repeats with
 * one of its labels more often than the trusted rows do (support and lift, as candidates are pruned, and
 * over-represented against the trusted rows under Benjamini-Hochberg over every value and label with
 * support: the trusted rows carrying a value are its only reference, since the models read it as a bin)
 * becomes an item of its own, beside its bin. A value that holds most of its bin's rows in the batch and in
 * the trusted set (the zero of a sparse column, a bin of one value) is what the bin says already and gets
 * none: the dilution an exact item undoes is the bin's other rows. (A plant of a tenth of the batch can fill
 * a bin by itself; the trusted rows show the value's natural share.) An exact item is chosen for its labels,
 * so the patterns built on it stay out of the content test's empirical null.
 */
import { CountTable } from '../../features/counter.js';
import { combine } from '../../features/hash.js';
import type { TabularEncoding } from '../../features/tabular.js';
import { liftOf } from '../../stats/shift.js';
import { benjaminiHochberg, binomialUpperTail } from '../../stats/tests.js';
import type { AuditContext } from '../types.js';

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
    const binRows = new Int32Array((ei.edges.get(col)?.length ?? 0) + 2);
    for (let i = 0; i < inc.n; i++) {
      const b = ei.values[i * ei.F + f];
      binRows[b]++;
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
        if (liftOf(k, inc.n, kt, tru.n) >= minLift) best = Math.min(best, binomialUpperTail(k, k + kt, pInc));
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
