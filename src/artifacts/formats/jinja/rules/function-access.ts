import { ATLAS } from '../../../../core/atlas.js';
import type { RuleMeta } from '../../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'template/function-access',
  title: 'Template takes an attribute of a function',
  severity: 'critical',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Taking an attribute or item of a function, macro or method (or passing one around as a value) reaches its Python internals (`__globals__`, `__init__`); chat templates only call functions.',
};

/** The sentence for one violation; `construct` names what the template does, as written. */
export function message(construct: string): string {
  return `takes ${construct}, an attribute or item of a function, which reaches Python internals`;
}
