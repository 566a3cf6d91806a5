import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/unsafe-path',
  title: 'Zip entry name is absolute or climbs out with ..',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'An entry named with an absolute path or `..` writes outside the destination when extracted (zip slip), and has no business in a model archive.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
