/**
 * Check 3, output shift between versions: PSI and the two-sample KS statistic of the score distributions
 * (probability of the last class; the top probability when there are more than two classes), the flip rate
 * (rows whose predicted class changed) and where the flips concentrate: the shortest conjunction of up to three
 * predicates holding most of them (at least `coverage` of the flips) with the highest flip density.
 * A concentration in which the flips also go against the candidate (McNemar inside the region) blocks;
 * a large shift alone is reported but does not block, since a retrain is expected to move some outputs.
 */
import { ATLAS } from '../core/atlas.js';
import type { Finding } from '../core/finding.js';
import { makeFinding, type RuleMeta } from '../core/rule.js';
import type { GateContext } from './context.js';
import {
  allPredicates,
  bitsFrom,
  type Conjunction,
  columnPredicates,
  count,
  countAnd,
  describe,
  type Predicate,
  searchConjunctions,
} from './predicates.js';
import { lossBits } from './slices.js';
import { mcnemarOneSided, normalSf, predictedClasses } from './stats.js';

export const shiftMeta: RuleMeta = {
  id: 'gate/output-shift',
  title: 'Candidate outputs shifted from the incumbent',
  severity: 'medium',
  atlas: ATLAS.poisonModel,
  rationale:
    'A retrain should move outputs a little; a large shift of the score distribution on the same trusted inputs means the training data changed a lot, which deserves a look before promotion.',
};

export const flipMeta: RuleMeta = {
  id: 'gate/flip-concentration',
  title: 'Prediction flips concentrate in one region',
  severity: 'medium',
  atlas: ATLAS.poisonModel,
  rationale:
    'Noise spreads flips across the input space; poisoning aimed at a region concentrates them there. When the flips in that region also go against the truth, the candidate was pushed there on purpose.',
};

export const regionShiftMeta: RuleMeta = {
  id: 'gate/region-shift',
  title: 'Candidate scores moved in one region',
  severity: 'medium',
  atlas: ATLAS.poisonModel,
  rationale:
    "A targeted attack moves the model in one region and leaves the rest alone, so the difference between the two models' scores is concentrated there long before accuracy shows it. When the candidate is also less accurate in that region, it blocks.",
};

export interface RegionShift {
  slice: string;
  rows: number;
  /** Mean of candidate minus incumbent score in the region, and over all rows. */
  meanShift: number;
  overallShift: number;
  z: number;
  pAdjusted: number;
  lost: number;
  gained: number;
  /** Share of the region's flips that go toward the direction of the shift. */
  flipsToward: number;
  flipsAway: number;
  blocking: boolean;
}

export interface ShiftResult {
  psi: number;
  ks: number;
  ksP: number;
  flips: number;
  flipRate: number;
  /**
   * Histograms of the two score distributions (10 bins on [0, 1]) for the report, overall and (slices) on
   * each declared slice and in the regions named below, so a history of gate runs can follow each version's
   * output distribution where it matters.
   */
  histogram: {
    bins: number[];
    incumbent: number[];
    candidate: number[];
    slices?: Array<{
      slice: string;
      scope: 'slice' | 'region';
      rows: number;
      incumbent: number[];
      candidate: number[];
    }>;
  };
  /** The region where the candidate's scores moved most against the incumbent's (standardised mean shift). */
  shiftRegion?: RegionShift;
  region?: {
    slice: string;
    rows: number;
    flips: number;
    coverage: number;
    lift: number;
    lost: number;
    gained: number;
    p: number;
  };
}

function scoreOf(p: Float64Array, n: number, k: number): Float64Array {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (k === 2) s[i] = p[2 * i + 1];
    else {
      let m = 0;
      for (let j = 0; j < k; j++) m = Math.max(m, p[i * k + j]);
      s[i] = m;
    }
  }
  return s;
}

/** Population stability index of `b` against `a`, on deciles of `a`. */
export function psi(a: Float64Array, b: Float64Array, bins = 10): number {
  const sorted = Float64Array.from(a).sort();
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const e = sorted[Math.floor((q * sorted.length) / bins)];
    if (edges[edges.length - 1] !== e) edges.push(e);
  }
  const place = (x: number) => {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x < edges[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const ca = new Float64Array(edges.length + 1);
  const cb = new Float64Array(edges.length + 1);
  for (const x of a) ca[place(x)]++;
  for (const x of b) cb[place(x)]++;
  let s = 0;
  const eps = 1e-4;
  for (let i = 0; i < ca.length; i++) {
    const pa = Math.max(eps, ca[i] / a.length);
    const pb = Math.max(eps, cb[i] / b.length);
    s += (pb - pa) * Math.log(pb / pa);
  }
  return s;
}

/** Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value. */
export function ks(a: Float64Array, b: Float64Array): { d: number; p: number } {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const en = Math.sqrt((x.length * y.length) / (x.length + y.length));
  const lambda = (en + 0.12 + 0.11 / en) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: Math.min(1, Math.max(0, p)) };
}

