import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'tar/unsafe-path',
  title: 'Tar member name is absolute or climbs out with ..',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "A member named with an absolute path or `..` writes outside the destination when extracted (Python's tarfile before the 3.12 filters, CVE-2007-4559), the tar form of zip slip; it has no business in a model archive.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
