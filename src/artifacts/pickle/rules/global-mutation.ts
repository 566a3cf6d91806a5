/** BUILD, APPEND(S), SETITEM(S) or ADDITEMS applied to an imported module, class or function. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/global-mutation',
  title: 'Pickle modifies an imported module, class or function',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "BUILD on an object updates its __dict__ (or calls its __setstate__), and APPEND/SETITEM call its extend/__setitem__ methods. Applied to something the pickle imported by name rather than to an object it created, this monkey-patches shared state: replacing a module's function, a class's method or a registry entry so that later, innocent code runs the attacker's choice. Real model files never do this, even with allowed names.",
};

export function check(ctx: RuleContext): Finding[] {
  return ctx.vm.mutations.map((m) =>
    makeFinding(
      meta,
      `${m.op} is applied to the imported object ${m.target.qualified} itself: this monkey-patches shared state (e.g. replaces module attributes) rather than building a new object.`,
      {
        location: at(ctx, m.offset, m.index),
        evidence: { target: m.target.qualified, opcode: m.op, ...nestingEvidence(ctx) },
      },
    ),
  );
}
