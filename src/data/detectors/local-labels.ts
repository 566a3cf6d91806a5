/**
 * Detector: targeted label flips. An attacker who wants one input misread relabels the few rows nearest it:
 * few rows, all near one point, all one direction. Global disagreement sees a handful of doubtful labels
 * among thousands; locally the pattern is plain: the row's nearest incoming neighbours carry its label while
 * the trusted model, read at the same place, expects another.
 *
 * For each row with label y, among its k nearest incoming rows: O carry y, and the trusted model expects
 * E = the sum of their P(y), with spread V = the sum of P(y)(1 - P(y)). Clean data has O close to E (where the
 * model is right) or off by chance; a pocket of flipped rows has O near k where E is near 0. z = (O - E) /
 * sqrt(V) is judged against its robust spread over the batch (median and MAD: a pocket of a few rows cannot
 * move them), for rows the trusted model reads as another label, under Benjamini-Hochberg at `fdr`. Rows in a
 * pocket sent by accounts that concentrate pocket rows score `rowScore`, others `reviewScore`; the finding names the direction and the accounts that sent the rows.
 *
 * Features: the --embeddings vectors when both sides have them (longer than `embeddingDims`: a seeded
 * random projection to that many); otherwise numeric columns scaled by the
 * trusted median and MAD, categorical values one-hot, and text as hashed word counts (cosine), at most
 * `maxDims` dimensions. Neighbours come from usearch (approximate, HNSW).
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { textTokens } from '../features/context.js';
import { mad, median, quantile } from '../stats/robust.js';
import { benjaminiHochberg, binomialUpperTail, normalUpperTail } from '../stats/tests.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import { gaussianMatrix, PROJECTION_SEED, projectRows } from './lib/linalg.js';
import { settingsFor } from './lib/settings.js';
import type { AuditContext, Dataset, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/local-labels',
  title: 'Pockets of labels the trusted model contradicts at their place (targeted flips)',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'A targeted flip relabels the few rows around one point so that a model learns to misread it. Judged ' +
    'one row at a time these are ordinary doubtful labels; judged by their neighbours, they form a pocket ' +
    'where the batch says one label and the trusted model, read at the same place, expects another.',
};

export const LOCAL_LABELS_DEFAULTS = {
  /** Neighbours per row, in each set. */
  k: 10,
  /** Benjamini-Hochberg false discovery rate over the incoming rows. */
  fdr: 0.01,
  /**
   * A pocket is where the trusted model is fairly sure of another label: the rows' neighbours carry the row's
   * label with this mean probability at most (where it is unsure, neighbours agreeing is ordinary).
   */
  maxExpected: 0.25,
  /** Score of a pocket row sent by an account that concentrates pocket rows (see run). */
  rowScore: 0.8,
  /** Score of a pocket row its accounts do not concentrate (or with no account column): review only. */
  reviewScore: 0.2,
  /** Benjamini-Hochberg rate of the per-account concentration test. */
  accountFdr: 0.01,
  /** Pockets holding more than this share of the batch (and more than `minBroad` rows) only order review. */
  maxShare: 0.01,
  minBroad: 50,
  /** Most dimensions of the neighbour space (numeric + one-hot + hashed text). */
  maxDims: 512,
  /** Longer --embeddings vectors are searched in a random projection to this many dimensions. */
  embeddingDims: 64,
  /**
   * Skip batches larger than this: the neighbour graph is the cost (a 200,000-row text batch took most of a
   * minute on two shared cores), and a targeted relabelling of tens of rows in such a batch is the gate's
   * probes' job, not this test's.
   */
  maxRows: 50_000,
  /** Skip when the trusted set has fewer rows than this. */
  minTrusted: 50,
};
type Settings = typeof LOCAL_LABELS_DEFAULTS;

/** How far O neighbours with the label stand above the E the trusted model expects (spread V). */
export function pocketZ(O: number, E: number, V: number): number {
  return (O - E) / Math.sqrt(V + 0.25);
}

/** A row's p-value: its z against the batch's robust centre and spread of z. */
export function pocketP(z: number, mid: number, spread: number): number {
  return normalUpperTail((z - Math.max(0, mid)) / spread);
}

/** What blind-spot.ts reads: the batch's centre and spread of z, the neighbourhood and the error rate. */
export interface LocalLabelsPower {
  rows: number;
  k: number;
  fdr: number;
  mid: number;
  spread: number;
  maxExpected: number;
}
export const POWER_KEY = 'power/local-labels';

interface Space {
  dim: number;
  trusted: Float32Array;
  incoming: Float32Array;
  cosine: boolean;
}

