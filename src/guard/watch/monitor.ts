/**
 * Closing a window: the output-shift test on every scope with enough instances and the burst search over the
 * narrow slices, as data (the window's statistics and its findings). Shared by the proxy and the replayer.
 */
import type { Finding } from '../../core/finding.js';
import { BURST_DEFAULTS, type BurstSettings, burstFinding, findBursts } from './class-burst.js';
import {
  type ScopeShift,
  SHIFT_DEFAULTS,
  type ShiftSettings,
  scopeShift,
  shiftFinding,
} from './output-shift.js';
import type { WatchProfile } from './types.js';
import type { WindowCounts } from './window.js';

export interface WindowSettings {
  /** Instances per window (0: no count limit). */
  rows: number;
  /** Window length in ms (0: no time limit). */
  ms: number;
  shift: ShiftSettings;
  burst: BurstSettings;
}

export const WINDOW_DEFAULTS: WindowSettings = {
  rows: 1000,
  ms: 3_600_000,
  shift: SHIFT_DEFAULTS,
  burst: BURST_DEFAULTS,
};

export interface WindowReport {
  window: number;
  start: string;
  end: string;
  requests: number;
  instances: number;
  flagged: Record<string, number>;
  /** Scopes tested (overall first), with their statistics. */
  scopes: ScopeShift[];
  /** Scopes skipped for too few instances. */
  untested: number;
  findings: Finding[];
}

export function isDue(w: WindowCounts, now: number, s: WindowSettings): boolean {
  return (s.rows > 0 && w.overall.n >= s.rows) || (s.ms > 0 && now - w.start >= s.ms && w.overall.n > 0);
}

export function closeWindow(
  profile: WatchProfile,
  w: WindowCounts,
  end: number,
  s: WindowSettings,
): WindowReport {
  const { classes } = profile;
  const bins = profile.outputs.bins;
  const scopes: Array<{ name: string; i: number }> = [{ name: 'overall', i: -1 }];
  let untested = 0;
  profile.outputs.slices.forEach((sl, i) => {
    if (w.slices[i].n >= s.shift.minSupport && sl.distribution.n >= s.shift.minSupport)
      scopes.push({ name: sl.text, i });
    else untested++;
  });
  const tested: ScopeShift[] = [];
  const findings: Finding[] = [];
  if (w.overall.n >= s.shift.minSupport) {
    for (const sc of scopes) {
      const trusted = sc.i < 0 ? profile.outputs.overall : profile.outputs.slices[sc.i].distribution;
      const counts = sc.i < 0 ? w.overall : w.slices[sc.i];
      const sh = scopeShift(sc.name, trusted, counts, classes, bins, scopes.length, s.shift);
      tested.push(sh);
      if (sh.shifted) findings.push(shiftFinding(sh, classes, w.index));
    }
  } else untested = 1 + profile.outputs.slices.length;
  for (const b of findBursts(profile, w, s.burst)) findings.push(burstFinding(b, w.index, w.overall.n));
  return {
    window: w.index,
    start: new Date(w.start).toISOString(),
    end: new Date(end).toISOString(),
    requests: w.requests,
    instances: w.overall.n,
    flagged: { ...w.flagged },
    scopes: tested,
    untested,
    findings,
  };
}
