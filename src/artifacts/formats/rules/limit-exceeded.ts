import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/limit-exceeded',
  title: 'A resource limit was exceeded',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A limit on entries, nesting or decompressed bytes (src/core/limits.ts) stopped the analysis; hostile files use size and nesting to exhaust scanners, so the file blocks.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
