/**
 * `antidote guard replay`: the proxy's checks over logged traffic, for pipelines that cannot put a proxy in the
 * path. Input: JSON Lines, one answered request per line,
 *   {"time": "2026-01-31T12:00:00Z" | 1769860800000, "id": "req-1",
 *    "request": {"instances": [...]}, "response": {"predictions": [...]}}
 * (`time` and `id` optional; without `time`, windows close by count only). Lines are read one at a time. A line
 * that is not JSON, lacks the request or the response, or whose predictions do not fit its instances is a bad
 * line: counted, listed (the first 20 with their reason), never skipped in silence. STRIP needs the model's
 * answers on perturbed copies: with the ONNX file (--model) they are computed locally; without it STRIP does
 * not run and the report says so.
 */
import type { Finding } from '../../core/finding.js';
import { predictionsOf } from '../../gate/models/http.js';
import type { InputBatch } from '../../gate/models/types.js';
import { describeTrigger } from '../checks/known-trigger.js';
import { GuardEngine, type GuardEvent } from './engine.js';
import { instancesOf, RequestError, toBatch } from './instances.js';
import type { WindowReport, WindowSettings } from './monitor.js';
import type { Policy } from './policy.js';
import type { InstanceScorer, WatchProfile } from './types.js';

export const REPLAY_FORMAT = 'antidote-guard-replay';

export interface ReplayReport {
  format: typeof REPLAY_FORMAT;
  version: 1;
  profile: { path: string; model: string };
  lines: number;
  requests: number;
  instances: number;
  badLines: { count: number; first: Array<{ line: number; reason: string }> };
  /** Instances flagged, per instance check. */
  flagged: Record<string, number>;
  /**
   * Instances answered before a trigger was learned that carry it, reported when it was (guard/learned-trigger
   * findings with evidence.earlier); not in `flagged`, which counts instances as they were checked.
   */
  earlier: number;
  /** Findings per rule (instance findings and window findings). */
  findings: Record<string, number>;
  windows: Array<Omit<WindowReport, 'findings'> & { findings: Finding[] }>;
  /** Checks that never ran, and why (from the scorer). */
  unavailable: Record<string, string>;
  /** Triggers guard/learned-trigger confirmed during the replay, in the order learned. */
  learned: Array<{
    trigger: string;
    class: string;
    support: number;
    modelWith: number;
    referenceWith: number;
    /** Flagged only where the model answers its class (too common in trusted rows to flag on sight). */
    answered?: true;
  }>;
}

export interface ReplayInput {
  profile: WatchProfile;
  profilePath: string;
  scorer?: InstanceScorer;
  unavailable?: Record<string, string>;
  settings: WindowSettings;
  policy: Policy;
  maxInstances: number;
  onEvent: (e: GuardEvent) => void;
  /** The model, for STRIP's perturbed copies (the ONNX file given with --model); without it STRIP does not run. */
  predict?: (batch: InputBatch) => Promise<Float64Array>;
}

function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export async function replayLogs(lines: AsyncIterable<string>, input: ReplayInput): Promise<ReplayReport> {
  const k = input.profile.classes.length;
  const report: ReplayReport = {
    format: REPLAY_FORMAT,
    version: 1,
    profile: { path: input.profilePath, model: input.profile.model.digest },
    lines: 0,
    requests: 0,
    instances: 0,
    badLines: { count: 0, first: [] },
    flagged: {},
    earlier: 0,
    findings: {},
    windows: [],
    unavailable: input.unavailable ?? {},
    learned: [],
  };
  const emit = (e: GuardEvent) => {
    report.findings[e.finding.rule] = (report.findings[e.finding.rule] ?? 0) + 1;
    input.onEvent(e);
  };
  let engine: GuardEngine | undefined;
  let last = 0;
  const bad = (line: number, reason: string) => {
    report.badLines.count++;
    if (report.badLines.first.length < 20) report.badLines.first.push({ line, reason });
  };
  for await (const raw of lines) {
    const lineNo = ++report.lines;
    if (!raw.trim()) continue;
    let rec: { time?: unknown; id?: unknown; request?: unknown; response?: unknown };
    try {
      rec = JSON.parse(raw);
    } catch {
      bad(lineNo, 'not JSON');
      continue;
    }
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      bad(lineNo, 'not a JSON object');
      continue;
    }
    const t = rec.time === undefined ? last : timeOf(rec.time);
    if (t === undefined) {
      bad(lineNo, '"time" is neither an ISO date nor epoch milliseconds');
      continue;
    }
    const id = typeof rec.id === 'string' && rec.id ? rec.id.slice(0, 128) : `line-${lineNo}`;
    let batch: ReturnType<typeof toBatch>;
    let probs: Float64Array;
    try {
      batch = toBatch(input.profile, instancesOf(rec.request, input.maxInstances), id);
      if (!rec.response || typeof rec.response !== 'object') throw new RequestError('no "response" object');
      probs = predictionsOf(rec.response, batch.n, k, 'the logged response');
    } catch (err) {
      bad(lineNo, (err as Error).message);
      continue;
    }
    last = Math.max(last, t);
    if (!engine) {
      engine = new GuardEngine(
        input.profile,
        input.scorer,
        input.settings,
        input.policy,
        emit,
        undefined,
        undefined,
        t,
      );
      engine.onReport = (w) => report.windows.push(w);
    }
    engine.tick(t);
    await engine.check(batch, probs, id, t, input.predict);
    report.requests++;
    report.instances += batch.n;
  }
  report.learned = (input.scorer?.learned?.() ?? []).map((l) => ({
    trigger: describeTrigger(l.trigger),
    class: input.profile.classes[l.cls],
    support: l.support,
    modelWith: l.modelWith,
    referenceWith: l.referenceWith,
    ...(l.answered ? { answered: true as const } : {}),
  }));
  if (engine) {
    report.earlier = engine.earlierCarriers;
    engine.tick(last, true);
    for (const w of report.windows)
      for (const [c, n] of Object.entries(w.flagged)) report.flagged[c] = (report.flagged[c] ?? 0) + n;
  }
  return report;
}