export function checkShift(
  ctx: GateContext,
  preds?: Predicate[],
  declared: string[] = [],
): { shift: ShiftResult; findings: Finding[] } {
  const { n } = ctx.trusted;
  const k = ctx.classes.length;
  const o = ctx.settings.shift;
  const si = scoreOf(ctx.incumbent, n, k);
  const sc = scoreOf(ctx.candidate, n, k);
  const p = psi(si, sc);
  const kst = ks(si, sc);
  const pi = predictedClasses(ctx.incumbent, n, k);
  const pc = predictedClasses(ctx.candidate, n, k);
  const flipBits = bitsFrom(n, (i) => pi[i] !== pc[i]);
  const flips = count(flipBits);
  const hist = (s: Float64Array, bits?: Uint32Array) => {
    const h = new Array(10).fill(0);
    for (let i = 0; i < s.length; i++)
      if (!bits || (bits[i >>> 5] >>> (i & 31)) & 1) h[Math.min(9, Math.floor(s[i] * 10))]++;
    return h;
  };
  const sliceHist = (slice: string, scope: 'slice' | 'region', bits: Uint32Array) => {
    const incumbent = hist(si, bits);
    shift.histogram.slices?.push({
      slice,
      scope,
      rows: incumbent.reduce((a, b) => a + b, 0),
      incumbent,
      candidate: hist(sc, bits),
    });
  };
  const shift: ShiftResult = {
    psi: p,
    ks: kst.d,
    ksP: kst.p,
    flips,
    flipRate: n ? flips / n : 0,
    histogram: {
      bins: Array.from({ length: 10 }, (_, i) => i / 10),
      incumbent: hist(si),
      candidate: hist(sc),
      slices: [],
    },
  };
  for (const col of declared)
    for (const p of columnPredicates(ctx.trusted, col, { minSize: 1, maxValues: 20, maxTokens: 20 }))
      sliceHist(p.text, 'slice', p.bits);
  const findings: Finding[] = [];
  if (p >= o.psiMajor)
    findings.push(
      makeFinding(
        shiftMeta,
        `The candidate's scores on the trusted set shifted from the incumbent's (PSI ${p.toFixed(2)}, KS ${kst.d.toFixed(2)}); ${flips} predictions (${(100 * shift.flipRate).toFixed(1)}%) changed class.`,
        {
          evidence: { psi: p, ks: kst.d, ksP: kst.p, flips, flipRate: shift.flipRate },
        },
      ),
    );
  const predicates =
    preds ?? allPredicates(ctx.trusted, ctx.features, { minSize: ctx.settings.slices.minSize });
  const found = regionShift(ctx, si, sc, predicates, flipBits, pi, pc);
  const rs = found?.result;
  if (found) sliceHist(found.result.slice, 'region', found.bits);
  if (rs) {
    shift.shiftRegion = rs;
    if (
      rs.pAdjusted < ctx.settings.slices.alpha &&
      Math.abs(rs.meanShift - rs.overallShift) >= o.minRegionShift
    ) {
      const dir = rs.meanShift > 0 ? 'up' : 'down';
      const cls = ctx.classes.length === 2 ? ` P(${ctx.classes[1]})` : ' top probability';
      findings.push(
        makeFinding(
          regionShiftMeta,
          `The candidate's${cls} moved ${dir} by ${(100 * Math.abs(rs.meanShift)).toFixed(1)} points on average in "${rs.slice}" (${rs.rows} trusted rows; ${(100 * rs.overallShift).toFixed(1)} elsewhere on average)${rs.blocking ? `, and there it lost ${rs.lost} correct answers while gaining ${rs.gained}` : ''}.`,
          {
            location: { slice: rs.slice, rowCount: rs.rows },
            evidence: { ...rs },
            severity: rs.blocking ? 'high' : 'medium',
          },
        ),
      );
    }
  }
  if (flips < o.minFlips) return { shift, findings };

  // Where do the flips concentrate?
  const minSize = Math.max(5, Math.min(ctx.settings.slices.minSize, Math.floor(flips / 2)));
  let best: { c: Conjunction; flipsIn: number; prec: number } | undefined;
  const better = (c: Conjunction, flipsIn: number, prec: number) => {
    if (!best) return true;
    const cov = flipsIn / flips;
    const bcov = best.flipsIn / flips;
    const ok = cov >= o.coverage;
    const bok = bcov >= o.coverage;
    if (ok !== bok) return ok;
    if (!ok) return cov * prec > bcov * best.prec;
    if (Math.abs(prec - best.prec) > 0.02) return prec > best.prec;
    return c.terms.length < best.c.terms.length;
  };
  searchConjunctions(
    predicates,
    { maxTerms: 3, beam: ctx.settings.slices.beam, minSize },
    (c) => {
      const f = countAnd(c.bits, flipBits);
      return (f / c.size) * (f / flips);
    },
    (c) => {
      const f = countAnd(c.bits, flipBits);
      const prec = f / c.size;
      if (better(c, f, prec)) best = { c, flipsIn: f, prec };
    },
  );
  if (best) {
    const lb = lossBits(ctx);
    const lost = countAnd(best.c.bits, lb.lost);
    const gained = countAnd(best.c.bits, lb.gained);
    const coverage = best.flipsIn / flips;
    const share = best.c.size / n;
    const region = {
      slice: describe(predicates, best.c.terms),
      rows: best.c.size,
      flips: best.flipsIn,
      coverage,
      lift: best.prec / shift.flipRate,
      lost,
      gained,
      p: mcnemarOneSided(lost, gained),
    };
    shift.region = region;
    if (region.slice !== rs?.slice) sliceHist(region.slice, 'region', best.c.bits);
    if (coverage >= o.coverage && share <= o.maxShare) {
      const against =
        region.p < 0.01 &&
        lost - gained >= ctx.settings.slices.minNetLosses &&
        (lost - gained) / best.c.size >= ctx.settings.slices.margin;
      findings.push(
        makeFinding(
          flipMeta,
          `${(100 * coverage).toFixed(0)}% of the ${flips} flipped predictions fall in "${region.slice}" (${(100 * share).toFixed(1)}% of the trusted rows, ${region.lift.toFixed(1)}x the base rate)${against ? `, and there the candidate lost ${lost} correct answers and gained ${gained}` : ''}.`,
          {
            location: { slice: region.slice, rowCount: region.rows },
            evidence: { ...region },
            severity: against ? 'high' : 'medium',
          },
        ),
      );
    }
  }
  return { shift, findings };
}

