/** The text report of `guard replay`: counts, bad lines, windows with their findings. */
import type { ReplayReport } from './replay.js';

export function renderReplay(r: ReplayReport): string {
  const out: string[] = [];
  out.push(
    `guard replay: ${r.requests} requests, ${r.instances} instances from ${r.lines} lines (profile ${r.profile.path})`,
  );
  if (r.badLines.count) {
    out.push(`  ${r.badLines.count} bad lines:`);
    for (const b of r.badLines.first) out.push(`    line ${b.line}: ${b.reason}`);
    if (r.badLines.count > r.badLines.first.length)
      out.push(`    ... ${r.badLines.count - r.badLines.first.length} more`);
  }
  const flagged = Object.entries(r.flagged);
  out.push(
    `  instances flagged: ${flagged.length ? flagged.map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`,
  );
  if (r.earlier)
    out.push(
      `  earlier instances carrying a trigger learned after they were answered: ${r.earlier} (guard/learned-trigger findings with "earlier": true)`,
    );
  for (const [c, why] of Object.entries(r.unavailable)) out.push(`  not run: ${c}: ${why}`);
  for (const l of r.learned)
    out.push(
      `  learned trigger: ${l.trigger} (answer "${l.class}", blamed on ${l.support} requests; in trusted rows the model gives it ${(100 * l.modelWith).toFixed(1)}%, a model of the trusted data ${(100 * l.referenceWith).toFixed(1)}%${l.answered ? `; common in trusted rows, so flagged only where the model answers "${l.class}"` : ''})`,
    );
  for (const w of r.windows) {
    const overall = w.scopes[0];
    const stat = overall
      ? `class PSI ${overall.classPsi.toFixed(3)}, score PSI ${overall.scorePsi.toFixed(3)}`
      : 'too few instances to test';
    // A log without times counts windows by instances only; its clock never moved from 0.
    const span = Date.parse(w.end) > 0 ? ` (${w.start} .. ${w.end})` : '';
    out.push(
      `  window ${w.window}${span}: ${w.instances} instances, ${stat}${w.findings.length ? '' : ', no finding'}`,
    );
    for (const f of w.findings) out.push(`    [${f.severity}] ${f.rule}: ${f.message}`);
  }
  const total = Object.values(r.findings).reduce((a, b) => a + b, 0);
  out.push(
    `  findings: ${
      total
        ? Object.entries(r.findings)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')
        : 'none'
    }`,
  );
  return `${out.join('\n')}\n`;
}
