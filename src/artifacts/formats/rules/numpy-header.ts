import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'numpy/malformed-header',
  title: 'Malformed .npy header',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'numpy parses the .npy header with ast.literal_eval; a header the scanner cannot parse the same way (or an unknown dtype) cannot be vouched for.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
