import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unsafe-global',
  title: 'Template uses a global that leaks Python objects',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    '`lipsum`, `cycler`, `joiner`, `self`, `config`, `request`, `session`, `g`, `url_for`, `get_flashed_messages` and `caller` are Python functions or framework objects whose internals lead to `os`; they are the entry points of server-side template injection and no chat template uses them.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses the global ${construct}, an entry point of template injection that no chat template needs`;
}
