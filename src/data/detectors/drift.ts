/**
 * Detector 4: conditioning and drift. Slow conditioning moves "normal" a little each window, so that no
 * window looks different from the one before it. Here every time window is compared with the trusted
 * baseline instead, and the per-window deviations are accumulated with a one-sided CUSUM in each
 * direction, so that a creep too small to see in any one window still crosses a threshold, and the first
 * window where it does is reported. Series watched:
 *   - the label rate, overall and within each subgroup (feature = value, numeric features in trusted
 *     quantile bins): a shifting feature/label relation is what conditioning a classifier looks like;
 *   - each numeric feature's mean;
 *   - each feature's distribution (PSI and Jensen-Shannon against the trusted bins, per window);
 *   - per account (source, else labeler; each account, and the accounts absent from the trusted set pooled as
 *     one cohort): its rate of labels the trusted model contradicts, per class, and its numeric feature
 *     means, each against its peers in the same window. Conditioning by a few accounts barely moves the
 *     batch's marginals, and the peers in the same window carry any seasonality the whole batch has.
 * Numeric values are winsorised at the trusted 1st and 99th percentiles before any mean (one heavy-tailed
 * value cannot move a window); an account's feature is tested by its rows' ranks within their window (a
 * trusted set of a hundred rows knows too little of a heavy tail to clip it, and a handful of extreme rows
 * would make a small scope's mean stand out), and each window's account z-scores are scaled by their robust
 * spread across accounts (accounts differ naturally; a few conditioning accounts cannot move a median).
 * Where nine values in ten or more are one value (a count that is nearly always 0), ranks say little but which
 * rows are off it, and a normal reading of their mean would make one such row a creep: there the share of an
 * account's rows above (below) that value is tested exactly against its peers' share, as a rate is.
 * The CUSUM threshold h is set from the number of series and windows so that, on data drawn like the
 * trusted set, the chance of any false alarm stays below `familyAlpha` (a union bound over windows and
 * run lengths, so it errs on the quiet side).
 */
import { ATLAS } from '../../core/atlas.js';
import { configError } from '../../core/errors.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { cusum } from '../stats/cusum.js';
import { binOf, jensenShannon, psi, psiNoiseFloor, quantileEdges } from '../stats/divergence.js';
import { mad, median, quantile, weightedMedian } from '../stats/robust.js';
import { binomialUpperTail, normalQuantileUpper, normalUpperTail, proportionZ } from '../stats/tests.js';
import { timeText } from '../time-text.js';
import { oneClassOf, subsetDataset, unseenClassReason } from './lib/classes.js';
import { settingsFor } from './lib/settings.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/drift',
  title: 'Conditioning and drift against the trusted baseline',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Conditioning shifts the sense of normal a little each week before the real attack. Compared window ' +
    'to window nothing changes; compared with the trusted baseline and accumulated over windows (CUSUM), ' +
    'the creep in a label rate, a feature/label relation or a feature distribution becomes visible, and the ' +
    'window where it first crosses the threshold is the one to investigate.',
};

/**
 * What blind-spot.ts reads: the CUSUM's reference value k and threshold h (set for `series` series over
 * `windows` windows), and the pooled z a crossing must also reach to stand.
 */
export interface DriftPower {
  h: number;
  k: number;
  windows: number;
  series: number;
  zCrit: number;
}
export const POWER_KEY = 'power/drift';

export const DRIFT_DEFAULTS = {
  /** Number of equal-count time windows (used unless windowDuration or windowRows is set). */
  windows: 8,
  /** Window length as a duration, e.g. "1d", "12h", "1w" (overrides `windows`). */
  windowDuration: '',
  /** Rows per window, in time order (overrides `windows`; ignored when windowDuration is set). */
  windowRows: 0,
  /** Numeric features are cut at the trusted quantiles into this many bins (subgroups and PSI). */
  numericBins: 5,
  /** Most frequent categorical values per feature kept as subgroups (the rest pooled as "other"). */
  maxCategories: 20,
  /** A subgroup needs this many trusted rows, and a window this many rows in it, to be tested. */
  minSupport: 30,
  /** CUSUM reference value k (in standard errors per window): smaller shifts are absorbed. */
  cusumK: 0.5,
  /** Expected false CUSUM alarms over all series on data drawn like the trusted set (sets the threshold h). */
  cusumScreen: 0.5,
  /** Chance of any confirmed false alarm (a CUSUM alarm whose pooled windows also differ from the trusted set). */
  familyAlpha: 0.01,
  /** A label-rate series must also move at least this much (absolute) by its crossing window. */
  minEffect: 0.03,
  /** PSI at or above which a window's feature distribution counts as shifted (0.25 = major shift). */
  psiThreshold: 0.25,
  /** ...and at least this multiple of the PSI expected from sampling noise alone. */
  psiNoiseFactor: 4,
  /**
   * Score of a row in a drifted subgroup, after the crossing, that carries the drifted-towards label and that
   * the trusted model contradicts. Drift is a property of a population, not proof against one row: kept
   * below the quarantine threshold so that it orders the review, and tips a row over only with other evidence.
   */
  rowScore: 0.2,
  /**
   * Highest score of a row in an account's drifted contradicted-label series (the account's share of such rows
   * its peers' rate does not explain): account-specific evidence, unlike a population drift.
   */
  accountRowScore: 0.9,
  /** Findings listed (the strongest first). */
  maxReported: 10,
};
export type DriftSettings = typeof DRIFT_DEFAULTS;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m || Number(m[1]) <= 0) {
    throw configError(`audit/drift.windowDuration: "${text}" is not a duration`, 'use e.g. 1d, 12h, 30m, 1w');
  }
  return Number(m[1]) * UNIT_MS[m[2]];
}

export interface Windows {
  /** Window index of each incoming row (-1: no time). */
  of: Int32Array;
  count: number;
  /** [start, end] epoch ms of each window. */
  ranges: Array<[number, number]>;
}

