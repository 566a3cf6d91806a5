import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'numpy/size-mismatch',
  title: '.npy data size does not match its header',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'The data after a .npy header must be exactly shape x itemsize bytes; missing or extra bytes mean the file was truncated or carries something numpy does not read.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
