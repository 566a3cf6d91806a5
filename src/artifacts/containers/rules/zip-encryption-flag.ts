import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/encryption-flag',
  title: 'Encryption flag set on a plaintext entry',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'The entry is flagged as encrypted but its data is plain: readers that honour the flag refuse it while readers that ignore it load it, a disagreement used to hide payloads from scanners.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
