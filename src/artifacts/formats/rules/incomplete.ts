import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/incomplete',
  title: 'Part of the file was not analysed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A reader reported that it did not analyse everything a loader would read (for example a pickle that did not parse to STOP) without saying why in a blocking finding; the orchestrator blocks so that nothing passes unparsed.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
