import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'pytorch/legacy-storage',
  title: 'Legacy checkpoint storage layout',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A legacy (non-zip) PyTorch checkpoint stores raw tensor storages after its pickles; storages the pickles do not describe, or a layout that runs past the end of the file, mean the scanner cannot account for every byte a loader reads.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