/** Dense neighbour space of both sides (see header), or undefined when there is nothing to embed. */
function space(ctx: AuditContext, s: Settings): Space | undefined {
  const te = ctx.trusted.embeddings;
  const ie = ctx.incoming.embeddings;
  if (te && ie && te.dim === ie.dim) {
    if (te.dim <= s.embeddingDims) return { dim: te.dim, trusted: te.data, incoming: ie.data, cosine: true };
    // A long embedding (384, 768, 1536 numbers) is searched in a seeded random projection to a few dozen
    // dimensions, which keeps the angles between rows nearly as they were (Johnson-Lindenstrauss): the graph
    // is built on one thread, and its cost follows the dimension.
    const R = gaussianMatrix(te.dim, s.embeddingDims, PROJECTION_SEED);
    return {
      dim: s.embeddingDims,
      trusted: projectRows(te.data, te.dim, R, s.embeddingDims),
      incoming: projectRows(ie.data, ie.dim, R, s.embeddingDims),
      cosine: true,
    };
  }
  const nums = ctx.roles.features.filter((c) => ctx.trusted.numeric.has(c));
  const cats = ctx.roles.features.filter((c) => ctx.trusted.categorical.has(c));
  const text = ctx.trusted.text !== undefined && ctx.incoming.text !== undefined;
  const scale = nums.map((c) => {
    const v = Array.from(ctx.trusted.numeric.get(c)!).filter(Number.isFinite);
    const m = median(v);
    return { m, s: mad(v, m) * 1.4826 || 1 };
  });
  // One-hot slots for the categorical values seen in the trusted set (each column at most 32).
  const slots = cats.map((c) => {
    const col = ctx.trusted.categorical.get(c)!;
    const counts = new Map<number, number>();
    for (const x of col.codes) if (x >= 0) counts.set(x, (counts.get(x) ?? 0) + 1);
    return new Map(
      [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 32)
        .map(([code], j) => [code, j]),
    );
  });
  const catDims = slots.reduce((t, m) => t + m.size, 0);
  const textDims = text ? 256 : 0;
  const dim = nums.length + catDims + textDims;
  if (dim === 0 || dim > s.maxDims) return undefined;
  const fill = (d: Dataset, side: 'trusted' | 'incoming'): Float32Array => {
    const out = new Float32Array(d.n * dim);
    nums.forEach((c, f) => {
      const v = d.numeric.get(c);
      if (!v) return;
      for (let i = 0; i < d.n; i++)
        out[i * dim + f] = Number.isFinite(v[i]) ? (v[i] - scale[f].m) / scale[f].s : 0;
    });
    let off = nums.length;
    cats.forEach((c, f) => {
      const col = d.categorical.get(c);
      if (col) {
        for (let i = 0; i < d.n; i++) {
          const j = slots[f].get(col.codes[i]);
          if (j !== undefined) out[i * dim + off + j] = 1;
        }
      }
      off += slots[f].size;
    });
    if (textDims) {
      const tok = textTokens(ctx, side)!;
      for (let i = 0; i < d.n; i++) {
        let norm = 0;
        for (let t = tok.offsets[i]; t < tok.offsets[i + 1]; t++)
          out[i * dim + off + (tok.tokens[t] % textDims)] += 1;
        for (let j = 0; j < textDims; j++) norm += out[i * dim + off + j] ** 2;
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let j = 0; j < textDims; j++) out[i * dim + off + j] *= inv;
      }
    }
    return out;
  };
  return {
    dim,
    trusted: fill(ctx.trusted, 'trusted'),
    incoming: fill(ctx.incoming, 'incoming'),
    cosine: false,
  };
}

type Index = { add: (k: BigUint64Array, v: Float32Array) => void; search: (...a: unknown[]) => unknown };

async function indexOf(sp: Space, data: Float32Array, n: number): Promise<Index> {
  const usearch = (await import('usearch')).default;
  const index = new usearch.Index({
    dimensions: sp.dim,
    metric: sp.cosine ? usearch.MetricKind.Cos : usearch.MetricKind.L2sq,
    quantization: usearch.ScalarKind.F32,
    connectivity: 16,
    expansion_add: 64,
    expansion_search: 64,
    multi: false,
  });
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  // One thread to build and to search: a graph built in parallel depends on insertion order, and the same
  // batch must give the same answer (usearch reserves one search context per building thread).
  if (n > 0) index.add(keys, data, 1);
  return index as unknown as Index;
}

