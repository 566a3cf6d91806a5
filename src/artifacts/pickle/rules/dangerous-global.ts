/** A name outside the allowlist that is also known to be dangerous: critical, with what it can do. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, type RuleContext } from './context.js';
import { howUsed } from './describe.js';
import { globalEvidence, unlistedGlobals } from './unlisted.js';

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
  for (const u of unlistedGlobals(ctx)) {
    if (!u.danger) continue;
    out.push(
      makeFinding(meta, `${u.g.global.qualified} is ${howUsed(u.g)}: ${u.danger.reason}.`, {
        location: at(ctx, u.g.offset, u.g.index),
        evidence: globalEvidence(ctx, u),
      }),
    );
  }
  return out;
}
