import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/malformed',
  title: 'Zip structure is malformed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "The archive's end record, central directory or an entry's local header cannot be read as the loaders read it. A loader may still open parts of it, so the scanner cannot vouch for what it would load: fail closed.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
