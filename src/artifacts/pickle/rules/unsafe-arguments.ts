/** An allowed name called with arguments that make it unsafe (see arg-rules.ts). */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { argCheckFor } from '../arg-rules.js';
import { isGlobal } from '../value.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/unsafe-arguments',
  title: 'Allowed name called with unsafe arguments',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "Some names real files need are safe only with the arguments their library writes: `_codecs.encode(text, 'latin1')` for bytes, `copyreg._reconstructor(cls, base, state)` and Cython's `__pyx_unpickle_*` with classes imported by name. Other arguments turn them into gadgets (a codec name that imports a module, a class computed by another call), so each such call is checked.",
};

export function check(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const c of ctx.vm.calls) {
    if (!isGlobal(c.fn) || !ctx.policy.allowed.has(c.fn.qualified)) continue;
    const rule = argCheckFor(c.fn.qualified);
    const why = rule?.(c);
    if (!why) continue;
    out.push(
      makeFinding(
        meta,
        `${c.fn.qualified} is ${c.via === 'REDUCE' ? 'called' : `instantiated (${c.via})`} with unsafe arguments: it ${why}.`,
        {
          location: at(ctx, c.offset),
          evidence: { name: c.fn.qualified, via: c.via, reason: why, ...nestingEvidence(ctx) },
        },
      ),
    );
  }
  return out;
}
