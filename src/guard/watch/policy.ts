/**
 * What the guard does with each kind of finding: `log` (findings file and metrics only), `flag` (also an
 * `x-antidote-guard` header and an `antidote_guard` field in the JSON answer), `block` (HTTP 403 with the
 * reasons instead of the model's answer). The default is `flag` for every check: nothing a user relies on is
 * refused by surprise, and nothing is passed on without the caller being told.
 */
import { usageError } from '../../core/errors.js';

export const ACTIONS = ['log', 'flag', 'block'] as const;
export type Action = (typeof ACTIONS)[number];

export const INSTANCE_CHECKS = [
  'guard/known-trigger',
  'guard/activation',
  'guard/strip',
  'guard/occlusion',
  'guard/learned-trigger',
] as const;
export const WINDOW_CHECKS = ['guard/output-shift', 'guard/class-burst'] as const;
export const ALL_CHECKS = [...INSTANCE_CHECKS, ...WINDOW_CHECKS] as const;

export type Policy = Record<string, Action>;

export function defaultPolicy(): Policy {
  return Object.fromEntries(ALL_CHECKS.map((c) => [c, 'flag'])) as Policy;
}

/** Parse `--policy CHECK=ACTION` items (CHECK with or without `guard/`, or `all`). */
export function parsePolicy(items: string[]): Policy {
  const p = defaultPolicy();
  for (const item of items) {
    const m = /^([a-z/-]+)=([a-z]+)$/.exec(item.trim());
    const names = ALL_CHECKS.map((c) => c.slice('guard/'.length)).join(', ');
    if (!m)
      throw usageError(
        `--policy "${item}" is not CHECK=ACTION`,
        `e.g. --policy known-trigger=block; checks: ${names}, all`,
      );
    const action = m[2] as Action;
    if (!(ACTIONS as readonly string[]).includes(action))
      throw usageError(`--policy "${item}": action must be log, flag or block`);
    const check = m[1] === 'all' ? 'all' : m[1].startsWith('guard/') ? m[1] : `guard/${m[1]}`;
    if (check === 'all') for (const c of ALL_CHECKS) p[c] = action;
    else if ((ALL_CHECKS as readonly string[]).includes(check)) p[check] = action;
    else throw usageError(`--policy "${item}": unknown check "${m[1]}"`, `checks are: ${names}, all`);
  }
  return p;
}

export const rank = (a: Action): number => ACTIONS.indexOf(a);
