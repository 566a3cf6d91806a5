/**
 * Window check: the outputs of one window have moved away from the trusted set's, overall or in a slice.
 * A backdoor being used, or a population being steered, changes what the model answers before anyone looks
 * at accuracy. Each scope with enough instances is compared with the profile on two things:
 *   - the predicted-class shares: PSI, and a chi-square test of the window's counts against the trusted counts
 *     (both samples' sizes count, so a small window or a small trusted slice is not mistaken for a shift);
 *   - each class's probability histogram: PSI.
 * Crossing (the audit's drift convention, src/data/detectors/drift.ts): a scope has shifted in a window when
 * its PSI reaches `psiMajor` (0.25, "major") and at least `noiseFactor` (4) times the PSI that sampling noise
 * alone gives at these sizes. Because a slow shift reaches 0.25 a little at a time, a window is also reported
 * earlier, as medium, when the class counts differ at p < alpha / scopes and the class PSI is past `psiMin`
 * (0.1, "moderate") and past the noise floor: the window in which a creep crosses is then never missed for
 * sampling noise.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { psi, psiNoiseFloor } from '../../data/stats/divergence.js';
import { chiSquareTwoSample } from './stats.js';
import type { OutputDist } from './types.js';
import type { ScopeCounts } from './window.js';

export const meta: RuleMeta = {
  id: 'guard/output-shift',
  title: 'Live outputs shifted from the trusted set',
  severity: 'high',
  atlas: ATLAS.poisonModel,
  rationale:
    'A triggered backdoor or a steered population changes the share of each answer and the confidence of the answers long before accuracy can be measured. Comparing every window with the trusted set (never with the previous window) makes a slow creep visible in the window where it crosses.',
};

export const SHIFT_DEFAULTS = {
  /** A scope needs this many instances in the window to be tested. */
  minSupport: 30,
  /** Family false-alarm rate of the chi-square test over the scopes of one window. */
  alpha: 0.01,
  psiMin: 0.1,
  psiMajor: 0.25,
  noiseFactor: 4,
};
export type ShiftSettings = typeof SHIFT_DEFAULTS;

export interface ScopeShift {
  scope: string;
  n: number;
  classPsi: number;
  classNoise: number;
  chi2: number;
  p: number;
  scorePsi: number;
  scoreNoise: number;
  /** Class whose probability histogram moved most. */
  scoreClass: string;
  shares: number[];
  trustedShares: number[];
  shifted: 'major' | 'moderate' | null;
}

export function trustedCounts(d: OutputDist): number[] {
  return d.classShares.map((s) => Math.round(s * d.n));
}

export function scopeShift(
  scope: string,
  trusted: OutputDist,
  w: ScopeCounts,
  classes: string[],
  bins: number,
  tests: number,
  s: ShiftSettings,
): ScopeShift {
  const k = classes.length;
  const t = trustedCounts(trusted);
  const classPsi = psi(t, w.classes);
  const classNoise = psiNoiseFloor(k, trusted.n, w.n);
  const chi = chiSquareTwoSample(t, w.classes);
  let scorePsi = 0;
  let scoreClass = 0;
  for (let j = 0; j < k; j++) {
    const v = psi(trusted.histograms[j], w.hist.slice(j * bins, (j + 1) * bins));
    if (v > scorePsi) {
      scorePsi = v;
      scoreClass = j;
    }
  }
  const scoreNoise = psiNoiseFloor(bins, trusted.n, w.n);
  const major =
    (classPsi >= s.psiMajor && classPsi >= s.noiseFactor * classNoise) ||
    (scorePsi >= s.psiMajor && scorePsi >= s.noiseFactor * scoreNoise);
  const moderate =
    chi.p < s.alpha / Math.max(1, tests) && classPsi >= s.psiMin && classPsi >= s.noiseFactor * classNoise;
  return {
    scope,
    n: w.n,
    classPsi,
    classNoise,
    chi2: chi.stat,
    p: chi.p,
    scorePsi,
    scoreNoise,
    scoreClass: classes[scoreClass],
    shares: w.classes.map((c) => (w.n ? c / w.n : 0)),
    trustedShares: trusted.classShares,
    shifted: major ? 'major' : moderate ? 'moderate' : null,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export function shiftFinding(sh: ScopeShift, classes: string[], window: number): Finding {
  let top = 0;
  for (let j = 1; j < classes.length; j++)
    if (Math.abs(sh.shares[j] - sh.trustedShares[j]) > Math.abs(sh.shares[top] - sh.trustedShares[top]))
      top = j;
  const where = sh.scope === 'overall' ? 'overall' : `in slice ${sh.scope}`;
  return makeFinding(
    meta,
    `Window ${window}: outputs ${where} shifted from the trusted set (class PSI ${sh.classPsi.toFixed(2)}, score PSI ${sh.scorePsi.toFixed(2)}); the share of "${classes[top]}" is ${pct(sh.shares[top])} against ${pct(sh.trustedShares[top])} trusted; review the traffic of this window.`,
    {
      severity: sh.shifted === 'major' ? 'high' : 'medium',
      location: sh.scope === 'overall' ? undefined : { slice: sh.scope },
      evidence: {
        window,
        scope: sh.scope,
        n: sh.n,
        classPsi: r4(sh.classPsi),
        classNoiseFloor: r4(sh.classNoise),
        chi2: r4(sh.chi2),
        p: sh.p,
        scorePsi: r4(sh.scorePsi),
        scoreNoiseFloor: r4(sh.scoreNoise),
        scoreClass: sh.scoreClass,
        shares: sh.shares.map(r4),
        trustedShares: sh.trustedShares.map(r4),
        level: sh.shifted,
      },
    },
  );
}
