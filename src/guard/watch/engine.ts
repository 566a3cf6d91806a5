/**
 * The guard's bookkeeping for one stream of answered requests, shared by `guard proxy` (live) and
 * `guard replay` (logs): score each instance with the instance checks, count it into the open window (and its
 * journal, when a state folder is kept), close windows when due and turn their findings into alarms that the
 * next requests carry, and decide per request what the policy says: pass, flag or block.
 */
import type { Finding } from '../../core/finding.js';
import type { InputBatch } from '../../gate/models/types.js';
import { type Learned, learnedReason } from '../checks/learned-trigger.js';
import { rowOf } from './instances.js';
import { type EarlierCarrier, LookBack } from './lookback.js';
import { closeWindow, isDue, type WindowReport, type WindowSettings } from './monitor.js';
import { type Action, type Policy, rank } from './policy.js';
import type { WindowStore } from './store.js';
import type { InstanceOutcome, InstanceScorer, WatchProfile } from './types.js';
import {
  addRecords,
  compileSlices,
  emptyWindow,
  type InstanceRecord,
  recordOf,
  type WindowCounts,
} from './window.js';

export interface InstanceFlag {
  instance: number;
  rule: string;
  action: Action;
  reason: string;
}

export interface Decision {
  action: Action | 'pass';
  flags: InstanceFlag[];
  verdicts: InstanceOutcome[];
}

/** A finding with where it came from: a request's instance (1-based, as in the answer), or a closed window. */
export interface GuardEvent {
  time: string;
  request?: string;
  instance?: number;
  action: Action;
  finding: Finding;
}

interface Alarm {
  rule: string;
  action: Action;
  /** Slice index (-1: every instance) and, for a burst, the class. */
  slice: number;
  cls: number;
  reason: string;
}

export class GuardEngine {
  window: WindowCounts;
  private alarms: Alarm[] = [];
  private readonly slicesOf: ReturnType<typeof compileSlices>;
  private readonly sliceIndex: Map<string, number>;
  /** Called with the report of every window closed. */
  onReport?: (r: WindowReport) => void;
  /** Triggers guard/learned-trigger has just confirmed. */
  onLearned?: (learned: Learned[]) => void;
  /** Instances no check flagged that carry a trigger learned after they were checked. */
  earlierCarriers = 0;
  private readonly lookback: LookBack<string>;

  constructor(
    readonly profile: WatchProfile,
    private readonly scorer: InstanceScorer | undefined,
    readonly settings: WindowSettings,
    readonly policy: Policy,
    private readonly emit: (e: GuardEvent) => void,
    private readonly store?: WindowStore,
    window?: WindowCounts,
    now = Date.now(),
    lookback?: number,
  ) {
    this.lookback = new LookBack(lookback);
    this.window = window ?? emptyWindow(profile, 1, now);
    this.slicesOf = compileSlices(profile.outputs.slices.map((s) => s.rule));
    this.sliceIndex = new Map(profile.outputs.slices.map((s, i) => [s.text, i]));
  }

