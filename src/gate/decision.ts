/**
 * The decision and the report: block when any finding is at or above `high` (a model that cannot be
 * evaluated is a critical finding); otherwise promote, but only "with caveats" when a check was skipped,
 * since a check that did not run found nothing and proves nothing. The report's shape is
 * schemas/gate-report.v1.json.
 */
import type { Finding } from '../core/finding.js';
import { atLeast, type Severity, severityRank } from '../core/severity.js';
import type { GateSettings } from './context.js';
import type { Evaluation } from './evaluate.js';
import type { ProbeSummary } from './probes.js';
import type { ShiftResult } from './shift.js';
import type { Discovery, SliceStat } from './slices.js';

export type Decision = 'promote' | 'promote-with-caveats' | 'block';

export interface ModelInfo {
  kind: string;
  source: string;
  digest: string;
}

export interface GateReport {
  version: 1;
  tool: { name: 'antidote'; version: string };
  createdAt: string;
  decision: Decision;
  /** One sentence per blocking finding. */
  reasons: string[];
  /** One sentence per check that did not run (its name and why): each keeps the decision from a clean promote. */
  caveats: string[];
  trusted: { path: string; digest: string; rows: number; labelled: number; classes: string[] };
  live?: { path: string; digest: string; rows: number };
  models: { incumbent: ModelInfo; candidate: ModelInfo };
  /** Checks that ran, in order; a check skipped says why. */
  checks: Array<{ name: string; ran: boolean; note?: string; findings: number }>;
  metrics?: Evaluation;
  liveMetrics?: Evaluation;
  slices?: { declared: SliceStat[]; discovery?: Discovery };
  shift?: ShiftResult;
  probes?: ProbeSummary;
  findings: Finding[];
  settings: GateSettings;
  durationMs: number;
  /** Files written next to report.json. */
  outputs?: { json?: string; html?: string; statement?: string };
}

export const BLOCK_AT: Severity = 'high';

export function decide(
  findings: Finding[],
  checks: GateReport['checks'] = [],
): { decision: Decision; reasons: string[]; caveats: string[] } {
  const blocking = findings.filter((f) => atLeast(f.severity, BLOCK_AT));
  blocking.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const caveats = checks.filter((c) => !c.ran).map((c) => `${c.name} skipped: ${c.note ?? 'not run'}`);
  const decision: Decision = blocking.length ? 'block' : caveats.length ? 'promote-with-caveats' : 'promote';
  return { decision, reasons: blocking.map((f) => f.message), caveats };
}

/** Both promote decisions let the candidate through (exit 0); only a block stops it. */
export const promotes = (d: Decision): boolean => d !== 'block';
