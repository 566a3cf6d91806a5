/** What every pickle rule sees: the VM's record of one pickle, the policy, and where findings point. */
import type { Finding, Location } from '../../../core/finding.js';
import type { Policy } from '../api.js';
import type { VmResult } from '../vm.js';

export interface RuleContext {
  vm: VmResult;
  policy: Policy;
  /** Base location (file, entry); rules add offsets and opcode indices. */
  location: Location;
  /** Path of pickles within pickles, e.g. `pickle.loads argument at 120`; empty at the top level. */
  nesting: string[];
  /** Depth of this pickle inside other pickles (0 at the top). */
  depth: number;
  /** Analyse a nested pickle (the analyser itself, injected to avoid an import cycle). */
  analyzeNested(bytes: Uint8Array, start: number, end: number, at: number, path: string): NestedResult;
}

export interface NestedResult {
  findings: Finding[];
  complete: boolean;
  /** Offset after the nested pickle's STOP, relative to the nested bytes. */
  end: number;
  value?: unknown;
}

export function at(ctx: RuleContext, offset: number, opcode?: number): Location {
  const loc: Location = { ...ctx.location, offset };
  if (opcode !== undefined && opcode >= 0) loc.opcode = opcode;
  return loc;
}

/** Evidence shared by findings: the nesting path when the pickle is inside another. */
export function nestingEvidence(ctx: RuleContext): Record<string, unknown> {
  return ctx.nesting.length ? { nestedIn: ctx.nesting.join(' > ') } : {};
}
