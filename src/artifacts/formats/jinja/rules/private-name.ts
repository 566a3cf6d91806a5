import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/private-name',
  title: 'Template reaches a private or dunder name',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Names that start with an underscore (`__class__`, `__globals__`, `__builtins__`, `_TemplateReference__context`) are how a Jinja template walks from a string or function to the Python interpreter and runs a command; no chat template needs one.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `uses the private name ${construct}, the first step of a template escape to Python`;
}
