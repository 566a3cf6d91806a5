/**
 * analyzePickle: run the symbolic VM over one pickle, then judge what it recorded with the pickle rules
 * (rules/index.ts) against the policy. Never throws and never hangs: any unexpected error becomes a blocking
 * `pickle/malformed` finding.
 */

import { pushAll } from '../../core/arrays.js';
import type { Finding } from '../../core/finding.js';
import type { AnalyzeOptions, GlobalRef, PickleResult, Policy } from './api.js';
import { argCheckFor } from './arg-rules.js';
import { LOADERS } from './loaders.js';
import type { NestedResult, RuleContext } from './rules/context.js';
import { usesOf } from './rules/describe.js';
import { PICKLE_RULES } from './rules/index.js';
import * as malformed from './rules/malformed.js';
import { type BuildHook, runVm, type VmResult } from './vm.js';

export function analyzePickle(bytes: Uint8Array, opts: AnalyzeOptions): PickleResult {
  const start = opts.start ?? 0;
  try {
    return analyzeInner(bytes, opts, start, opts.nesting ?? []);
  } catch (err) {
    return {
      findings: [
        {
          rule: malformed.meta.id,
          severity: 'high',
          message: `The pickle cannot be analysed: internal error (${(err as Error)?.message ?? String(err)}).`,
          location: { ...opts.location, offset: start },
          atlas: malformed.meta.atlas,
        },
      ],
      complete: false,
      end: start,
      opcodes: 0,
      globals: [],
      persistentIds: [],
    };
  }
}

function analyzeInner(
  bytes: Uint8Array,
  opts: AnalyzeOptions,
  start: number,
  nesting: string[],
): PickleResult {
  const vm = runVm(bytes, {
    start,
    end: opts.end,
    limits: opts.limits,
    onBuild: opts.onBuild as BuildHook | undefined,
    // A BUILD hook needs the objects it inspects: lean mode only without one.
    lean: opts.values === false && !opts.onBuild ? leanPredicate(opts.policy) : undefined,
  });
  const depth = opts.depth ?? 0;
  const ctx: RuleContext = {
    vm,
    policy: opts.policy,
    location: opts.location,
    nesting,
    depth,
    analyzeNested(inner, s, e, at, path) {
      const r = analyzeInner(inner, { ...opts, start: s, end: e, depth: depth + 1, onBuild: undefined }, s, [
        ...nesting,
        path,
      ]);
      const out: NestedResult = {
        findings: r.findings.map((f) => rebase(f, at)),
        complete: r.complete,
        end: r.end,
      };
      if (r.value !== undefined) out.value = r.value;
      return out;
    },
  };
  const findings: Finding[] = [];
  for (const rule of PICKLE_RULES) pushAll(findings, rule.check(ctx));
  pushAll(findings, vm.hookFindings);
  return toResult(vm, findings);
}

/**
 * Lean mode may share one placeholder for calls to a name only when no rule looks at those calls: the name is
 * allowed, has no argument check, and loads nothing.
 */
function leanPredicate(policy: Policy): (q: string) => boolean {
  const cache = new Map<string, boolean>();
  return (q) => {
    let v = cache.get(q);
    if (v === undefined) {
      v = policy.allowed.has(q) && argCheckFor(q) === undefined && !LOADERS.has(q);
      cache.set(q, v);
    }
    return v;
  };
}

/** Offsets inside a nested buffer are reported relative to where the nested bytes start in the file. */
function rebase(f: Finding, base: number): Finding {
  if (!f.location || f.location.offset === undefined || (f.evidence && 'rebased' in f.evidence)) return f;
  return { ...f, location: { ...f.location, offset: base + f.location.offset } };
}

function toResult(vm: VmResult, findings: Finding[]): PickleResult {
  const globals: GlobalRef[] = [];
  for (const g of vm.globals.values()) {
    globals.push({
      module: g.global.module,
      name: g.global.name,
      importedBy: g.importedBy,
      usedBy: usesOf(g),
      opcode: g.opcode,
      offset: g.offset,
    });
  }
  const r: PickleResult = {
    findings,
    complete: vm.complete,
    end: vm.end,
    opcodes: vm.opcodes,
    globals,
    persistentIds: vm.persistentIds,
    proto: vm.proto,
  };
  if (vm.value !== undefined) r.value = vm.value;
  return r;
}
