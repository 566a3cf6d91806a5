import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'tar/malformed',
  title: 'Tar structure is malformed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A tar header with a bad checksum, a member running past the end of the file or non-zero bytes after the end blocks means readers may disagree on the members: fail closed.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