/** Cut the incoming rows into time windows (equal counts by default; rows with equal times stay together). */
export function makeWindows(time: Float64Array, s: DriftSettings): Windows {
  const n = time.length;
  const of = new Int32Array(n).fill(-1);
  const timed: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(time[i])) timed.push(i);
  timed.sort((a, b) => time[a] - time[b]);
  if (timed.length === 0) return { of, count: 0, ranges: [] };
  const t0 = time[timed[0]];
  const t1 = time[timed[timed.length - 1]];
  let count: number;
  if (s.windowDuration) {
    const d = parseDuration(s.windowDuration);
    count = Math.floor((t1 - t0) / d) + 1;
    if (count > 10_000)
      throw configError(
        `audit/drift.windowDuration ${s.windowDuration} makes ${count} windows; use a longer one`,
      );
    for (const i of timed) of[i] = Math.floor((time[i] - t0) / d);
  } else {
    const per = s.windowRows > 0 ? s.windowRows : Math.ceil(timed.length / Math.max(1, s.windows));
    count = Math.ceil(timed.length / per);
    // Boundaries at the time of every per-th row; ties go to the later window's start.
    const bounds: number[] = [];
    for (let w = 1; w < count; w++) bounds.push(time[timed[w * per]]);
    let w = 0;
    for (const i of timed) {
      while (w < bounds.length && time[i] >= bounds[w]) w++;
      of[i] = w;
    }
  }
  const ranges: Array<[number, number]> = Array.from({ length: count }, () => [Infinity, -Infinity]);
  for (const i of timed) {
    const r = ranges[of[i]];
    r[0] = Math.min(r[0], time[i]);
    r[1] = Math.max(r[1], time[i]);
  }
  return { of, count, ranges };
}

interface Binned {
  feature: string;
  bins: number;
  names: string[];
  trusted: Int32Array;
  incoming: Int32Array;
}

