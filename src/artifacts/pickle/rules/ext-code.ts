/** EXT1/EXT2/EXT4 name a global through copyreg's extension registry, which a scanner cannot see. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, nestingEvidence, type RuleContext } from './context.js';
import { howUsed, usesOf } from './describe.js';

export const meta: RuleMeta = {
  id: 'pickle/ext-code',
  title: 'Pickle uses an extension code',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "EXT opcodes import a global by number through copyreg's extension registry. The registry is empty in a plain interpreter (the load fails), but any code that registered extensions (copyreg.add_extension) decides what the number means, so the name cannot be checked statically. No mainstream ML library writes EXT codes; a pickle that uses one blocks.",
};

export function check(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const g of ctx.vm.globals.values()) {
    if (g.global.ext === undefined) continue;
    out.push(
      makeFinding(
        meta,
        `Extension code ${g.global.ext} (${g.importedBy}) is ${
          howUsed(g)
            .replace(/^imported \([^)]*\)( and)?/, '')
            .trim() || 'pushed'
        }; the global it names depends on copyreg's registry and cannot be checked.`,
        {
          location: at(ctx, g.offset, g.index),
          evidence: { code: g.global.ext, opcode: g.importedBy, usedBy: usesOf(g), ...nestingEvidence(ctx) },
        },
      ),
    );
  }
  return out;
}
