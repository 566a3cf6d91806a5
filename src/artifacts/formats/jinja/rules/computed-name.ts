import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/computed-name',
  title: 'Template computes an attribute or key name at run time',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A name built at run time (`x[u~u~"globals"~u~u]`, `x|attr(name)`, `map(attribute=name)`, a key stored in a variable, a lookup chained on a computed lookup) cannot be checked before rendering and is how obfuscated payloads hide dunders. Chat templates use literal keys and at most one lookup keyed by message data.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `takes ${construct}, a name computed at run time that cannot be checked`;
}
