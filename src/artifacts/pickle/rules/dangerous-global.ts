/** A name outside the allowlist that is also known to be dangerous: critical, with what it can do. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { dangerOf } from '../denylist.js';
import { at, nestingEvidence, type RuleContext } from './context.js';
import { howUsed, rawSpelling, usesOf } from './describe.js';

export const meta: RuleMeta = {
  id: 'pickle/dangerous-global',
  title: 'Pickle imports a known-dangerous name',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "Unpickling imports every global the stream names and calls whatever REDUCE, INST, OBJ or NEWOBJ point at. A name that can run commands, evaluate code, open files or sockets, or load another unchecked pickle (os.system, builtins.eval, subprocess, runpy, torch.load, numpy.load...) turns loading the model into running the attacker's code. The allowlist already blocks every unlisted name; this rule marks the ones known to be weapons as critical and says why.",
};

export function check(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const g of ctx.vm.globals.values()) {
    if (g.global.ext !== undefined || ctx.policy.allowed.has(g.global.qualified)) continue;
    const raw = rawSpelling(g);
    const danger = raw ? dangerOf(g.global.qualified, raw) : dangerOf(g.global.qualified);
    if (!danger) continue;
    out.push(
      makeFinding(meta, `${g.global.qualified} is ${howUsed(g)}: ${danger.reason}.`, {
        location: at(ctx, g.offset, g.index),
        evidence: {
          name: g.global.qualified,
          ...(raw ? { writtenAs: raw } : {}),
          importedBy: g.importedBy,
          usedBy: usesOf(g),
          deniedBy: danger.entry,
          ...nestingEvidence(ctx),
        },
      }),
    );
  }
  return out;
}
