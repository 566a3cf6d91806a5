/** Allowlist first: any imported name that no active profile lists blocks, whatever it is. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { dangerOf } from '../denylist.js';
import { at, nestingEvidence, type RuleContext } from './context.js';
import { howUsed, rawSpelling, usesOf } from './describe.js';

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
  for (const g of ctx.vm.globals.values()) {
    if (g.global.ext !== undefined || ctx.policy.allowed.has(g.global.qualified)) continue;
    const raw = rawSpelling(g);
    if (raw ? dangerOf(g.global.qualified, raw) : dangerOf(g.global.qualified)) continue;
    const profiles = ctx.policy.profiles.length ? ctx.policy.profiles.join(', ') : 'none';
    out.push(
      makeFinding(
        meta,
        `${g.global.qualified} is ${howUsed(g)} and is not in the allowlist (profiles: ${profiles}); allow it with --allow ${g.global.qualified} only if you trust that code.`,
        {
          location: at(ctx, g.offset, g.index),
          evidence: {
            name: g.global.qualified,
            ...(raw ? { writtenAs: raw } : {}),
            importedBy: g.importedBy,
            usedBy: usesOf(g),
            ...nestingEvidence(ctx),
          },
        },
      ),
    );
  }
  return out;
}
