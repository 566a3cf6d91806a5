import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/lfs-pointer',
  title: 'A Git LFS pointer stands where the model should be',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A repository cloned without Git LFS (or a download that kept the pointer) holds a small text file naming the real file by its SHA-256 and size. The model itself was never fetched, so nothing of it was scanned; a loader pointed at the folder later, once the bytes arrive, would read a file no one checked. Fetch it (git lfs pull) and scan again.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
