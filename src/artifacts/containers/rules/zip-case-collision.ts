import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/case-collision',
  title: 'Zip entry names differ only in case',
  severity: 'medium',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'On case-insensitive file systems, extracting the archive lets one entry replace another; a loader that extracts first may read a different file than the scanner.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
