/**
 * Check 4, live versus trusted: the live set is recent, labelled production data, which an attacker can
 * influence. A candidate that gains there (its point estimate better by the practical margin, or the interval
 * above zero) while it loses significantly on the trusted set (interval below zero, no margin needed) learned
 * something from the live data that the curated data contradicts.
 */
import { ATLAS } from '../core/atlas.js';
import type { Finding } from '../core/finding.js';
import { makeFinding, type RuleMeta } from '../core/rule.js';
import type { GateContext } from './context.js';
import type { Evaluation } from './evaluate.js';
import { marginFor, showMetric } from './holdout.js';

export const meta: RuleMeta = {
  id: 'gate/live-trusted-divergence',
  title: 'Candidate gains on live data but loses on the trusted set',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    "Poisoned feedback makes a retrained model look better on the very live data that poisoned it; the trusted set, out of the attacker's reach, shows the cost.",
};

export function checkLive(ctx: GateContext, trusted: Evaluation, live: Evaluation): Finding[] {
  const findings: Finding[] = [];
  for (const lm of live.metrics) {
    if (!(lm.name === 'accuracy' || lm.name === 'log_loss' || lm.name === 'auc')) continue;
    const tm = trusted.metrics.find((m) => m.name === lm.name);
    if (!tm) continue;
    const margin = marginFor(ctx, lm.name);
    const gain = lm.higherIsBetter ? lm.diff >= margin || lm.ci[0] > 0 : lm.diff <= -margin || lm.ci[1] < 0;
    const loss = tm.higherIsBetter ? tm.ci[1] < 0 : tm.ci[0] > 0;
    if (gain && loss) {
      findings.push(
        makeFinding(
          meta,
          `On live data the candidate improves (${showMetric(lm)}) but on the trusted set it gets worse (${showMetric(tm)}).`,
          {
            evidence: {
              metric: lm.name,
              live: { diff: lm.diff, ci: lm.ci },
              trusted: { diff: tm.diff, ci: tm.ci },
            },
          },
        ),
      );
      break;
    }
  }
  return findings;
}