/**
 * The conjunction (up to three predicates) whose mean score difference (candidate minus incumbent) is furthest
 * from the overall mean in standard-error units, Bonferroni-corrected over every conjunction evaluated. It blocks
 * when the candidate is also significantly less accurate there (one-sided McNemar inside the region, p < 0.01,
 * net losses above the slice margin) or when its flips there go one way (at least 90% toward the shift).
 */
function regionShift(
  ctx: GateContext,
  si: Float64Array,
  sc: Float64Array,
  predicates: Predicate[],
  flipBits: ReturnType<typeof bitsFrom>,
  pi: Int32Array,
  pc: Int32Array,
): { result: RegionShift; bits: Uint32Array } | undefined {
  const n = si.length;
  const d = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    d[i] = sc[i] - si[i];
    mean += d[i];
  }
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d[i] - mean) ** 2;
  const sd = Math.sqrt(v / Math.max(1, n - 1));
  if (!(sd > 0)) return undefined;
  const sumIn = (bits: Uint32Array): number => {
    let s = 0;
    for (let w = 0; w < bits.length; w++) {
      let x = bits[w];
      while (x) {
        const b = x & -x;
        s += d[(w << 5) + (31 - Math.clz32(b))];
        x ^= b;
      }
    }
    return s;
  };
  let best: { c: Conjunction; z: number; sum: number } | undefined;
  const minSize = Math.max(10, Math.floor(ctx.settings.slices.minSize / 2));
  const evaluated = searchConjunctions(
    predicates,
    { maxTerms: ctx.settings.slices.maxTerms, beam: ctx.settings.slices.beam, minSize },
    (c) => {
      const s = sumIn(c.bits);
      return Math.abs(s - mean * c.size) / (sd * Math.sqrt(c.size));
    },
    (c, z) => {
      if (
        !best ||
        z > best.z + 1e-9 ||
        (Math.abs(z - best.z) <= 1e-9 && c.terms.length < best.c.terms.length)
      )
        best = { c, z, sum: sumIn(c.bits) };
    },
  );
  if (!best) return undefined;
  const lb = lossBits(ctx);
  const lost = countAnd(best.c.bits, lb.lost);
  const gained = countAnd(best.c.bits, lb.gained);
  const meanShift = best.sum / best.c.size;
  const up = meanShift > mean;
  let toward = 0;
  let away = 0;
  const k = ctx.classes.length;
  for (let i = 0; i < n; i++) {
    if (!((best.c.bits[i >>> 5] >>> (i & 31)) & 1) || !((flipBits[i >>> 5] >>> (i & 31)) & 1)) continue;
    // Binary: toward = the flip follows the direction of the shift (to the last class when scores went up).
    const towardLast = pc[i] === k - 1 && pi[i] !== k - 1;
    if (towardLast === up) toward++;
    else away++;
  }
  const o = ctx.settings.slices;
  const pAdjusted = Math.min(1, 2 * normalSf(best.z) * Math.max(1, evaluated));
  const worse =
    mcnemarOneSided(lost, gained) < 0.01 &&
    lost - gained >= o.minNetLosses &&
    (lost - gained) / best.c.size >= o.margin;
  const oneWay =
    toward + away >= o.minNetLosses &&
    toward / (toward + away) >= 0.9 &&
    (lost - gained) / best.c.size >= o.margin;
  const result = {
    slice: describe(predicates, best.c.terms),
    rows: best.c.size,
    meanShift,
    overallShift: mean,
    z: best.z,
    pAdjusted,
    lost,
    gained,
    flipsToward: toward,
    flipsAway: away,
    blocking:
      pAdjusted < o.alpha &&
      Math.abs(meanShift - mean) >= ctx.settings.shift.minRegionShift &&
      (worse || oneWay),
  };
  return { result, bits: best.c.bits };
}
