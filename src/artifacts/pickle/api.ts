/**
 * Contract of the pickle analyser (implemented in this folder). Everything that reads pickles (raw
 * pickle, PyTorch zip/legacy, TorchScript constants, joblib, numpy object arrays, convert) goes
 * through `analyzePickle`.
 *
 * Scanners that do not walk the symbolic value should pass `values: false` (lean mode: same findings, globals
 * and persistent ids, several times faster on large checkpoints). Extensions to the original contract are
 * all optional and marked "(Extension)" or listed under "Extensions" below.
 */
import type { Finding, Location } from '../../core/finding.js';

/** Allowlist-first policy: exact fully qualified names only (never module prefixes). */
export interface Policy {
  /** Names allowed (e.g. `torch._utils._rebuild_tensor_v2`, `collections.OrderedDict`). */
  allowed: ReadonlySet<string>;
  /** Names of the active profiles, for reports. */
  profiles: readonly string[];
}

/** A global name the pickle imports, and what it does with it. */
export interface GlobalRef {
  module: string;
  name: string;
  /** How the name was imported: GLOBAL, STACK_GLOBAL, INST, EXT1/EXT2/EXT4. */
  importedBy: string;
  /** How it was used: REDUCE (called), BUILD (state set), INST/OBJ/NEWOBJ/NEWOBJ_EX (instantiated), or none. */
  usedBy: string[];
  opcode: number;
  offset: number;
}

export interface PickleResult {
  /** Findings already judged against the policy: unsafe/unknown globals, malformed stream, limits, nested pickles. */
  findings: Finding[];
  /** True when the stream parsed cleanly to STOP with a single value on the stack. */
  complete: boolean;
  /** Offset just after STOP (or where parsing stopped). */
  end: number;
  /** Number of opcodes processed. */
  opcodes: number;
  /** Every global imported, deduplicated by name with all uses. */
  globals: GlobalRef[];
  /** Symbolic value of the pickle's result (no code executed); see value.ts. Absent when incomplete. */
  value?: import('./value.js').PyValue;
  /** Payloads of PERSID/BINPERSID (torch storages: ('storage', StorageType, key, location, numel)). */
  persistentIds: import('./value.js').PyValue[];
  /** (Extension) Highest protocol announced by a PROTO opcode (0 when none). */
  proto?: number;
}

export interface AnalyzeOptions {
  policy: Policy;
  /** Where findings point (file, entry). Offsets are filled in by the analyser. */
  location: Location;
  /** Offset of the first opcode inside `bytes`. Default 0. */
  start?: number;
  /** Depth of pickles within pickles (bytes later handed to a loader). */
  depth?: number;
  // Extensions (compatible: all optional).
  /** Offset where the analysed bytes end (exclusive). Default: the end of `bytes`. */
  end?: number;
  /**
   * Called after each BUILD applied to an object the pickle created; lets a format skip bytes its loader reads
   * inline (joblib's numpy arrays) and replace the built object. See vm.ts `BuildHook`.
   */
  onBuild?: import('./vm.js').BuildHook;
  /** Override limits (tests, nested analyses); defaults are LIMITS.pickle. */
  limits?: { [K in keyof typeof import('../../core/limits.js').LIMITS.pickle]?: number };
  /** Path of enclosing pickles, for findings of nested pickles. */
  nesting?: string[];
  /**
   * `false` = lean mode for scanning: the same findings, globals and persistent ids, about ten times less
   * allocation on large checkpoints, but `value` is built from shared placeholders (not walkable). Default
   * `true`: full symbolic values (convert, joblib).
   */
  values?: boolean;
}

// The analyser's entry points, re-exported so callers need only this module.
export { analyzePickle } from './analyze.js';
export { defaultPolicy, loadPolicy } from './policy.js';
export { pickleRules } from './rules/index.js';
export type { PyValue } from './value.js';
