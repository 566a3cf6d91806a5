import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/unknown-format',
  title: 'Not a model format Antidote recognises',
  severity: 'info',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'The file matches no model format by content and is not named like one; it is listed for completeness and passes.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
