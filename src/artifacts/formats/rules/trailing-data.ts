import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/trailing-data',
  title: 'Bytes after the last pickle',
  severity: 'info',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "Bytes after a pickle's STOP opcode that do not start another pickle are ignored by pickle.load; they are reported because another reader could use them.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
