import type { Finding } from './finding.js';
import { atLeast, type Severity } from './severity.js';

export type Verdict = 'pass' | 'block';

/** Default threshold: a finding of this severity or above blocks. */
export const DEFAULT_FAIL_ON: Severity = 'high';

export function verdictOf(findings: readonly Finding[], failOn: Severity = DEFAULT_FAIL_ON): Verdict {
  return findings.some((f) => atLeast(f.severity, failOn)) ? 'block' : 'pass';
}
