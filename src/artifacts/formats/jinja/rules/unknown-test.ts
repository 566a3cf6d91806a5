import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unknown-test',
  title: 'Template uses a test outside the allowlist',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Only the tests that chat templates use (defined, none, string, mapping, equalto, ...) are allowed; any other test name is refused.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses the test ${construct}, which is not on the chat-template allowlist`;
}
