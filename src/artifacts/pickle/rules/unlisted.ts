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
  const allowed = ctx.policy.allowed;
  for (const g of ctx.vm.globals.values()) {
    if (g.global.ext !== undefined || allowed.has(g.global.qualified)) continue;
    if (constantAttributeAllowed(ctx, g)) continue;
    const raw = rawSpelling(g);
    const danger = raw ? dangerOf(g.global.qualified, raw) : dangerOf(g.global.qualified);
    out.push({ g, raw, danger });
  }
  return out;
}

/**
 * Constant attribute lookups (`getattr(Owner, "NAME")`, Python 3.11's enum members): an attribute of an
 * allowed owner that the pickle only holds (never calls, instantiates or builds) is as safe as the owner; one
 * that is called must be allowed by its own full name. builtins.getattr itself is then not reported when all
 * its calls were such lookups on allowed owners; any other use of it is.
 */
function constantAttributeAllowed(ctx: RuleContext, g: GlobalUse): boolean {
  const allowed = ctx.policy.allowed;
  if (g.attributeOf !== undefined) return g.uses === 0 && allowed.has(g.attributeOf);
  if (g.global.qualified !== 'builtins.getattr' || !g.constantLookups || g.uses !== 0) return false;
  for (const other of ctx.vm.globals.values()) {
    if (
      other.attributeOf !== undefined &&
      !(allowed.has(other.global.qualified) || (other.uses === 0 && allowed.has(other.attributeOf)))
    )
      return false;
  }
  return true;
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