/** Put each feature of both tables on one set of bins fitted on the trusted table. */
function binFeatures(ctx: AuditContext, s: DriftSettings): Binned[] {
  const out: Binned[] = [];
  for (const [feature, tv] of ctx.trusted.numeric) {
    const iv = ctx.incoming.numeric.get(feature);
    if (!iv) continue;
    const edges = quantileEdges(tv, s.numericBins);
    const bins = edges.length + 2;
    const names: string[] = [];
    for (let b = 0; b <= edges.length; b++) {
      const lo = b === 0 ? '-inf' : fmt(edges[b - 1]);
      const hi = b === edges.length ? 'inf' : fmt(edges[b]);
      names.push(`[${lo}, ${hi})`);
    }
    names.push('missing');
    const code = (v: Float64Array) => Int32Array.from(v, (x) => binOf(x, edges));
    out.push({ feature, bins, names, trusted: code(tv), incoming: code(iv) });
  }
  for (const [feature, tc] of ctx.trusted.categorical) {
    const ic = ctx.incoming.categorical.get(feature);
    if (!ic) continue;
    const counts = new Map<string, number>();
    for (let i = 0; i < tc.codes.length; i++) {
      const c = tc.codes[i];
      const v = c < 0 ? '' : tc.values[c];
      if (c >= 0) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const kept = [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, s.maxCategories)
      .map(([v]) => v);
    const index = new Map(kept.map((v, i) => [v, i]));
    const other = kept.length;
    const missing = kept.length + 1;
    const code = (c: { codes: Int32Array; values: string[] }) =>
      Int32Array.from(c.codes, (k) => (k < 0 ? missing : (index.get(c.values[k]) ?? other)));
    out.push({
      feature,
      bins: kept.length + 2,
      names: [...kept, 'other', 'missing'],
      trusted: code(tc),
      incoming: code(ic),
    });
  }
  return out;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/**
 * Union bound on P(max_t S_t >= h) for a one-sided CUSUM of W standard-normal steps with reference k:
 * Σ_t Σ_{m ≤ t+1} P(Z >= (h + k m) / √m).
 */
export function cusumFalseAlarmBound(h: number, windows: number, k: number): number {
  let p = 0;
  for (let m = 1; m <= windows; m++) p += (windows - m + 1) * normalUpperTail((h + k * m) / Math.sqrt(m));
  return p;
}

/** Smallest h (step 0.25) whose union-bound false-alarm chance over `series` series is at most alpha. */
export function cusumThreshold(series: number, windows: number, k: number, alpha: number): number {
  for (let h = 2; h < 40; h += 0.25) if (series * cusumFalseAlarmBound(h, windows, k) <= alpha) return h;
  return 40;
}

interface Series {
  kind: 'label' | 'subgroup-label' | 'feature-mean' | 'account-label' | 'account-feature';
  /** Account scope (account series): its name and its account codes. */
  account?: string;
  codes?: number[];
  feature?: string;
  group?: string;
  /** Class whose rate is watched (label series). */
  cls?: number;
  direction: 1 | -1;
  z: Float64Array;
  /** Trusted value and per-window values (rates or means). */
  base: number;
  values: Float64Array;
  support: Float64Array;
  /**
   * Account series of a feature nine values in ten of which are one value (a zero-inflated count): the share
   * of rows beyond that value (above it for direction 1, below for -1) is watched, not the mean.
   */
  beyond?: number;
  /** Bin code for row flagging (subgroup series). */
  binned?: Binned;
  bin?: number;
  /**
   * z of windows a..b pooled against the trusted value, in the series' direction, with the trusted
   * value's own uncertainty in the standard error. Every window shares that one trusted estimate, so the
   * per-window z values are correlated and a CUSUM alarm alone would overstate the evidence; an alarm
   * stands only when some run of recent windows, pooled, differs significantly from the trusted set.
   */
  pooled: (a: number, b: number) => number;
}

export function run(full: AuditContext): DetectorOutput {
  // A batch of one class is compared with the trusted rows of that class (the whole trusted set mixes in
  // classes the batch does not hold), and its label rate, 100% by selection, is not watched.
  const only = oneClassOf(full);
  const ctx =
    only < 0
      ? full
      : { ...full, trusted: subsetDataset(full.trusted, (i) => full.trusted.labels[i] === only) };
  const s = settingsFor(ctx, meta.id, DRIFT_DEFAULTS);
  const inc = ctx.incoming;
  const tr = ctx.trusted;
  const win = makeWindows(inc.time!, s);
  const W = win.count;
  if (W < 2) {
    return {
      findings: [
        makeFinding(meta, 'Fewer than two time windows: drift over time was not assessed.', {
          severity: 'info',
          location: { column: ctx.roles.time },
          evidence: { windows: W },
        }),
      ],
      rows: [],
    };
  }
  const k = ctx.classes.length;
  const watched = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const binned = binFeatures(ctx, s);
  const series: Series[] = [];

  // Label rate, overall and per subgroup: counts per (window, class) against trusted counts.
  // Label counts per (group, class) in the trusted set and per (group, window, class) in the batch, one pass
  // per grouping (group code of each row, or 0 for "everyone"); then one series per group and class.
  const K1 = k + 1;
  const labelSeries = (
    kind: Series['kind'],
    groups: number,
    trustedGroup: (r: number) => number,
    incomingGroup: (r: number) => number,
    extra: (g: number) => Partial<Series> | undefined,
  ) => {
    const T = new Float64Array(groups * K1);
    for (let r = 0; r < tr.n; r++) {
      const y = tr.labels[r];
      if (y < 0) continue;
      const g = trustedGroup(r);
      T[g * K1 + k]++;
      T[g * K1 + y]++;
    }
    const I = new Float64Array(groups * W * K1);
    for (let r = 0; r < inc.n; r++) {
      const w = win.of[r];
      const y = inc.labels[r];
      if (w < 0 || y < 0) continue;
      const o = (incomingGroup(r) * W + w) * K1;
      I[o + k]++;
      I[o + y]++;
    }
    for (let g = 0; g < groups; g++) {
      const more = extra(g);
      if (!more) continue;
      const n0 = T.subarray(g * K1, (g + 1) * K1);
      if (n0[k] < s.minSupport) continue;
      const nw = I.subarray(g * W * K1, (g + 1) * W * K1);
      for (const c of watched) {
        const z = new Float64Array(W);
        const values = new Float64Array(W);
        const support = new Float64Array(W);
        for (let w = 0; w < W; w++) {
          const n1 = nw[w * K1 + k];
          const x1 = nw[w * K1 + c];
          support[w] = n1;
          values[w] = n1 ? x1 / n1 : Number.NaN;
          z[w] = n1 >= Math.min(s.minSupport, 20) ? proportionZ(x1, n1, n0[c], n0[k]) : 0;
        }
        const pooled = (direction: number) => (a: number, b: number) => {
          let x1 = 0;
          let m1 = 0;
          for (let w = a; w <= b; w++) {
            x1 += nw[w * K1 + c];
            m1 += nw[w * K1 + k];
          }
          return direction * proportionZ(x1, m1, n0[c], n0[k]);
        };
        for (const direction of [1, -1] as const) {
          series.push({
            kind,
            cls: c,
            direction,
            z: direction === 1 ? z : z.map((v) => -v),
            base: n0[c] / n0[k],
            values,
            support,
            pooled: pooled(direction),
            ...more,
          });
        }
      }
    }
  };
  if (only < 0)
    labelSeries(
      'label',
      1,
      () => 0,
      () => 0,
      () => ({}),
    );
  for (const b of only < 0 ? binned : []) {
    const share = new Float64Array(b.bins);
    for (const g of b.trusted) share[g] += 1 / Math.max(1, tr.n);
    labelSeries(
      'subgroup-label',
      b.bins,
      (r) => b.trusted[r],
      (r) => b.incoming[r],
      // A subgroup that is (nearly) everyone repeats the overall label series.
      (g) => (share[g] > 0.95 ? undefined : { feature: b.feature, group: b.names[g], binned: b, bin: g }),
    );
  }
  // Numeric feature means.
  const clipOf = winsorisers(ctx);
  for (const [feature, tv] of tr.numeric) {
    const iv = inc.numeric.get(feature);
    const clip = clipOf.get(feature);
    if (!iv || !clip) continue;
    let n0 = 0;
    let sum = 0;
    let sq = 0;
    for (const raw of tv) {
      if (Number.isNaN(raw)) continue;
      const v = clip(raw);
      n0++;
      sum += v;
      sq += v * v;
    }
    if (n0 < s.minSupport) continue;
    const mu = sum / n0;
    const var0 = Math.max(0, sq / n0 - mu * mu);
    if (var0 === 0) continue;
    const nw = new Float64Array(W);
    const sw = new Float64Array(W);
    for (let r = 0; r < inc.n; r++) {
      const w = win.of[r];
      if (w < 0 || Number.isNaN(iv[r])) continue;
      nw[w]++;
      sw[w] += clip(iv[r]);
    }
    const z = new Float64Array(W);
    const values = new Float64Array(W);
    for (let w = 0; w < W; w++) {
      values[w] = nw[w] ? sw[w] / nw[w] : Number.NaN;
      z[w] = nw[w] >= 20 ? (values[w] - mu) / Math.sqrt(var0 / nw[w] + var0 / n0) : 0;
    }
    const pooled = (direction: number) => (a: number, b: number) => {
      let m = 0;
      let sum1 = 0;
      for (let w = a; w <= b; w++) {
        m += nw[w];
        sum1 += sw[w];
      }
      return m ? (direction * (sum1 / m - mu)) / Math.sqrt(var0 / m + var0 / n0) : 0;
    };
    for (const direction of [1, -1] as const) {
      series.push({
        kind: 'feature-mean',
        feature,
        direction,
        z: direction === 1 ? z : z.map((v) => -v),
        base: mu,
        values,
        support: nw,
        pooled: pooled(direction),
      });
    }
  }

  // Accounts known to the trusted set are known whatever the class of their trusted rows.
  for (const sr of accountSeries({ ...ctx, trusted: full.trusted }, win, clipOf, s)) series.push(sr);

  // The CUSUM raises alarms (h allows about `cusumScreen` false alarms over all series); an alarm stands only
  // when a run of windows ending there, pooled, differs from the trusted set at the family error rate
  // (Bonferroni over series, windows and the three runs tried: the CUSUM's own run since its last reset,
  // the window alone, and every window so far).
  const h = cusumThreshold(series.length, W, s.cusumK, s.cusumScreen);
  const zCrit = normalQuantileUpper(s.familyAlpha / (series.length * W * 3));
  const crossed: Array<{ sr: Series; first: number; peak: number; path: Float64Array }> = [];
  for (const sr of series) {
    const { path } = cusum(sr.z, s.cusumK, h);
    let first = -1;
    let runStart = 0;
    for (let t = 0; t < W && first < 0; t++) {
      if (t > 0 && path[t - 1] === 0) runStart = t;
      if (path[t] < h) continue;
      // Confirm with the trusted estimate's own noise: a run of windows ending at t, pooled.
      let confirmed = sr.pooled(runStart, t) >= zCrit || sr.pooled(t, t) >= zCrit || sr.pooled(0, t) >= zCrit;
      // ...and require a material move, not only a significant one.
      if (confirmed && sr.kind !== 'feature-mean' && sr.kind !== 'account-feature') {
        let moved = false;
        for (let w = 0; w <= t; w++) if (Math.abs(sr.values[w] - sr.base) >= s.minEffect) moved = true;
        confirmed = moved;
      }
      if (confirmed) first = t;
    }
    if (first < 0) continue;
    crossed.push({ sr, first, peak: path.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY), path });
  }
  // Earliest first; within a window, the largest move (the subgroup that drives it before its supersets).
  const effect = (c: { sr: Series }) =>
    Math.abs(lastValid(c.sr.values) - c.sr.base) / Math.max(1e-9, Math.abs(c.sr.base) || 1);
  crossed.sort((a, b) => a.first - b.first || effect(b) - effect(a));

  // Per-window PSI / JS of each feature.
  const psiChart: Array<{ feature: string; window: number; psi: number | null; js: number | null }> = [];
  const psiHits: Array<{ feature: string; first: number; psi: number; js: number; drivers: string[] }> = [];
  for (const b of binned) {
    const c0 = new Float64Array(b.bins);
    for (const g of b.trusted) c0[g]++;
    let hit: (typeof psiHits)[number] | undefined;
    const cw = new Float64Array(W * b.bins);
    for (let r = 0; r < inc.n; r++) if (win.of[r] >= 0) cw[win.of[r] * b.bins + b.incoming[r]]++;
    for (let w = 0; w < W; w++) {
      const c1 = cw.subarray(w * b.bins, (w + 1) * b.bins);
      const n1 = c1.reduce((a, x) => a + x, 0);
      if (n1 === 0) continue;
      const p = psi(c0, c1);
      const js = jensenShannon(c0, c1);
      psiChart.push({ feature: b.feature, window: w + 1, psi: round(p), js: round(js) });
      const used = c0.reduce((a, x, i) => a + (x + c1[i] > 0 ? 1 : 0), 0);
      if (!hit && p >= s.psiThreshold && p >= s.psiNoiseFactor * psiNoiseFloor(used, tr.n, n1)) {
        const n0 = tr.n;
        const drivers = Array.from({ length: b.bins }, (_, g) => g)
          .map((g) => ({ g, d: c1[g] / n1 - c0[g] / n0 }))
          .sort((x, y) => Math.abs(y.d) - Math.abs(x.d))
          .slice(0, 3)
          .map(({ g, d }) => `${b.names[g]} ${d > 0 ? '+' : ''}${(100 * d).toFixed(1)} pts`);
        hit = { feature: b.feature, first: w, psi: p, js, drivers };
      }
    }
    if (hit) psiHits.push(hit);
  }

  const findings: Finding[] = [];
  const windowName = (w: number) => `window ${w + 1} of ${W}`;
  for (const c of crossed.slice(0, s.maxReported)) findings.push(seriesFinding(ctx, c, windowName, win, h));
  if (crossed.length > s.maxReported) {
    findings.push(
      makeFinding(meta, `${crossed.length - s.maxReported} more drifting series (not listed).`, {
        severity: 'low',
        evidence: { more: crossed.length - s.maxReported },
      }),
    );
  }
  for (const p of psiHits.sort((a, b) => a.first - b.first || b.psi - a.psi).slice(0, s.maxReported)) {
    findings.push(
      makeFinding(
        meta,
        `Feature "${p.feature}" drifted from the trusted distribution from ${windowName(p.first)} (PSI ${p.psi.toFixed(2)}); driven by ${p.drivers.join(', ')}.`,
        {
          severity: 'medium',
          location: { column: p.feature },
          evidence: {
            kind: 'feature-distribution',
            firstWindow: p.first + 1,
            psi: round(p.psi),
            js: round(p.js),
            drivers: p.drivers,
          },
        },
      ),
    );
  }

  // Rows: in a drifted label relation, after the crossing, carrying the drifted-towards label, contradicted by the trusted model.
  const rows = flagRows(ctx, crossed, win, s);
  const labelChart = Array.from({ length: W }, (_, w) => {
    const row: Record<string, unknown> = {
      window: w + 1,
      start: timeText(win.ranges[w][0]),
      end: timeText(win.ranges[w][1]),
    };
    for (const sr of series)
      if (sr.kind === 'label' && sr.direction === 1) row[ctx.classes[sr.cls!]] = round(sr.values[w]);
    return row;
  });
  // The baseline each window is judged against: the trusted set's share of each label.
  const trustedCounts = new Float64Array(ctx.classes.length);
  for (let r = 0; r < tr.n; r++) if (tr.labels[r] >= 0) trustedCounts[tr.labels[r]]++;
  const labelRateTrusted = Object.fromEntries(
    ctx.classes.map((c, i) => [c, round(trustedCounts[i] / Math.max(1, tr.n))]),
  );
  return {
    findings,
    rows,
    charts: {
      driftByFeature: psiChart,
      labelRateByWindow: labelChart,
      labelRateTrusted,
      cusum: crossed
        .slice(0, 5)
        .map((c) => ({ series: describe(ctx, c.sr), threshold: h, path: Array.from(c.path, round) })),
    },
    publish: {
      driftFirstWindow: crossed.length ? crossed[0].first + 1 : null,
      [POWER_KEY]: { h, k: s.cusumK, windows: W, series: series.length, zCrit } satisfies DriftPower,
    },
  };
}

/**
 * Each row's mid-rank among the rows of its window with a value, scaled to (0, 1) (NaN where the value is
 * missing or the row is in no window).
 */
function windowRanks(values: Float64Array, win: Windows): Float64Array {
  const out = new Float64Array(values.length).fill(Number.NaN);
  const rowsOf: number[][] = Array.from({ length: win.count }, () => []);
  for (let r = 0; r < values.length; r++)
    if (win.of[r] >= 0 && !Number.isNaN(values[r])) rowsOf[win.of[r]].push(r);
  for (const rows of rowsOf) {
    rows.sort((a, b) => values[a] - values[b]);
    for (let i = 0; i < rows.length; ) {
      let j = i;
      while (j + 1 < rows.length && values[rows[j + 1]] === values[rows[i]]) j++;
      const u = (i + j + 2) / 2 / (rows.length + 1);
      for (let t = i; t <= j; t++) out[rows[t]] = u;
      i = j + 1;
    }
  }
  return out;
}

/**
 * The value nine in ten or more of a column's non-missing values have (a count that is nearly always 0), if any:
 * where ranks of the rest are too few for a normal reading of an account's mean rank.
 */
function modalValue(x: Float64Array): { value: number } | undefined {
  // Boyer-Moore majority vote: one pass, no table, then a count to confirm the candidate.
  let cand = Number.NaN;
  let votes = 0;
  for (const v of x) {
    if (Number.isNaN(v)) continue;
    if (votes === 0) cand = v;
    votes += v === cand ? 1 : -1;
  }
  let n = 0;
  let c = 0;
  for (const v of x) {
    if (Number.isNaN(v)) continue;
    n++;
    if (v === cand) c++;
  }
  return n > 0 && c >= 0.9 * n ? { value: cand } : undefined;
}

/** Per numeric feature: clip to the trusted 1st and 99th percentiles (a winsorised mean resists heavy tails). */
function winsorisers(ctx: AuditContext): Map<string, (v: number) => number> {
  const out = new Map<string, (v: number) => number>();
  for (const [feature, tv] of ctx.trusted.numeric) {
    const lo = quantile(tv, 0.01);
    const hi = quantile(tv, 0.99);
    if (Number.isNaN(lo) || Number.isNaN(hi)) continue;
    out.set(feature, (v: number) => (v < lo ? lo : v > hi ? hi : v));
  }
  return out;
}

/**
 * Account series (see header): per scope (one account, or the cohort of accounts absent from the trusted set)
 * and window, the scope's rate of labels the trusted model contradicts, per class, and the mean rank of its
 * feature values within the window, each as a z against the other accounts in the same window. Each window's
 * z-scores are divided by their robust spread across accounts (at least 1), so that accounts which differ
 * naturally do not alarm.
 */
function accountSeries(
  ctx: AuditContext,
  win: Windows,
  clipOf: Map<string, (v: number) => number>,
  s: DriftSettings,
): Series[] {
  const inc = ctx.incoming;
  const col = inc.source ?? inc.labeler;
  const trustedCol = inc.source ? ctx.trusted.source : ctx.trusted.labeler;
  if (!col) return [];
  const W = win.count;
  const k = ctx.classes.length;
  const proba = ctx.shared.trustedProba;
  const useProba = proba !== undefined && proba.length === inc.n * k;
  const rowsOf = new Float64Array(col.values.length);
  for (let r = 0; r < inc.n; r++) if (col.codes[r] >= 0 && win.of[r] >= 0) rowsOf[col.codes[r]]++;
  const scopes: Array<{ name: string; codes: number[] }> = [];
  for (let a = 0; a < rowsOf.length; a++)
    if (rowsOf[a] >= s.minSupport) scopes.push({ name: col.values[a], codes: [a] });
  if (trustedCol) {
    const known = new Set(Array.from(trustedCol.codes, (c) => (c < 0 ? '' : trustedCol.values[c])));
    const fresh: number[] = [];
    for (let a = 0; a < rowsOf.length; a++) if (rowsOf[a] > 0 && !known.has(col.values[a])) fresh.push(a);
    const freshRows = fresh.reduce((t, a) => t + rowsOf[a], 0);
    const all = rowsOf.reduce((t, x) => t + x, 0);
    if (fresh.length >= 2 && freshRows >= s.minSupport && freshRows < 0.5 * all)
      scopes.push({ name: `(${fresh.length} accounts absent from the trusted set)`, codes: fresh });
  }
  // Too few accounts to have peers.
  if (scopes.length < 4) return [];
  const scopeOf = new Int32Array(col.values.length).fill(-1);
  // A code can belong to its own scope and to the cohort; the cohort is handled through `inCohort`.
  const cohort = scopes.length > 0 && scopes[scopes.length - 1].codes.length > 1 ? scopes.length - 1 : -1;
  const inCohort = new Uint8Array(col.values.length);
  scopes.forEach((sc, j) => {
    if (j === cohort) for (const a of sc.codes) inCohort[a] = 1;
    else scopeOf[sc.codes[0]] = j;
  });
  const S = scopes.length;
  // Quantities per row: one per class (label contradicted into it, or the label itself without a model),
  // then per numeric feature its rank within the window, or, where nine in ten of its values are one value, whether
  // the row is above it and whether below it (two rates).
  const feats = [...inc.numeric.keys()].filter((f) => clipOf.has(f) && ctx.trusted.numeric.has(f));
  interface FeatureQuantity {
    /** A share of rows beyond `beyond` (tested as a rate), or a mean rank. */
    rate: boolean;
    feature: string;
    /** Per row: the value tested (NaN: missing), and the value shown (the share's 0/1, or the winsorised value). */
    of: (r: number) => number;
    shown: (r: number) => number;
    beyond?: number;
    direction?: 1 | -1;
  }
  const quantities: FeatureQuantity[] = [];
  for (const f of feats) {
    const x = inc.numeric.get(f)!;
    const clip = clipOf.get(f)!;
    const shown = (r: number) => (Number.isNaN(x[r]) ? Number.NaN : clip(x[r]));
    const mode = modalValue(x);
    if (mode) {
      const m = mode.value;
      const off = (sign: 1 | -1) => (r: number) =>
        Number.isNaN(x[r]) ? Number.NaN : sign * (x[r] - m) > 0 ? 1 : 0;
      quantities.push({ rate: true, feature: f, of: off(1), shown: off(1), beyond: m, direction: 1 });
      quantities.push({ rate: true, feature: f, of: off(-1), shown: off(-1), beyond: m, direction: -1 });
      continue;
    }
    // Each row's rank within its window (a heavy tail's few extreme rows cannot make an account's mean stand
    // out); its winsorised value is kept to say how far the mean moved.
    const rank = windowRanks(x, win);
    quantities.push({ rate: false, feature: f, of: (r) => rank[r], shown });
  }
  const Q = k + quantities.length;
  // Quantity q < k is class q's rate; q >= k is quantities[q - k].
  const isRate = Uint8Array.from({ length: Q }, (_, q) => (q < k || quantities[q - k].rate ? 1 : 0));
  const n = new Float64Array(S * W * Q);
  const sum = new Float64Array(S * W * Q);
  const sq = new Float64Array(S * W * Q);
  const raw = new Float64Array(S * W * Q);
  const tn = new Float64Array(W * Q);
  const tsum = new Float64Array(W * Q);
  const tsq = new Float64Array(W * Q);
  const add = (j: number, w: number, q: number, v: number, x: number) => {
    const o = (j * W + w) * Q + q;
    n[o]++;
    sum[o] += v;
    sq[o] += v * v;
    raw[o] += x;
  };
  for (let r = 0; r < inc.n; r++) {
    const w = win.of[r];
    const a = col.codes[r];
    if (w < 0 || a < 0) continue;
    const y = inc.labels[r];
    const vals: number[] = [];
    for (let c = 0; c < k; c++) {
      let v = y === c ? 1 : 0;
      if (v && useProba) {
        let best = 0;
        for (let d = 1; d < k; d++) if (proba[r * k + d] > proba[r * k + best]) best = d;
        v = best !== c ? 1 : 0;
      }
      vals.push(v);
    }
    const shown = vals.slice();
    for (const u of quantities) {
      vals.push(u.of(r));
      shown.push(u.shown(r));
    }
    for (let q = 0; q < Q; q++) {
      const v = vals[q];
      if (Number.isNaN(v)) continue;
      const o = w * Q + q;
      tn[o]++;
      tsum[o] += v;
      tsq[o] += v * v;
      if (scopeOf[a] >= 0) add(scopeOf[a], w, q, v, shown[q]);
      if (inCohort[a] && cohort >= 0) add(cohort, w, q, v, shown[q]);
    }
  }
  // The peers' value in each window. A feature mean: the row-weighted median of the accounts' means (a few
  // conditioning accounts with a heavy-tailed creep cannot drag it, unlike a pooled mean, which would make
  // every honest account look shifted the other way). A rate: the pooled rate of the window's rows (bounded,
  // so a few accounts move it little; a median of rates is 0 for a rare event, which every row then beats).
  const peer = new Float64Array(W * Q);
  const peerShown = new Float64Array(W * Q);
  for (let w = 0; w < W; w++) {
    for (let q = 0; q < Q; q++) {
      const vals: number[] = [];
      const shown: number[] = [];
      const wts: number[] = [];
      for (let j = 0; j < S; j++) {
        const o = (j * W + w) * Q + q;
        if (j === cohort || n[o] === 0) continue;
        vals.push(sum[o] / n[o]);
        shown.push(raw[o] / n[o]);
        wts.push(n[o]);
      }
      const t = w * Q + q;
      const mean = !isRate[q] && vals.length >= 4;
      peer[t] = mean ? weightedMedian(vals, wts) : tn[t] ? tsum[t] / tn[t] : Number.NaN;
      peerShown[t] = mean ? weightedMedian(shown, wts) : peer[t];
    }
  }
  // z of a scope over windows a..b against its peers in the same windows.
  const zOf = (j: number, q: number, a: number, b: number): number => {
    let n1 = 0;
    let s1 = 0;
    let ref = 0;
    let v = 0;
    for (let w = a; w <= b; w++) {
      const o = (j * W + w) * Q + q;
      const t = w * Q + q;
      if (n[o] === 0 || Number.isNaN(peer[t])) continue;
      n1 += n[o];
      s1 += sum[o];
      ref += n[o] * peer[t];
      const nn = Math.max(1, tn[t]);
      // A rate's variance is read at the peers' rate (at least half a row of the window: a rare event is not
      // certain to be absent); a mean's at the window's own variance. The peers' median is itself estimated.
      const pr = Math.max(peer[t], 0.5 / nn);
      const vw = isRate[q] ? pr * (1 - pr) : Math.max(1e-12, tsq[t] / nn - (tsum[t] / nn) ** 2);
      v += n[o] * vw * (1 + (n[o] * 1.57) / Math.max(1, nn - n[o]));
    }
    if (n1 < 1 || v <= 0) return 0;
    // A count above what the peers' rate predicts: its exact binomial tail read as a z (a single row where
    // 0.07 were expected is a z of 1.5, not the 3.5 a normal approximation gives).
    if (isRate[q] && s1 > ref)
      return Math.min(40, normalQuantileUpper(binomialUpperTail(Math.round(s1), n1, ref / n1)));
    return (s1 - ref) / Math.sqrt(v);
  };
  const minRows = Math.min(s.minSupport, 20);
  const series: Series[] = [];
  // Per window and quantity: the robust spread of the accounts' z-scores (at least 1).
  const spread = new Float64Array(W * Q).fill(1);
  for (let w = 0; w < W; w++) {
    for (let q = 0; q < Q; q++) {
      const zs: number[] = [];
      for (let j = 0; j < S; j++)
        if (j !== cohort && n[(j * W + w) * Q + q] >= minRows) zs.push(zOf(j, q, w, w));
      if (zs.length >= 8) spread[w * Q + q] = Math.max(1, mad(zs, median(zs)));
    }
  }
  const pooledSpread = (q: number, a: number, b: number) => {
    let t = 0;
    for (let w = a; w <= b; w++) t += spread[w * Q + q];
    return t / (b - a + 1);
  };
  for (let j = 0; j < S; j++) {
    for (let q = 0; q < Q; q++) {
      const z = new Float64Array(W);
      const values = new Float64Array(W);
      const support = new Float64Array(W);
      let any = false;
      for (let w = 0; w < W; w++) {
        const o = (j * W + w) * Q + q;
        support[w] = n[o];
        values[w] = n[o] ? raw[o] / n[o] : Number.NaN;
        if (n[o] >= minRows) {
          z[w] = zOf(j, q, w, w) / spread[w * Q + q];
          any = true;
        }
      }
      if (!any) continue;
      let p0 = 0;
      let m0 = 0;
      for (let w = 0; w < W; w++) {
        const o = (j * W + w) * Q + q;
        if (n[o] === 0 || Number.isNaN(peerShown[w * Q + q])) continue;
        p0 += n[o] * peerShown[w * Q + q];
        m0 += n[o];
      }
      const base = m0 ? p0 / m0 : Number.NaN;
      const u = q < k ? undefined : quantities[q - k];
      if (!u || u.rate) {
        // A rate is watched upwards only: a class's contradicted labels, or the rows beyond a feature's
        // common value on one side.
        series.push({
          kind: q < k ? 'account-label' : 'account-feature',
          cls: q < k ? q : undefined,
          feature: u?.feature,
          ...(u?.beyond === undefined ? {} : { beyond: u.beyond }),
          account: scopes[j].name,
          codes: scopes[j].codes,
          direction: u?.direction ?? 1,
          z,
          base,
          values,
          support,
          pooled: (a, b) => zOf(j, q, a, b) / pooledSpread(q, a, b),
        });
        continue;
      }
      for (const direction of [1, -1] as const) {
        series.push({
          kind: 'account-feature',
          feature: u.feature,
          account: scopes[j].name,
          codes: scopes[j].codes,
          direction,
          z: direction === 1 ? z : z.map((v) => -v),
          base,
          values,
          support,
          pooled: (a, b) => (direction * zOf(j, q, a, b)) / pooledSpread(q, a, b),
        });
      }
    }
  }
  return series;
}

function describe(ctx: AuditContext, sr: Series): string {
  const dir = sr.direction === 1 ? 'up' : 'down';
  if (sr.kind === 'feature-mean') return `mean of ${sr.feature} ${dir}`;
  if (sr.kind === 'account-feature' && sr.beyond !== undefined)
    return `share of ${sr.feature} ${sr.direction === 1 ? 'above' : 'below'} ${fmt(sr.beyond)} for ${sr.account} up`;
  if (sr.kind === 'account-feature') return `mean of ${sr.feature} for ${sr.account} ${dir}`;
  const cls = ctx.classes[sr.cls!];
  if (sr.kind === 'account-label') return `contradicted labels "${cls}" of ${sr.account} ${dir}`;
  return sr.kind === 'label'
    ? `rate of label "${cls}" ${dir}`
    : `rate of label "${cls}" where ${sr.feature} = ${sr.group} ${dir}`;
}

function seriesFinding(
  ctx: AuditContext,
  c: { sr: Series; first: number; peak: number; path: Float64Array },
  windowName: (w: number) => string,
  win: Windows,
  h: number,
): Finding {
  const { sr, first } = c;
  const last = lastValid(sr.values);
  let message: string;
  const members = sr.codes?.map((a) => accountColumn(ctx)!.values[a]);
  const who =
    members && members.length > 1
      ? `${members.length} accounts absent from the trusted set (${members.slice(0, 10).join(', ')}${members.length > 10 ? ', ...' : ''})`
      : `account "${sr.account}"`;
  if (sr.kind === 'account-label') {
    message = `Conditioning by ${who}: the share of its rows labelled "${ctx.classes[sr.cls!]}" against the trusted model's reading rose to ${pctf(last)} (other accounts in the same windows: ${pctf(sr.base)}); cumulative drift crossed the threshold in ${windowName(first)}; review its rows from that window on.`;
  } else if (sr.kind === 'account-feature' && sr.beyond !== undefined) {
    message = `Conditioning by ${who}: the share of its rows with "${sr.feature}" ${sr.direction === 1 ? 'above' : 'below'} ${fmt(sr.beyond)} (the value most rows have) rose to ${pctf(last)} (other accounts: ${pctf(sr.base)}); cumulative drift crossed the threshold in ${windowName(first)}.`;
  } else if (sr.kind === 'account-feature') {
    message = `Conditioning by ${who}: the mean of "${sr.feature}" in its rows crept ${sr.direction === 1 ? 'up' : 'down'} to ${fmt(last)} (other accounts: ${fmt(sr.base)}); cumulative drift crossed the threshold in ${windowName(first)}.`;
  } else if (sr.kind === 'feature-mean') {
    message = `The mean of "${sr.feature}" crept ${sr.direction === 1 ? 'up' : 'down'} from ${fmt(sr.base)} (trusted) to ${fmt(last)}; cumulative drift crossed the threshold in ${windowName(first)}.`;
  } else {
    const cls = ctx.classes[sr.cls!];
    const where = sr.kind === 'label' ? '' : ` among rows where ${sr.feature} = ${sr.group}`;
    message = `Label drift: the share of label "${cls}"${where} moved from ${pctf(sr.base)} (trusted) to ${pctf(last)}; cumulative drift crossed the threshold in ${windowName(first)}; review the rows from that window on.`;
  }
  return makeFinding(meta, message, {
    severity: sr.kind === 'feature-mean' ? 'medium' : 'high',
    location: {
      column: sr.account ? (ctx.roles.source ?? ctx.roles.labeler) : (sr.feature ?? ctx.roles.label),
      slice: sr.group ?? sr.account,
    },
    evidence: {
      kind: sr.kind,
      ...(members ? { accounts: members.slice(0, 50), feature: sr.feature } : {}),
      firstWindow: first + 1,
      windowStart: timeText(win.ranges[first][0]),
      trusted: round(sr.base),
      perWindow: Array.from(sr.values, round),
      cusum: Array.from(c.path, round),
      threshold: h,
      class: sr.cls === undefined ? undefined : ctx.classes[sr.cls],
    },
  });
}

function flagRows(
  ctx: AuditContext,
  crossed: Array<{ sr: Series; first: number }>,
  win: Windows,
  s: DriftSettings,
): RowFlag[] {
  const inc = ctx.incoming;
  const k = ctx.classes.length;
  const proba = ctx.shared.trustedProba;
  const useProba = proba !== undefined && proba.length === inc.n * k;
  const score = new Float32Array(inc.n);
  const why = new Int32Array(inc.n).fill(-1);
  const reasons: string[] = [];
  // Only the reported series flag rows (the strongest; the rest repeat them through overlapping subgroups).
  const flagging = crossed
    .filter((c) => c.sr.kind !== 'feature-mean' && c.sr.kind !== 'account-feature')
    .slice(0, s.maxReported);
  for (const { sr, first } of flagging) {
    if (sr.kind === 'account-label') {
      accountRows(ctx, sr, first, win, s, score, why, reasons);
      continue;
    }
    const where = sr.kind === 'label' ? '' : ` where ${sr.feature} = ${sr.group}`;
    const reasonBase = reasons.length;
    for (let c = 0; c < k; c++)
      reasons.push(`label "${ctx.classes[c]}"${where} drifting since window ${first + 1}`);
    const bins = sr.binned?.incoming;
    for (let r = 0; r < inc.n; r++) {
      if (win.of[r] < first) continue;
      if (bins && bins[r] !== sr.bin) continue;
      const y = inc.labels[r];
      if (y < 0) continue;
      const towards = sr.direction === 1 ? y === sr.cls : y !== sr.cls;
      if (!towards) continue;
      // Without the trusted model's view a drifted row gets half the score.
      let sc = s.rowScore / 2;
      if (useProba) {
        const p = proba[r * k + y];
        if (p >= 0.5) continue;
        // At most rowScore: the model's doubt is disagreement's evidence, counted there, not twice.
        sc = s.rowScore * (1 - p);
      }
      if (sc > score[r]) {
        score[r] = sc;
        why[r] = reasonBase + y;
      }
    }
  }
  const out: RowFlag[] = [];
  for (let r = 0; r < inc.n; r++)
    if (why[r] >= 0) out.push({ row: r, score: score[r], reason: reasons[why[r]] });
  return out;
}

function accountColumn(ctx: AuditContext) {
  return ctx.incoming.source ?? ctx.incoming.labeler;
}

/**
 * Rows of a conditioning account's contradicted-label series, from its crossing window on: rows it labelled
 * with the series' class that the trusted model reads as another. Each scores the share of such rows in the
 * account's windows since the crossing that the other accounts' rate does not explain (1 − peers / account).
 */
function accountRows(
  ctx: AuditContext,
  sr: Series,
  first: number,
  win: Windows,
  s: DriftSettings,
  score: Float32Array,
  why: Int32Array,
  reasons: string[],
): void {
  const inc = ctx.incoming;
  const k = ctx.classes.length;
  const proba = ctx.shared.trustedProba;
  const col = accountColumn(ctx);
  if (!col || !sr.codes || !proba || proba.length !== inc.n * k) return;
  const codes = new Set(sr.codes);
  let x = 0;
  let m = 0;
  for (let w = first; w < win.count; w++) {
    if (Number.isNaN(sr.values[w])) continue;
    x += sr.values[w] * sr.support[w];
    m += sr.support[w];
  }
  const rate = m ? x / m : 0;
  const purity = rate > 0 ? Math.max(0, 1 - sr.base / rate) : 0;
  const sc = Math.min(s.accountRowScore, purity);
  if (sc <= 0) return;
  const reason = reasons.length;
  reasons.push(
    `label "${ctx.classes[sr.cls!]}" from ${sr.account} (conditioning since window ${first + 1}), contradicted by the trusted model`,
  );
  for (let r = 0; r < inc.n; r++) {
    if (win.of[r] < first || !codes.has(col.codes[r]) || inc.labels[r] !== sr.cls) continue;
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[r * k + c] > proba[r * k + best]) best = c;
    if (best === sr.cls) continue;
    if (sc > score[r]) {
      score[r] = sc;
      why[r] = reason;
    }
  }
}

function lastValid(v: Float64Array): number {
  for (let i = v.length - 1; i >= 0; i--) if (!Number.isNaN(v[i])) return v[i];
  return Number.NaN;
}

const round = (x: number) => (Number.isFinite(x) ? Math.round(x * 10000) / 10000 : null);
const pctf = (x: number) => `${(100 * x).toFixed(1)}%`;

export function applies(ctx: AuditContext): boolean {
  return Boolean(ctx.roles.time && ctx.incoming.time);
}

export const detector: Detector = {
  meta,
  defaults: DRIFT_DEFAULTS,
  stage: 2,
  applies,
  needs: () => 'a --time column',
  cannotRun: unseenClassReason,
  run,
};
export default detector;
