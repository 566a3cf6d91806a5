import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/overlapping-entries',
  title: 'Zip entries overlap',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Entries whose byte ranges overlap each other or the directory make the same bytes mean two things (zip bombs, header confusion); no legitimate writer produces them.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
