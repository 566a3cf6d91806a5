import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unsupported-syntax',
  title: 'Template uses a construct outside the allowlist',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Statements and operators that chat templates never need are refused: `include`, `import`, `extends`, `block`, `call`, `filter`, `with`, `autoescape`, `do`, recursive loops, the power operator (a CPU bomb: `9**9**9`), `*args`/`**kwargs` call expansion and `loop` methods.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses ${construct}, which chat templates do not need`;
}
