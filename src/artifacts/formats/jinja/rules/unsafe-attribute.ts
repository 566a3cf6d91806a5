import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unsafe-attribute',
  title: 'Template uses an attribute that reaches internals or mutates data',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Attributes such as `mro`, `format`, `gi_frame`, `f_globals`, `func_globals` reach interpreter internals or attribute lookups inside a string, and mutators (`append`, `update`, `pop`) change the caller data; chat templates need none of them.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses the attribute ${construct}, which reaches Python internals or mutates data`;
}
