import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/unparseable',
  title: 'Template cannot be parsed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A chat template is a program that the loader renders with Python Jinja2. A template this checker cannot parse exactly as Jinja2 would (a syntax error, a non-ASCII name, nesting too deep, too large) cannot be vouched for, so it blocks (fail closed).',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `cannot be parsed as a Jinja2 template (${construct}); it cannot be vouched for`;
}
