import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/symlink',
  title: 'Symbolic link not followed',
  severity: 'info',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Folder walks never follow symbolic links out of the scanned tree (a link can point anywhere, including back into the tree); the link is reported so nothing is skipped silently.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
