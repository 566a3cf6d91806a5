import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/zip64',
  title: 'Zip64 records',
  severity: 'info',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Zip64 records are normal for archives over 4 GB; the scanner checks they agree with the 32-bit records and reports them for the record.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
