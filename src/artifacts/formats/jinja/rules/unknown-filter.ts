import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unknown-filter',
  title: 'Template uses a filter outside the allowlist',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Only the filters that chat templates of the major model families use are allowed; `attr`, `format` and any filter a host application may have added are refused, so a template cannot reach code through a filter this checker does not know.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses the filter ${construct}, which is not on the chat-template allowlist`;
}
