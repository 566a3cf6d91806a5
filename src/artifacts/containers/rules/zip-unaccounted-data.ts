import { ATLAS } from '../../../core/atlas.js';
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';

export const meta: RuleMeta = {
  id: 'zip/unaccounted-data',
  title: 'Bytes outside any zip entry',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Bytes before the archive, between entries or after the end record are read by no zip reader but may be read by something else (a pickle loader reading from the start of a polyglot, a reader that searches differently); real model writers leave none.',
};

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
