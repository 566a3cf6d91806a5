import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'scan/unanalysable',
  title: 'The file cannot be fully analysed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Encrypted, corrupt, truncated or wrapped in a format Antidote cannot open (7z, rar, unknown compression), or named like a model format without matching any: the scanner cannot vouch for what a loader would run, so the file blocks.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
