/**
 * guard/learned-trigger: the instance carries a trigger guard/occlusion confirmed on earlier requests.
 *
 * Why: occlusion sees a trigger only through the backdoored answer, so a request whose trigger did not fire (a
 * weak backdoor, an attacker still probing) passes, and each firing request costs a full occlusion. But an
 * attacker sends the same trigger again and again. So what occlusion blamed on a request is counted (every subset
 * of the values, each run of words on its own) when one of its candidate parts already passes, in that request,
 * the test below, and a model of the trusted data reads the request without that part as another class (scorer.ts):
 * a triggered request of an ordinary-looking trigger need not score beyond every trusted row, which on a small or
 * weakly modelled trusted set it rarely does, while content that decides an answer leaves a rest that agrees
 * with it. A pattern blamed on MIN_SUPPORT distinct requests (the same request sent again is one piece of
 * evidence) is tested once on its own: written into the held trusted rows the model answers
 * otherwise (transplant.ts), it must move the promoted model towards the class by more than a model of the trusted
 * data, by more than the largest calibration score of occlusion for that class (or its threshold, if lower). A
 * confirmed pattern is then looked for in every instance, exactly and cheaply, like a known trigger, and flags it
 * whether or not the backdoor fired. What it may cost in false alarms is measured on the held trusted rows and
 * held to the part of the false-alarm rate the calibrated checks leave (profile.ts FPR_MARGIN): the carriers
 * there, not counting those the promoted model answers with the class against a model of the trusted data where
 * that happens to carriers more than to other rows (the backdoor firing on a natural carrier, which a flag should
 * catch; scorer.ts `wrongedCarriers`). A pattern carried by more rows than that (two values that often occur
 * together) is still learned when the carriers the model answers with its class fit the same allowance; it then
 * flags only instances the model answers with its class: those on which the backdoor fired, since a carrier it did
 * not fire on cannot be told from an ordinary one. The smallest confirmed patterns are kept; the memory of
 * candidates and of learned triggers is bounded.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';
import type { InputBatch } from '../../gate/models/types.js';
import { tokenize } from '../../gate/table.js';
import type { KnownTrigger } from '../profile.js';
import { type RawTrigger, triggerPresent } from '../triggers.js';
import type { CheckResult } from '../types.js';
import { describeTrigger } from './known-trigger.js';
import type { Occlusions, PartSpec } from './occlusion.js';

export const meta: RuleMeta = {
  id: 'guard/learned-trigger',
  title: 'Instance carries a trigger confirmed on earlier requests',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'An attacker sends the same trigger many times. Once occlusion has blamed a pattern on several requests and the pattern alone, written into trusted inputs, moves the model and not a model of the trusted data, every later request carrying it is flagged, whether or not the backdoor fires on it (a pattern common in trusted rows: only where the model gives its class).',
};

/** Distinct requests a pattern must be blamed on before it is tested. */
export const MIN_SUPPORT = 3;
const MAX_CANDIDATES = 10_000;
const MAX_LEARNED = 256;

/** A pattern: a run of words in a text column, or value conditions, all of which must hold. */
export type Pattern = Pick<RawTrigger, 'column' | 'kind' | 'value' | 'also'>;

export interface Learned {
  trigger: KnownTrigger;
  /** Requests occlusion flagged with it, when it was confirmed. */
  support: number;
  cls: number;
  /** Mean probability of the class over the held rows with the pattern: the promoted model's and the reference's. */
  modelWith: number;
  referenceWith: number;
  /**
   * Too common in the held trusted rows to flag on sight: flagged only where the model gives the class, which
   * only the held carriers the model already answers so could make a false alarm of.
   */
  answered?: true;
}

interface Candidate {
  pattern: Pattern;
  cls: number;
  support: number;
  /** The distinct instances (row hashes) it was blamed on, up to MIN_SUPPORT. */
  seen: number[];
  tested: boolean;
}

const keyOf = (p: Pattern, cls: number) =>
  JSON.stringify([cls, p.kind, p.column, p.value, ...(p.also ?? []).map((a) => [a.column, a.value])]);

/** The patterns an instance's blamed parts give: every subset of its values, and each run of words alone. */
export function patternsOf(
  batch: InputBatch,
  i: number,
  occ: Occlusions,
  r: number,
  parts: number[],
): Pattern[] {
  const values: Array<{ column: string; value: string }> = [];
  const out: Pattern[] = [];
  for (const p of parts.map((x) => occ.specs[r][x]) as PartSpec[]) {
    const col = batch.columns.get(p.column);
    if (!col) continue;
    if (p.text) {
      const words = String(col.values[i]).split(/\s+/).filter(Boolean);
      const phrase = tokenize(words.slice(p.start, p.start + p.length).join(' ')).join(' ');
      if (phrase) out.push({ column: p.column, kind: 'token', value: phrase });
    } else {
      const v = col.values[i];
      if (typeof v === 'number' && Number.isNaN(v)) continue;
      values.push({ column: p.column, value: String(v).trim() });
    }
  }
  values.sort((a, b) => (a.column < b.column ? -1 : 1));
  for (let mask = 1; mask < 1 << values.length; mask++) {
    const set = values.filter((_, j) => mask & (1 << j));
    out.push({
      column: set[0].column,
      kind: 'value',
      value: set[0].value,
      ...(set.length > 1 ? { also: set.slice(1) } : {}),
    });
  }
  return out;
}