export async function run(ctx: AuditContext): Promise<DetectorOutput> {
  const s = settingsFor(ctx, meta.id, LOCAL_LABELS_DEFAULTS);
  const tr = ctx.trusted;
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  // The trusted model, not the cross-fitted reference: read by a linear model fitted with the batch, natural
  // non-linear clumps of a table (measured: 137 clean Adult rows with a 100-row trusted set) became pockets.
  const proba = ctx.shared.trustedProba;
  // Sizes first: the neighbour space of a batch over maxRows is never searched, and building it costs a
  // gigabyte and half a minute at a million text rows.
  if (!proba || proba.length !== inc.n * K || tr.n < s.minTrusted || inc.n <= s.k || inc.n > s.maxRows)
    return { findings: [], rows: [] };
  const sp = space(ctx, s);
  if (!sp) return { findings: [], rows: [] };
  const k = s.k;
  const index = await indexOf(sp, sp.incoming, inc.n);
  const explained = ctx.shared.triggerRows;
  // Per row with label y: among its k nearest incoming rows, how many carry y (O), against how many the
  // trusted model expects there (E = sum of P(y) over the same neighbours) and its spread (V).
  const z = new Float64Array(inc.n);
  const other = new Uint8Array(inc.n);
  const share = new Float64Array(inc.n);
  const expected = new Float64Array(inc.n);
  const chunk = 32768;
  // A few spare neighbours stand in for the explained ones skipped.
  const kk = Math.min(inc.n, 2 * k + 1);
  for (let start = 0; start < inc.n; start += chunk) {
    const end = Math.min(inc.n, start + chunk);
    const res = index.search(sp.incoming.subarray(start * sp.dim, end * sp.dim), kk, 1) as {
      keys: BigUint64Array;
      counts?: BigUint64Array;
    };
    for (let q = start; q < end; q++) {
      const y = inc.labels[q];
      const o = (q - start) * kk;
      const found = res.counts ? Number(res.counts[q - start]) : kk;
      // The row itself counts too: in a pocket it is one of the flipped rows, elsewhere one vote of k + 1.
      let seen = 0;
      let O = 1;
      let E = proba[q * K + y];
      let V = E * (1 - E);
      for (let j = 0; j < found && seen < k; j++) {
        const nb = Number(res.keys[o + j]);
        // Rows a confirmed trigger explains are not evidence about their neighbours (explaining away).
        if (nb === q || explained?.[nb]) continue;
        seen++;
        if (inc.labels[nb] === y) O++;
        const pj = proba[nb * K + y];
        E += pj;
        V += pj * (1 - pj);
      }
      z[q] = pocketZ(O, E, V);
      share[q] = O / (seen + 1);
      expected[q] = E / (seen + 1);
      let best = 0;
      for (let c = 1; c < K; c++) if (proba[q * K + c] > proba[q * K + best]) best = c;
      other[q] = best !== y ? 1 : 0;
    }
  }
  // The clean spread of z: robust over the whole batch (a pocket is a few rows, it cannot move a median).
  const zs = Array.from(z);
  const mid = median(zs);
  // z is standard under a calibrated model; the batch's own upper spread (to its 95th percentile: natural
  // clumps of one label where the model is miscalibrated, copies of one row) only ever widens it.
  const q95 = quantile(zs, 0.95);
  const spread = Math.max(1, 1.4826 * mad(zs, mid), (q95 - mid) / 1.645);
  const p = new Float64Array(inc.n);
  for (let i = 0; i < inc.n; i++) {
    const deep = other[i] && expected[i] <= s.maxExpected && !explained?.[i];
    p[i] = deep ? pocketP(z[i], mid, spread) : 1;
  }
  const reject = benjaminiHochberg(p, s.fdr);
  const flagged: number[] = [];
  for (let i = 0; i < inc.n; i++) if (reject[i] && p[i] < 1) flagged.push(i);
  // A pocket alone is also what a natural clump looks like where the trusted model is miscalibrated (measured:
  // 120 clean Adult rows). A targeted relabelling also concentrates in the few accounts that send it: rows of
  // accounts holding far more pocket rows than their share of the batch predicts score `rowScore`; the
  // others only order review.
  const col = inc.source ?? inc.labeler;
  const concentrating = new Set<number>();
  if (col && flagged.length > 0) {
    const rowsOf = new Map<number, number>();
    const hits = new Map<number, number>();
    for (let i = 0; i < inc.n; i++) rowsOf.set(col.codes[i], (rowsOf.get(col.codes[i]) ?? 0) + 1);
    for (const i of flagged) hits.set(col.codes[i], (hits.get(col.codes[i]) ?? 0) + 1);
    const tests = [...hits.entries()].filter(([a]) => a >= 0);
    const pv = tests.map(([a, x]) => binomialUpperTail(x, rowsOf.get(a)!, flagged.length / inc.n));
    const rej = benjaminiHochberg(pv, s.accountFdr);
    tests.forEach(([a], j) => {
      if (rej[j]) concentrating.add(a);
    });
  }
  const broad = flagged.length > Math.max(s.minBroad, s.maxShare * inc.n);
  const rows: RowFlag[] = [];
  let strongRows = 0;
  for (const i of flagged) {
    const strong = !broad && col !== undefined && concentrating.has(col.codes[i]);
    if (strong) strongRows++;
    rows.push({
      row: i,
      score: strong ? s.rowScore : s.reviewScore,
      reason: `label ${ctx.classes[inc.labels[i]]} shared by ${Math.round(100 * share[i])}% of its nearest incoming rows where the trusted model expects ${Math.round(100 * expected[i])}%`,
    });
  }
  const power: LocalLabelsPower = { rows: inc.n, k, fdr: s.fdr, mid, spread, maxExpected: s.maxExpected };
  return {
    findings: findingsOf(ctx, flagged, share, expected, strongRows),
    rows,
    publish: { [POWER_KEY]: power },
  };
}

