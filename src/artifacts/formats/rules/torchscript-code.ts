/** `torchscript/code`: the code analyser's rule (formats/rules-meta.ts), used when no analyser is available. */
import type { Finding, Location } from '../../../core/finding.js';
import { makeFinding } from '../../../core/rule.js';
import { torchscriptCode } from '../rules-meta.js';

export const meta = torchscriptCode;

export function check(message: string, location: Location, evidence?: Record<string, unknown>): Finding {
  return makeFinding(meta, message, { location, evidence });
}
