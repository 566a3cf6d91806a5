/**
 * Detector: a batch of one class that the trusted set has never seen. Every other detector judges a row by the
 * trusted rows of its label (what that class looks like, which patterns it carries, how often the model reads
 * it); with no trusted row of the label there is no reference at all, and a pass would mean "not looked at".
 * The label may be a new class or the same class spelled another way ("1" for "pos"); either way nothing in
 * the batch can be vouched for, so every row is quarantined (nothing is lost: the rows wait in quarantine
 * with this reason) and the finding says what to add. The other detectors stand aside with the same reason
 * (lib/classes.ts unseenClassReason).
 *
 * A multi-class batch with a few rows of a class the trusted set lacks is left to the other detectors: there
 * the batch's known classes still anchor the comparison, and a small trusted set often misses a rare class.
 */
import { ATLAS } from '../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/unseen-label',
  title: 'A batch of one class the trusted set has never seen',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Every test of the audit compares incoming rows with the trusted rows of their class. A batch whose only ' +
    'label never occurs in the trusted set cannot be compared with anything: training on it would teach a ' +
    'class no reviewed row vouches for. Its rows are quarantined until reviewed rows of that class join the ' +
    'trusted set (or the label is spelled as the trusted file spells it).',
};

export function run(ctx: AuditContext): DetectorOutput {
  const inc = ctx.incoming;
  const label = ctx.classes[oneClassOf(ctx)];
  const reason = `label "${label}" never occurs in the trusted set`;
  const rows: RowFlag[] = [];
  for (let i = 0; i < inc.n; i++) rows.push({ row: i, score: 1, reason });
  const known = [...new Set(ctx.trusted.labels)].map((c) => `"${ctx.classes[c]}"`).join(', ');
  return {
    findings: [
      makeFinding(
        meta,
        `Every one of the ${inc.n} incoming rows is labelled "${label}", a label the trusted set never carries (it holds ${known}); nothing in the batch can be compared with a reviewed row, so all rows were quarantined. If "${label}" is one of those labels spelled differently, fix the labels or --label; if it is a new class, add reviewed rows of it to the trusted set and audit again.`,
        {
          location: { rows: inc.ids.slice(0, 20), rowCount: inc.n, column: ctx.roles.label },
          evidence: { label, incomingRows: inc.n, trustedLabels: known },
        },
      ),
    ],
    rows,
  };
}

export const detector: Detector = {
  meta,
  stage: 1,
  applies: (ctx) => unseenClassReason(ctx) !== undefined,
  run,
};
export default detector;
