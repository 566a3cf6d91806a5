/**
 * A text shape that shifts labels while its rows read as their own label's: a class's style (jokes that end in
 * "?", glowing reviews that trail off in "...") rather than relabelled rows. Trigger mining finds it and
 * quarantines nothing for it; this rule reports it for review, under its own id, so that whatever reads an
 * audit's triggers (guard fit --audit, the review page) never takes a style for one.
 */
import { ATLAS } from '../../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { round3 as round } from '../lib/evidence.js';
import type { AuditContext } from '../types.js';
import type { Mined } from './explain.js';

export const styleMeta: RuleMeta = {
  id: 'audit/style',
  title: 'Text shapes that are a class style',
  severity: 'medium',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'A shape (punctuation, casing, a sentence skeleton) that one label carries more often than the trusted reference expects, on rows whose content reads as that label does, is most often how that class is written. A backdoor can still be planted on rows that keep their label, so the rows are named for review and nothing is quarantined.',
};

export function styleFinding(ctx: AuditContext, c: Mined, name: string) {
  const label = ctx.classes[c.label];
  return makeFinding(
    styleMeta,
    `The text shape "${name}" appears on ${c.dfIn} incoming rows, ${(100 * c.purity).toFixed(0)}% labelled ${label} where the trusted reference expects ${(100 * c.expected).toFixed(0)}%, against ${c.dfTr} trusted ${c.dfTr === 1 ? 'row' : 'rows'}; its rows read as the other rows labelled ${label} do, so it looks like a style of that class, not relabelled rows, and none is quarantined. A backdoor can be planted on rows that keep their label too: if ${label} does not have this shape by nature, review its rows, and add reviewed ones to the trusted set either way.`,
    {
      location: { column: ctx.roles.text },
      evidence: {
        pattern: name,
        kind: 'text',
        label,
        incomingRows: c.dfIn,
        trustedRows: c.dfTr,
        purity: round(c.purity),
        expected: round(c.expected),
        pValue: c.pShift,
      },
    },
  );
}
