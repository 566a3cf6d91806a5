import type { Finding, Location } from './finding.js';
import type { Severity } from './severity.js';

/**
 * Metadata every rule or detector module exports beside its pure function.
 * Adding a rule = one file exporting `meta` + a function, and one line in its registry.
 */
export interface RuleMeta {
  /** Stable id, `<area>/<name>`, e.g. `pickle/unsafe-global`. */
  id: string;
  title: string;
  /** Default severity; a finding may raise or lower it with a reason. */
  severity: Severity;
  atlas?: string;
  /** One paragraph: why this matters and what it catches. */
  rationale: string;
}

/** Build a Finding from a rule's metadata. */
export function makeFinding(
  meta: RuleMeta,
  message: string,
  extra: { location?: Location; evidence?: Record<string, unknown>; severity?: Severity } = {},
): Finding {
  const f: Finding = { rule: meta.id, severity: extra.severity ?? meta.severity, message };
  if (extra.location) f.location = extra.location;
  if (extra.evidence) f.evidence = extra.evidence;
  if (meta.atlas) f.atlas = meta.atlas;
  return f;
}
