/**
 * The imported names the active allowlist does not list, each with its denylist verdict: shared by the
 * two rules that report them (critical when known to be dangerous, high otherwise), so both always judge
 * the same set of names the same way.
 */
import { type DangerReason, dangerOf } from '../denylist.js';
import type { GlobalUse } from '../vm.js';
import { nestingEvidence, type RuleContext } from './context.js';
import { rawSpelling, usesOf } from './describe.js';

export interface Unlisted {
  g: GlobalUse;
  /** How the stream spelled the name, when that differs from the resolved name. */
  raw?: string;
  danger?: DangerReason;
}

export function unlistedGlobals(ctx: RuleContext): Unlisted[] {
  const out: Unlisted[] = [];
  for (const g of ctx.vm.globals.values()) {
    if (g.global.ext !== undefined || ctx.policy.allowed.has(g.global.qualified)) continue;
    const raw = rawSpelling(g);
    const danger = raw ? dangerOf(g.global.qualified, raw) : dangerOf(g.global.qualified);
    out.push({ g, raw, danger });
  }
  return out;
}

/** The evidence both rules attach: the name, its spelling, how it was imported and used. */
export function globalEvidence(ctx: RuleContext, u: Unlisted): Record<string, unknown> {
  return {
    name: u.g.global.qualified,
    ...(u.raw ? { writtenAs: u.raw } : {}),
    importedBy: u.g.importedBy,
    usedBy: usesOf(u.g),
    ...(u.danger ? { deniedBy: u.danger.entry } : {}),
    ...nestingEvidence(ctx),
  };
}
