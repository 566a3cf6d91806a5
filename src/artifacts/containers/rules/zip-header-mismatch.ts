import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/header-mismatch',
  title: 'Local and central zip headers disagree',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "PyTorch's reader (miniz) trusts the central directory while other readers walk local headers; when the two disagree on a name, size, method or flag, different tools load different bytes, the classic way to show a scanner one file and a loader another.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
