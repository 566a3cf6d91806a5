/** A call whose callable is not an imported name: the result of another call, a persistent object... */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { calleeName, type PyValue } from '../value.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/indirect-call',
  title: 'Pickle calls a computed object',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Allowlisting works on the names a pickle imports. When REDUCE, OBJ or NEWOBJ calls something that was not imported by name (the return value of another call, such as getattr(module, "system"), or an object from persistent_load), the name check no longer describes what runs. Real model files only call imported names.',
};

function describe(v: PyValue): string {
  const name = calleeName(v);
  if (name) return `the result of calling ${name}`;
  if (v === null) return 'None';
  if (typeof v === 'object') return `a ${(v as { kind: string }).kind} object`;
  return `a ${typeof v} value`;
}

export function check(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const c of ctx.vm.calls) {
    const fn = c.fn;
    if (typeof fn === 'object' && fn !== null && (fn as { kind: string }).kind === 'global') continue;
    out.push(
      makeFinding(
        meta,
        `${c.via} calls ${describe(fn)} instead of an imported name; what runs cannot be checked.`,
        {
          location: at(ctx, c.offset),
          evidence: { via: c.via, callee: describe(fn), ...nestingEvidence(ctx) },
        },
      ),
    );
  }
  return out;
}
