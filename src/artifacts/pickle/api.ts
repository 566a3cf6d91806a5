/**
 * Contract of the pickle analyser (implemented in this folder). Everything that reads pickles (raw
 * pickle, PyTorch zip/legacy, TorchScript constants, joblib, numpy object arrays, convert) goes
 * through `analyzePickle`.
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
  value?: unknown;
  /** Payloads of PERSID/BINPERSID (torch storages: ('storage', StorageType, key, location, numel)). */
  persistentIds: unknown[];
}

export interface AnalyzeOptions {
  policy: Policy;
  /** Where findings point (file, entry). Offsets are filled in by the analyser. */
  location: Location;
  /** Offset of the first opcode inside `bytes`. Default 0. */
  start?: number;
  /** Depth of pickles within pickles (bytes later handed to a loader). */
  depth?: number;
}
