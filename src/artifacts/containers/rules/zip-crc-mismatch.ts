import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/crc-mismatch',
  title: 'Zip entry CRC does not match',
  severity: 'low',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "python's zipfile refuses an entry whose CRC does not match while PyTorch's reader may load it; the scanner analyses the bytes anyway and reports the mismatch.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
