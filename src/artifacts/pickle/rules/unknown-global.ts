/** Allowlist first: any imported name that no active profile lists blocks, whatever it is. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, type RuleContext } from './context.js';
import { howUsed } from './describe.js';
import { globalEvidence, unlistedGlobals } from './unlisted.js';

export const meta: RuleMeta = {
  id: 'pickle/unknown-global',
  title: 'Pickle imports a name outside the allowlist',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Denylists miss gadgets: a 2025 study found 133 exploitable callables in common libraries. Antidote allows only exact fully qualified names from named profiles (torch, numpy, sklearn, pandas, scipy, builtins, transformers) plus what the user adds with --allow or a policy file; every other name a pickle imports blocks, with what the pickle does with it.',
};

export function check(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const profiles = ctx.policy.profiles.length ? ctx.policy.profiles.join(', ') : 'none';
  for (const u of unlistedGlobals(ctx)) {
    if (u.danger) continue; // reported as critical by pickle/dangerous-global
    const name = u.g.global.qualified;
    out.push(
      makeFinding(
        meta,
        `${name} is ${howUsed(u.g)} and is not in the allowlist (profiles: ${profiles}); allow it with --allow ${name} only if you trust that code.`,
        { location: at(ctx, u.g.offset, u.g.index), evidence: globalEvidence(ctx, u) },
      ),
    );
  }
  return out;
}
