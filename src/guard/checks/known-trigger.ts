/**
 * guard/known-trigger: the instance carries a trigger an audit or a gate report named. Exact and cheap, so
 * it runs on every instance; a trigger that already occurs in trusted rows more often than the false-alarm
 * rate was disabled at fit time (it would flag ordinary traffic) and is listed as such in the profile.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';
import type { InputBatch } from '../../gate/models/types.js';
import type { PatternItem } from '../../gate/probes.js';
import { tokenize } from '../../gate/table.js';
import type { GuardProfile, KnownTrigger } from '../profile.js';
import { triggerPresent } from '../triggers.js';
import type { CheckResult } from '../types.js';

export const meta: RuleMeta = {
  id: 'guard/known-trigger',
  title: 'Instance carries a known backdoor trigger',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'A trigger found in poisoned training data (audit) or confirmed by probing the model (gate) is the key to the backdoor; an instance that carries it in production is, at best, someone testing the door and, at worst, the attack.',
};

/** A condition as the audit names it: `col = v`, or a numeric bin `col in [lo, hi)` / `col >= lo`. */
function describeItem(a: PatternItem): string {
  if (!a.bin) return `${a.column} = ${a.value}`;
  return a.bin.hi === undefined ? `${a.column} >= ${a.bin.lo}` : `${a.column} in [${a.bin.lo}, ${a.bin.hi})`;
}

export function describeTrigger(t: KnownTrigger): string {
  const head = t.kind === 'token' ? `"${t.value}" in ${t.column}` : describeItem(t);
  return [head, ...(t.also ?? []).map(describeItem)].join(' & ');
}

export function knownTriggerCheck(profile: GuardProfile): (batch: InputBatch, i: number) => CheckResult {
  const active = profile.triggers.filter((t) => !t.disabled);
  const textCols = [...new Set(active.filter((t) => t.kind === 'token').map((t) => t.column))];
  return (batch, i) => {
    const tokens = new Map<string, string[]>();
    for (const c of textCols) {
      const col = batch.columns.get(c);
      if (col?.kind === 'string') tokens.set(c, tokenize(col.values[i]));
    }
    const hit = active.find((t) => triggerPresent(t, batch, i, tokens.get(t.column)));
    return hit
      ? {
          id: 'guard/known-trigger',
          score: 1,
          threshold: 0,
          flagged: true,
          reason: `carries the known trigger ${describeTrigger(hit)} (from the ${hit.origin} report${hit.target ? `, pushes toward "${hit.target}"` : ''})`,
        }
      : {
          id: 'guard/known-trigger',
          score: 0,
          threshold: 0,
          flagged: false,
          reason: `none of ${active.length} known triggers`,
        };
  };
}
