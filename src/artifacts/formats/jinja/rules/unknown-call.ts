import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unknown-call',
  title: 'Template calls something outside the allowlist',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A chat template may call its own macros, the globals `raise_exception`, `strftime_now`, `range`, `namespace` and `dict`, and the data methods that real templates call (`strip`, `split`, `startswith`, `items`, `get`, ...). A call of anything else can run code the checker cannot see.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `calls ${construct}, which is not on the chat-template allowlist`;
}
