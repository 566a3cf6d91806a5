/**
 * Window check: a burst of one class in a narrow input region. Whoever uses a backdoor sends triggered inputs
 * that look alike and all come out as the target class; counted per region, they stand out as far more
 * instances of one class in one slice than the trusted set predicts for a window of this size, while the
 * overall shares hardly move. Regions are the profile's slices that hold at most `maxRegionShare` of the
 * trusted rows (a slice covering half the traffic is the output-shift check's business). A burst of class c in
 * slice s needs: at least `minCount` such instances; at least `minRatio` times the count the trusted set
 * predicts for a window of this size (n × trusted rows in s with class c / trusted rows), so more of them than
 * usual; and, inside the slice, a share of c above the trusted share of c in s (binomial tail below
 * alpha / (slices × classes)), so that more traffic to a region with its usual mix of answers is not a burst.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { binomialUpperTail } from '../../data/stats/tests.js';
import type { WatchProfile } from './types.js';
import type { WindowCounts } from './window.js';

export const meta: RuleMeta = {
  id: 'guard/class-burst',
  title: 'Burst of one class in a narrow input region',
  severity: 'high',
  atlas: ATLAS.poisonModel,
  rationale:
    'Triggered inputs look alike and share one target class, so their use shows as a burst of that class in one narrow region of the input space even when the overall class shares barely move.',
};

export const BURST_DEFAULTS = { maxRegionShare: 0.25, minCount: 10, minRatio: 2, alpha: 0.01 };
export type BurstSettings = typeof BURST_DEFAULTS;

export interface Burst {
  slice: string;
  cls: string;
  count: number;
  expected: number;
  p: number;
}

export function findBursts(profile: WatchProfile, w: WindowCounts, s: BurstSettings): Burst[] {
  const N = profile.outputs.overall.n;
  const k = profile.classes.length;
  const regions = profile.outputs.slices
    .map((sl, i) => ({ sl, i }))
    .filter(({ sl }) => N > 0 && sl.distribution.n / N <= s.maxRegionShare);
  const tests = Math.max(1, regions.length * k);
  const out: Burst[] = [];
  for (const { sl, i } of regions) {
    const counts = w.slices[i];
    for (let c = 0; c < k; c++) {
      const x = counts.classes[c];
      if (x < s.minCount) continue;
      // Add-half smoothing: a class never seen in the slice on the trusted set still has a small expectation.
      const p0 = (sl.distribution.classShares[c] * sl.distribution.n + 0.5) / (N + 1);
      const expected = w.overall.n * p0;
      if (x < s.minRatio * expected) continue;
      const p = binomialUpperTail(x, counts.n, Math.min(1, Math.max(1e-6, sl.distribution.classShares[c])));
      if (p < s.alpha / tests) out.push({ slice: sl.text, cls: profile.classes[c], count: x, expected, p });
    }
  }
  return out.sort((a, b) => a.p - b.p);
}

export function burstFinding(b: Burst, window: number, n: number): Finding {
  return makeFinding(
    meta,
    `Window ${window}: ${b.count} of ${n} instances in slice ${b.slice} were predicted "${b.cls}", ${(b.count / Math.max(b.expected, 1e-9)).toFixed(1)} times the ${b.expected.toFixed(1)} the trusted set predicts; inspect these requests for a trigger.`,
    {
      location: { slice: b.slice },
      evidence: {
        window,
        slice: b.slice,
        class: b.cls,
        count: b.count,
        expected: Math.round(b.expected * 100) / 100,
        p: b.p,
      },
    },
  );
}
