import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/internal-error',
  title: 'The scanner failed on this file',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'An unexpected error while analysing the file means it was not fully analysed; the file blocks (fail closed) and the error is a bug to report.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