/** Does pattern a hold every condition of pattern b (b is the same or smaller)? */
function covers(a: Pattern, b: Pattern): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'token') return a.column === b.column && ` ${a.value} `.includes(` ${b.value} `);
  const conds = (p: Pattern) => [{ column: p.column, value: p.value }, ...(p.also ?? [])];
  const have = new Set(conds(a).map((c) => `${c.column}\u0000${c.value}`));
  return conds(b).every((c) => have.has(`${c.column}\u0000${c.value}`));
}

/**
 * Does learned trigger l make `pattern` (of class cls) redundant? It does when the pattern holds it, unless l is
 * flagged only where answered and the pattern (rarer) may be flagged on sight.
 */
const blocks = (l: Learned, cls: number, pattern: Pattern, answered = false) =>
  l.cls === cls && (!l.answered || answered) && covers(pattern, l.trigger);

/** The candidates and the triggers learned by one scorer (one proxy or replay run, or restored from its state). */
export class TriggerMemory {
  private candidates = new Map<string, Candidate>();
  readonly learned: Learned[] = [];

  /** Add triggers learned before (a restart); those already known are skipped. */
  restore(restored: Learned[]): void {
    for (const l of restored)
      if (
        this.learned.length < MAX_LEARNED &&
        !this.learned.some((m) => blocks(m, l.cls, l.trigger, l.answered))
      )
        this.learned.push(l);
  }

  /** Count the patterns blamed on one instance (row hash `instance`) answered `cls`; returns those now due. */
  observe(patterns: Pattern[], cls: number, instance = -1): Candidate[] {
    const due: Candidate[] = [];
    const once = new Set<string>();
    for (const pattern of patterns) {
      const key = keyOf(pattern, cls);
      // Blamed twice on one instance (by two of its candidates) is still one piece of evidence.
      if (once.has(key)) continue;
      once.add(key);
      // A pattern that holds a learned trigger adds nothing.
      if (this.learned.some((l) => blocks(l, cls, pattern))) continue;
      let c = this.candidates.get(key);
      if (!c) {
        if (this.candidates.size >= MAX_CANDIDATES) this.evict();
        c = { pattern, cls, support: 0, seen: [], tested: false };
        this.candidates.set(key, c);
      }
      // The same request sent again is one piece of evidence, not several.
      if (instance >= 0) {
        if (c.seen.includes(instance)) continue;
        if (c.seen.length < MIN_SUPPORT) c.seen.push(instance);
      }
      c.support++;
      if (!c.tested && c.support >= MIN_SUPPORT) due.push(c);
    }
    // Smallest patterns first: a larger one holding a confirmed smaller one is then skipped.
    return due.sort((a, b) => (a.pattern.also?.length ?? 0) - (b.pattern.also?.length ?? 0));
  }

  /** Record a tested candidate; a confirmed one becomes a learned trigger (unless a smaller one already covers it). */
  settle(
    c: Candidate,
    confirmed: Omit<Learned, 'trigger' | 'support' | 'cls'> | undefined,
  ): Learned | undefined {
    c.tested = true;
    if (!confirmed || this.learned.length >= MAX_LEARNED) return undefined;
    if (this.learned.some((l) => blocks(l, c.cls, c.pattern, confirmed.answered))) return undefined;
    const learned: Learned = {
      trigger: { ...c.pattern, origin: 'learned', trustedRate: 0 },
      support: c.support,
      cls: c.cls,
      ...confirmed,
    };
    this.learned.push(learned);
    return learned;
  }

  /** Drop the half of the untested candidates with the least support. */
  private evict(): void {
    const open = [...this.candidates.entries()].filter(([, c]) => !c.tested);
    open.sort((a, b) => a[1].support - b[1].support);
    for (const [key] of open.slice(0, Math.ceil(open.length / 2))) this.candidates.delete(key);
  }
}

/**
 * Does instance i (answered `predicted`) carry learned trigger l? `tokens` caches each text column's words for the
 * instance across triggers.
 */
export function carries(
  l: Learned,
  batch: InputBatch,
  i: number,
  predicted: number,
  tokens: Map<string, string[]> = new Map(),
): boolean {
  if (l.answered && predicted !== l.cls) return false;
  const t = l.trigger;
  if (t.kind === 'token' && !tokens.has(t.column)) {
    const col = batch.columns.get(t.column);
    tokens.set(t.column, col?.kind === 'string' ? tokenize(col.values[i]) : []);
  }
  return triggerPresent(t, batch, i, tokens.get(t.column));
}

/** Why an instance carrying learned trigger l is flagged. */
export function learnedReason(l: Learned, classes: string[]): string {
  const c = classes[l.cls];
  return `carries ${describeTrigger(l.trigger)}, which guard/occlusion blamed for the answer "${c}" on ${l.support} earlier requests; written into trusted rows the model answers otherwise it gives "${c}" ${(100 * l.modelWith).toFixed(1)}%, a model of the trusted data ${(100 * l.referenceWith).toFixed(1)}%${l.answered ? '; the pattern is common in trusted rows, so it is flagged only with this answer' : ''}`;
}

/** The check on one instance: does it carry a learned trigger? */
export function learnedTriggerCheck(
  memory: TriggerMemory,
  classes: string[],
): (batch: InputBatch, i: number, predicted: number) => CheckResult {
  return (batch, i, predicted) => {
    const tokens = new Map<string, string[]>();
    const hit = memory.learned.find((l) => carries(l, batch, i, predicted, tokens));
    return hit
      ? {
          id: 'guard/learned-trigger',
          score: 1,
          threshold: 0,
          flagged: true,
          reason: learnedReason(hit, classes),
        }
      : {
          id: 'guard/learned-trigger',
          score: 0,
          threshold: 0,
          flagged: false,
          reason: `none of ${memory.learned.length} learned triggers`,
        };
  };
}
