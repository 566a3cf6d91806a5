import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/walk-limit',
  title: 'Folder walk stopped at a limit',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'The folder holds more files or deeper nesting than the walk limit; files beyond it were not scanned, so the folder blocks.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
