import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/duplicate-name',
  title: 'Two zip entries share a name',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "With duplicate names, python's zipfile returns the last entry and miniz the first: a scanner reading one and a loader the other is a known bypass.",
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
