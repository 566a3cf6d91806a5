import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'tar/link',
  title: 'Tar member is a symbolic or hard link',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Extraction creates links as they are written: a symlink or hardlink member can point at any file (`/etc/passwd`, `~/.ssh`, a file outside the destination) and a later member written "through" it overwrites that file. A model archive has no use for links, so every link member blocks and its target is reported.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
