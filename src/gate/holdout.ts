/**
 * Check 1, trusted holdout: the candidate's metrics against the incumbent's on the trusted set. A regression
 * is a finding only when the bootstrap interval of the difference excludes zero and the point difference
 * exceeds a small practical margin, so clean retrains are not blocked by noise.
 */
import { ATLAS } from '../core/atlas.js';
import type { Finding } from '../core/finding.js';
import { makeFinding, type RuleMeta } from '../core/rule.js';
import type { GateContext } from './context.js';
import { type Evaluation, evaluatePair, type MetricComparison } from './evaluate.js';

export const meta: RuleMeta = {
  id: 'gate/trusted-regression',
  title: 'Candidate regresses on the trusted holdout',
  severity: 'high',
  atlas: ATLAS.poisonModel,
  rationale:
    "The trusted holdout is curated and out of the attacker's reach; a candidate that is significantly worse there than the incumbent was trained on something that hurt it, such as noisy or flipped labels (availability poisoning).",
};

export function marginFor(ctx: Pick<GateContext, 'settings'>, name: string): number {
  const m = ctx.settings.margins;
  if (name === 'accuracy') return m.accuracy;
  if (name === 'log_loss') return m.log_loss;
  if (name === 'auc') return m.auc;
  return m.recall;
}

export function isRegression(m: MetricComparison, margin: number): boolean {
  return m.higherIsBetter ? m.ci[1] < 0 && m.diff < -margin : m.ci[0] > 0 && m.diff > margin;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export function showMetric(m: MetricComparison): string {
  const asPct = m.name !== 'log_loss';
  const v = (x: number) => (asPct ? pct(x) : x.toFixed(4));
  const d = (x: number) =>
    asPct ? `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pts` : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
  return `${m.name} ${v(m.incumbent)} -> ${v(m.candidate)} (${d(m.diff)}, 95% CI ${d(m.ci[0])} to ${d(m.ci[1])})`;
}

export function checkHoldout(ctx: GateContext): { evaluation: Evaluation; findings: Finding[] } {
  const evaluation = evaluatePair(ctx.trusted.labels, ctx.incumbent, ctx.candidate, ctx.classes, {
    replicates: ctx.settings.replicates,
    confidence: ctx.settings.confidence,
    seed: ctx.settings.seed,
  });
  const findings: Finding[] = [];
  for (const m of evaluation.metrics) {
    if (!isRegression(m, marginFor(ctx, m.name))) continue;
    findings.push(
      makeFinding(
        meta,
        `The candidate is worse than the incumbent on the trusted holdout: ${showMetric(m)}.`,
        {
          evidence: {
            metric: m.name,
            incumbent: m.incumbent,
            candidate: m.candidate,
            diff: m.diff,
            ci: m.ci,
            margin: marginFor(ctx, m.name),
          },
        },
      ),
    );
  }
  return { evaluation, findings };
}
