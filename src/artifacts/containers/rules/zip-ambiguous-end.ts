import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/ambiguous-end',
  title: 'Several zip end records',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'An archive with more than one end-of-central-directory signature in its tail (often hidden in the comment) can resolve to different directories in different readers.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
