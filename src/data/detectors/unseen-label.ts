/**
 * Detector: rows whose label the trusted set never carries. Every other detector judges a row by the trusted
 * rows of its label (what that class looks like, which patterns it carries, how often the model reads it);
 * with no trusted row of the label there is no reference at all, and a pass would mean "not looked at". The
 * label may be a new class, the same class spelled another way ("1" for "pos"), or one an attacker slipped
 * into a feedback loop; either way no reviewed row vouches for those rows, so they are quarantined (nothing is
 * lost: they wait in quarantine with this reason) and the finding says what to add.
 *
 * A batch of that one label only: every row, and the other detectors stand aside with the same reason
 * (lib/classes.ts unseenClassReason); high, since the whole batch is unvetted. A batch with other labels too:
 * only the rows of the unseen labels, and the batch's known classes still anchor every other test. Medium when
 * the trusted set may simply have missed a rare class (a trusted set of its size, drawn like the batch, could
 * well hold none of its rows); high when its absence stands out on its own (such a set would hold so many that
 * none at all has a chance below 0.001): then the class is new in this batch or was left out of review, the
 * shape of an attacker relabelling rows into a class nobody vouches for, and the exit code says so. Trigger
 * mining leaves such labels alone (no reference for them), so this finding is what names them.
 */
import { ATLAS } from '../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import { expectedTrustedRows } from './triggers/trusted-power.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/unseen-label',
  title: 'Labels the trusted set has never seen',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Every test of the audit compares incoming rows with the trusted rows of their class. Rows whose label ' +
    'never occurs in the trusted set cannot be compared with anything: training on them would teach a class ' +
    'no reviewed row vouches for. They are quarantined until reviewed rows of that class join the trusted set ' +
    '(or the label is spelled as the trusted file spells it).',
};

/** A class is new (high) when a trusted set drawn like the batch would hold none of its rows with less than this chance. */
const NEW_CLASS_LEVEL = 0.001;

/** Incoming label codes with no trusted row, each with its incoming rows. */
function unseenLabels(ctx: AuditContext): Map<number, number[]> {
  const known = new Set(ctx.trusted.labels);
  const out = new Map<number, number[]>();
  const y = ctx.incoming.labels;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0 || known.has(y[i])) continue;
    const rows = out.get(y[i]);
    if (rows) rows.push(i);
    else out.set(y[i], [i]);
  }
  return out;
}

export function run(ctx: AuditContext): DetectorOutput {
  const inc = ctx.incoming;
  const known = [...new Set(ctx.trusted.labels)]
    .filter((c) => c >= 0)
    .map((c) => `"${ctx.classes[c]}"`)
    .join(', ');
  const one = oneClassOf(ctx);
  if (one >= 0) {
    const label = ctx.classes[one];
    const reason = `label "${label}" never occurs in the trusted set`;
    const rows: RowFlag[] = [];
    for (let i = 0; i < inc.n; i++) rows.push({ row: i, score: 1, reason });
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
  const rows: RowFlag[] = [];
  const findings = [...unseenLabels(ctx)].map(([y, at]) => {
    const label = ctx.classes[y];
    const reason = `label "${label}" never occurs in the trusted set`;
    for (const row of at) rows.push({ row, score: 1, reason });
    // Trusted rows of the label a trusted set of this size, drawn like the batch, would hold: none at all has
    // probability exp(-expected) (Poisson).
    const expected = expectedTrustedRows(at.length, ctx.trusted.n, inc.n);
    const isNew = Math.exp(-expected) < NEW_CLASS_LEVEL;
    const why = isNew
      ? ` A trusted set of ${ctx.trusted.n} rows drawn like this batch would hold about ${Math.round(expected)} of them, so the class is new in this batch or was left out of review.`
      : '';
    return makeFinding(
      meta,
      `${at.length} incoming ${at.length === 1 ? 'row is' : 'rows are'} labelled "${label}", a label the trusted set never carries (it holds ${known}); no reviewed row vouches for ${at.length === 1 ? 'it' : 'them'}, so ${at.length === 1 ? 'it was' : 'they were'} quarantined.${why} If "${label}" is one of those labels spelled differently, fix the labels; if it is a class of its own, add reviewed rows of it to the trusted set and audit again.`,
      {
        severity: isNew ? 'high' : 'medium',
        location: {
          rows: at.slice(0, 20).map((i) => inc.ids[i]),
          rowCount: at.length,
          column: ctx.roles.label,
        },
        evidence: {
          label,
          incomingRows: at.length,
          trustedLabels: known,
          expectedTrustedRows: Number(expected.toFixed(2)),
        },
      },
    );
  });
  return { findings, rows };
}

export const detector: Detector = {
  meta,
  stage: 1,
  applies: (ctx) => unseenClassReason(ctx) !== undefined || unseenLabels(ctx).size > 0,
  run,
};
export default detector;
