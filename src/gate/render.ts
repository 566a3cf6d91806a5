/** The gate report as text for the terminal: the decision first, then why, then each check in one or two lines. */
import pc from 'picocolors';
import { termSafeDeep } from '../report/terminal.js';
import { renderFindingLine } from '../report/text.js';
import type { GateReport } from './decision.js';
import { showMetric } from './holdout.js';

export function renderGateText(raw: GateReport, opts: { colour: boolean }): string {
  const r = termSafeDeep(raw);
  const c = opts.colour;
  const out: string[] = [];
  const head =
    r.decision === 'promote' ? 'PROMOTE' : r.decision === 'block' ? 'BLOCK' : 'PROMOTE WITH CAVEATS';
  const paint = r.decision === 'promote' ? pc.green : r.decision === 'block' ? pc.red : pc.yellow;
  const badge = c ? pc.bold(paint(head)) : head;
  out.push(`${badge} candidate ${r.models.candidate.source} (incumbent ${r.models.incumbent.source})`);
  out.push(`trusted set ${r.trusted.path}: ${r.trusted.rows} rows, classes ${r.trusted.classes.join(', ')}`);
  if (r.metrics) {
    out.push('');
    out.push('trusted holdout (candidate vs incumbent):');
    for (const m of r.metrics.metrics) out.push(`  ${showMetric(m)}`);
  }
  if (r.liveMetrics) {
    const m = r.liveMetrics.metrics.find((x) => x.name === 'accuracy');
    if (m) out.push(`live set: ${showMetric(m)}`);
  }
  if (r.shift) {
    const s = r.shift;
    out.push(
      `output shift: PSI ${s.psi.toFixed(3)}, KS ${s.ks.toFixed(3)}, ${s.flips} flips (${(100 * s.flipRate).toFixed(1)}%)${s.region && s.region.lift >= 2 ? `, most in ${s.region.slice} (${(100 * s.region.coverage).toFixed(0)}% of flips, ${s.region.lift.toFixed(1)}x the base rate)` : ', spread out'}`,
    );
  }
  if (r.shift?.shiftRegion) {
    const g = r.shift.shiftRegion;
    out.push(
      `largest score shift: ${g.slice} (${g.rows} rows, mean ${(100 * g.meanShift).toFixed(1)} pts vs ${(100 * g.overallShift).toFixed(1)} overall)`,
    );
  }
  if (r.slices?.discovery)
    out.push(
      `slices: ${r.slices.discovery.evaluated} candidate regions searched, ${r.slices.declared.length} declared slices`,
    );
  if (r.probes)
    out.push(`probes: ${r.probes.triggers} candidate triggers, ${r.probes.rowsScored} rows scored`);
  for (const ch of r.checks) if (!ch.ran) out.push(`${ch.name}: SKIPPED (${ch.note})`);
  const shown = r.findings.filter((f) => f.severity !== 'info');
  if (shown.length) {
    out.push('');
    for (const f of shown) out.push(renderFindingLine(f, c));
  }
  out.push('');
  const skipped = r.checks.filter((ch) => !ch.ran).map((ch) => ch.name);
  const summary =
    r.decision === 'promote'
      ? 'Decision: promote. Every check ran; none found a regression, a losing region or a trigger.'
      : r.decision === 'promote-with-caveats'
        ? `Decision: promote with caveats. The checks that ran found no regression, losing region or trigger, but ${skipped.join(' and ')} did not run, so ${skipped.length === 1 ? 'its' : 'their'} risks are unchecked.`
        : `Decision: block (${r.reasons.length} reason${r.reasons.length === 1 ? '' : 's'}).`;
  out.push(c ? pc.bold(summary) : summary);
  for (const caveat of r.caveats ?? []) out.push(`  caveat: ${caveat}`);
  if (r.outputs?.html) out.push(`report: ${r.outputs.html}`);
  if (r.outputs?.statement) out.push(`signed decision: ${r.outputs.statement}`);
  return `${out.join('\n')}\n`;
}
