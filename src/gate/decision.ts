/**
 * The decision and the report: block when any finding is at or above `high` (a model that cannot be
 * evaluated is a critical finding), promote otherwise. The report's shape is schemas/gate-report.v1.json.
 */
import type { Finding } from '../core/finding.js';
import { atLeast, type Severity, severityRank } from '../core/severity.js';
import type { GateSettings } from './context.js';
import type { Evaluation } from './evaluate.js';
import type { ProbeSummary } from './probes.js';
import type { ShiftResult } from './shift.js';
import type { Discovery, SliceStat } from './slices.js';

export type Decision = 'promote' | 'block';

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

export function decide(findings: Finding[]): { decision: Decision; reasons: string[] } {
  const blocking = findings.filter((f) => atLeast(f.severity, BLOCK_AT));
  blocking.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  return { decision: blocking.length ? 'block' : 'promote', reasons: blocking.map((f) => f.message) };
}