  /** Slice membership of every instance (cheap: compiled rules, one tokenisation per text column). */
  slices(batch: InputBatch): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < batch.n; i++) out.push(this.slicesOf(rowOf(batch, i)));
    return out;
  }

  /**
   * Score one answered request and count it. `probs` is the model's validated answer (n × k). Throws only when
   * recording fails (the caller answers 500 rather than pass an unrecorded request).
   */
  async check(
    batch: InputBatch,
    probs: Float64Array,
    requestId: string,
    now: number,
    predict?: (b: InputBatch) => Promise<Float64Array>,
    slices = this.slices(batch),
  ): Promise<Decision> {
    const k = this.profile.classes.length;
    const bins = this.profile.outputs.bins;
    const known = this.scorer?.learned?.().length ?? 0;
    const verdicts = this.scorer ? await this.scorer.scoreBatch(batch, probs, predict) : [];
    const learned = this.scorer?.learned?.() ?? [];
    // Kept only where triggers can be learned (a scorer with guard/learned-trigger).
    if (this.scorer?.learned)
      this.lookback.add(
        batch,
        requestId,
        verdicts.map((v) => v.predicted),
        (i) => verdicts[i]?.flagged ?? false,
      );
    let earlier: EarlierCarrier<string>[] = [];
    if (learned.length > known) {
      // Kept with the windows, so a restart still knows them.
      this.store?.saveLearned(learned);
      this.onLearned?.(learned.slice(known));
      // Instances checked before the trigger was learned (this request's included), unflagged, that carry it.
      earlier = this.lookback.carriers(learned.slice(known));
    }
    const flags: InstanceFlag[] = [];
    const counted: Record<string, number> = {};
    const recs: InstanceRecord[] = [];
    for (let i = 0; i < batch.n; i++) recs.push(recordOf(probs, i, k, bins, slices[i]));
    for (const v of verdicts)
      for (const c of v.checks)
        if (c.flagged) {
          counted[c.id] = (counted[c.id] ?? 0) + 1;
          flags.push({
            instance: v.index,
            rule: c.id,
            action: this.policy[c.id] ?? 'flag',
            reason: c.reason,
          });
        }
    for (const a of this.alarms)
      for (let i = 0; i < batch.n; i++)
        if ((a.slice < 0 || slices[i].includes(a.slice)) && (a.cls < 0 || recs[i][0] === a.cls))
          flags.push({ instance: i, rule: a.rule, action: a.action, reason: a.reason });
    const anyFlag = Object.keys(counted).length > 0;
    // Recorded before the answer leaves: a restart never loses an answered request.
    this.store?.append(now, recs, anyFlag ? counted : undefined);
    addRecords(this.window, recs, bins);
    this.window.requests++;
    this.window.last = now;
    for (const [id, n] of Object.entries(counted))
      this.window.flagged[id] = (this.window.flagged[id] ?? 0) + n;
    const time = new Date(now).toISOString();
    for (const v of verdicts)
      for (const c of v.checks)
        if (c.flagged)
          this.emit({
            time,
            request: requestId,
            instance: v.index + 1,
            action: this.policy[c.id] ?? 'flag',
            finding: {
              rule: c.id,
              severity: 'high',
              message: `Request ${requestId}, instance ${v.index + 1} (predicted "${v.predictedClass}"): ${c.reason}.`,
              location: { rows: [`${requestId}:${v.index + 1}`] },
              evidence: { score: c.score, threshold: c.threshold, predicted: v.predictedClass },
            },
          });
    for (const e of earlier) {
      this.earlierCarriers++;
      const cls = this.profile.classes[e.predicted];
      this.emit({
        time,
        request: e.tag,
        instance: e.index + 1,
        action: 'log',
        finding: {
          rule: 'guard/learned-trigger',
          severity: 'high',
          message: `Request ${e.tag}, instance ${e.index + 1} (predicted "${cls}", checked before this trigger was learned on request ${requestId}): ${learnedReason(e.learned, this.profile.classes)}.`,
          location: { rows: [`${e.tag}:${e.index + 1}`] },
          evidence: { earlier: true, predicted: cls, learnedOn: requestId },
        },
      });
    }
    let action: Decision['action'] = 'pass';
    for (const f of flags) if (action === 'pass' || rank(f.action) > rank(action)) action = f.action;
    if (this.settings.rows > 0 && this.window.overall.n >= this.settings.rows) this.tick(now);
    return { action, flags, verdicts };
  }

  /** Close the window when it is due (by count or by time); returns its report. */
  tick(now: number, force = false): WindowReport | undefined {
    const w = this.window;
    if (!(force ? w.overall.n > 0 : isDue(w, now, this.settings))) return undefined;
    const report = closeWindow(this.profile, w, now, this.settings);
    this.window = this.store
      ? this.store.rotate(w, report, now)
      : emptyWindow(this.profile, w.index + 1, now);
    this.onReport?.(report);
    const time = new Date(now).toISOString();
    for (const f of report.findings) this.emit({ time, action: this.policy[f.rule] ?? 'flag', finding: f });
    this.restoreAlarms(report);
    return report;
  }

  /**
   * The alarms a closed window raises: its findings whose policy is flag or block. An alarm holds until the
   * next window closes (a window without the finding lifts it); after a restart, the last closed window's.
   */
  restoreAlarms(report: WindowReport): void {
    const alarms: Alarm[] = [];
    for (const f of report.findings) {
      const action = this.policy[f.rule] ?? 'flag';
      if (action === 'log') continue;
      const ev = (f.evidence ?? {}) as { scope?: string; slice?: string; class?: string };
      const sliceText =
        f.rule === 'guard/class-burst' ? ev.slice : ev.scope === 'overall' ? undefined : ev.scope;
      alarms.push({
        rule: f.rule,
        action,
        slice: sliceText === undefined ? -1 : (this.sliceIndex.get(sliceText) ?? -1),
        cls: ev.class === undefined ? -1 : this.profile.classes.indexOf(ev.class),
        reason: f.message,
      });
    }
    this.alarms = alarms;
  }

  activeAlarms(): Array<{ rule: string; action: Action; reason: string }> {
    return this.alarms.map(({ rule, action, reason }) => ({ rule, action, reason }));
  }
}
