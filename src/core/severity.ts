/** Severity of a finding, ordered from least to most serious. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** True when `s` is at or above `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return severityRank(s) >= severityRank(threshold);
}

export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

export function maxSeverity(list: Iterable<Severity>): Severity | undefined {
  let best: Severity | undefined;
  for (const s of list) if (best === undefined || severityRank(s) > severityRank(best)) best = s;
  return best;
}
