/**
 * The gate's slices as machine-readable rules, so a profile can hold per-slice output distributions and the
 * proxy can tell which slices a live instance belongs to. Slices come from the gate's own predicate builder
 * (src/gate/predicates.ts: `col = value`, quantile bins `a <= col < b`, `col contains "token"`); each
 * predicate's text is turned back into a rule here, and membership is always decided by sliceMatches, the
 * same function at fit time and at run time.
 */
import type { InputBatch } from '../gate/models/types.js';
import { columnPredicates } from '../gate/predicates.js';
import { type GateTable, tokenize } from '../gate/table.js';
import type { SliceRule } from './profile.js';

export interface NamedSlice {
  text: string;
  rule: SliceRule;
}

/** Parse a gate predicate's text back into a rule (undefined for a form this module does not know). */
export function ruleOf(column: string, text: string): SliceRule | undefined {
  const rest = text.slice(column.length);
  if (rest === ' is missing') return { op: 'missing', column };
  let m = /^ contains "(.*)"$/.exec(rest);
  if (m) return { op: 'contains', column, token: m[1] };
  m = /^ = (.*)$/.exec(rest);
  if (m) return { op: 'eq', column, value: m[1] };
  m = /^ < (\S+)$/.exec(rest);
  if (m) return range(column, null, m[1]);
  m = /^ >= (\S+)$/.exec(rest);
  if (m) return range(column, m[1], null);
  m = /^ in \[(\S+), (\S+)\)$/.exec(rest);
  if (m) return range(column, m[1], m[2]);
  return undefined;
}

/** A range rule; an infinite bound is no bound, and a range with no bound at all (the whole column) is no slice. */
function range(column: string, lo: string | null, hi: string | null): SliceRule | undefined {
  const bound = (x: string | null) => {
    const v = x === null ? Number.NaN : Number(x);
    return Number.isFinite(v) ? v : null;
  };
  const l = bound(lo);
  const h = bound(hi);
  if (l === null && h === null) return undefined;
  return { op: 'range', column, lo: l, hi: h };
}

/** Slices of the given columns on a table, as the gate builds them (values, quantile bins, tokens). */
export function slicesOf(t: GateTable, columns: string[], minSize: number): NamedSlice[] {
  const out: NamedSlice[] = [];
  for (const c of columns)
    for (const p of columnPredicates(t, c, { minSize, maxValues: 12, maxTokens: 20, bins: 5 })) {
      const rule = ruleOf(c, p.text);
      if (rule) out.push({ text: p.text, rule });
    }
  return out;
}

/** Does row `i` of the batch belong to the slice? A missing column never matches. */
export function sliceMatches(rule: SliceRule, batch: InputBatch, i: number): boolean {
  const col = batch.columns.get(rule.column);
  if (!col) return false;
  switch (rule.op) {
    case 'missing':
      return col.kind === 'number' ? Number.isNaN(col.values[i]) : col.values[i].trim() === '';
    case 'eq':
      return col.kind === 'number'
        ? !Number.isNaN(col.values[i]) && String(col.values[i]) === rule.value
        : col.values[i].trim() === rule.value;
    case 'range': {
      if (col.kind !== 'number') return false;
      const v = col.values[i];
      if (Number.isNaN(v)) return false;
      return (rule.lo === null || v >= rule.lo) && (rule.hi === null || v < rule.hi);
    }
    case 'contains':
      return col.kind === 'string' && tokenize(col.values[i]).includes(rule.token);
  }
}