function findingsOf(
  ctx: AuditContext,
  flagged: number[],
  b: Float64Array,
  e: Float64Array,
  strongRows: number,
): Finding[] {
  if (flagged.length === 0) return [];
  const inc = ctx.incoming;
  const dirs = new Map<string, number>();
  for (const i of flagged) {
    const key = ctx.classes[inc.labels[i]];
    dirs.set(key, (dirs.get(key) ?? 0) + 1);
  }
  const accounts = new Map<string, number>();
  const col = inc.source ?? inc.labeler;
  if (col) {
    for (const i of flagged) {
      const a = col.codes[i] < 0 ? '(none)' : col.values[col.codes[i]];
      accounts.set(a, (accounts.get(a) ?? 0) + 1);
    }
  }
  const topAccounts = [...accounts.entries()].sort((x, y) => y[1] - x[1]).slice(0, 10);
  const labels = [...dirs.entries()].sort((x, y) => y[1] - x[1]);
  const who = topAccounts.length
    ? `; sent by ${topAccounts.length < accounts.size ? `${topAccounts.length} of ${accounts.size}` : accounts.size} account(s): ${topAccounts.map(([a, c]) => `"${a}" (${c})`).join(', ')}`
    : '';
  const meanB = flagged.reduce((t, i) => t + b[i], 0) / flagged.length;
  const meanE = flagged.reduce((t, i) => t + e[i], 0) / flagged.length;
  return [
    makeFinding(
      meta,
      `${flagged.length} incoming rows sit where the trusted model expects another label but their incoming neighbours share theirs (${labels.map(([l, c]) => `${c} labelled ${l}`).join(', ')}; neighbours with the same label: ${Math.round(100 * meanB)}% in the batch, where the trusted model expects ${Math.round(100 * meanE)}%)${who}${strongRows > 0 ? `: a targeted relabelling of one region (${strongRows} rows from accounts that concentrate them); review these rows` : '; their accounts do not concentrate them (a clump where the trusted model is miscalibrated looks the same); review a sample'}.`,
      {
        // A pocket its accounts do not concentrate is also what a clump where the trusted model is miscalibrated
        // looks like: reported for review, not raised as an attack.
        severity: strongRows >= 5 ? 'high' : strongRows > 0 ? 'medium' : 'low',
        location: { rows: flagged.slice(0, 20).map((i) => inc.ids[i]), rowCount: flagged.length },
        evidence: {
          rows: flagged.length,
          labels: Object.fromEntries(labels),
          accounts: Object.fromEntries(topAccounts),
        },
      },
    ),
  ];
}

export const detector: Detector = {
  meta,
  defaults: LOCAL_LABELS_DEFAULTS,
  stage: 1,
  applies: (ctx) => ctx.classes.length >= 2 && ctx.trusted.n >= LOCAL_LABELS_DEFAULTS.minTrusted,
  needs: (ctx) =>
    ctx.classes.length < 2 ? 'two classes' : `at least ${LOCAL_LABELS_DEFAULTS.minTrusted} trusted rows`,
  // The evidence of a pocket is that a row's incoming neighbours share its label where its trusted neighbours
  // do not; in a batch of one class every neighbour shares it, so a pocket cannot stand out from the batch.
  cannotRun: (ctx) =>
    unseenClassReason(ctx) ??
    (oneClassOf(ctx) >= 0
      ? 'the batch holds one class, so every row shares its label with its incoming neighbours and a relabelled pocket cannot stand out; contradicted labels are judged row by row by audit/disagreement'
      : undefined),
  run,
};
export default detector;
