/**
 * A symbolic pickle VM that follows CPython's C unpickler (Modules/_pickle.c `load()`), not pickletools.
 *
 * Why hand-written: no JavaScript library unpickles symbolically with CPython's exact stack/mark/memo rules,
 * and a scanner that parses differently from the loader can be bypassed. Faithful points:
 * - the mark stack with its fence: nothing below the innermost MARK can be popped ("unpickling stack
 *   underflow"); POP right after MARK removes the mark; APPENDS/SETITEMS/ADDITEMS check `x <= fence`;
 * - MEMOIZE stores at the memo's current *count* of entries (not the highest index); PUT/GET use the number
 *   from the line; a missing memo key is an error;
 * - GLOBAL/INST names are UTF-8; STACK_GLOBAL requires two `str` operands (from any string opcode or the memo);
 * - find_class: Python 2 names are mapped to Python 3 (fix_imports) while the protocol (set by the latest PROTO
 *   opcode, 0 before any) is below 3; a dotted name is an attribute chain (we treat it as one in every protocol:
 *   newer CPython does, and it is the conservative reading);
 * - REDUCE calls `callable(*args)`; INST/OBJ instantiate; NEWOBJ/NEWOBJ_EX need a tuple of args (and a dict of
 *   kwargs); BUILD calls `__setstate__` or updates `__dict__`; APPEND(S)/SETITEM(S)/ADDITEMS on a non-builtin
 *   object call its `extend`/`append`/`__setitem__`/`add` methods;
 * - EXT codes go through copyreg's registry (empty by default): the VM resolves them to an opaque global;
 * - PERSID/BINPERSID hand the id to the loader's persistent_load (torch storages); the id is recorded;
 * - NEXT_BUFFER fails (no loader passes out-of-band buffers); FRAME only requires its bytes to be present;
 * - STOP pops the top of the stack (underflow if empty above the fence); bytes after STOP are not read.
 * Nothing is executed: calls become `PyCall` nodes (value.ts). Errors end the run with a reason; the VM never
 * throws to its caller and every loop is bounded by the input size and the limits.
 *
 * Lean mode (`lean`, used by scanners) runs the same opcode semantics but shares placeholders for the parts of
 * the value no rule reads; test/artifacts/pickle/lean.test.ts checks that both modes report the same.
 */
import { LIMITS } from '../../core/limits.js';
import { IMPORT_MAPPING_2TO3, NAME_MAPPING_2TO3 } from './compat-names.js';
import { HIGHEST_PROTOCOL, opName } from './opcodes.js';
import {
  decodeLong,
  escapeDecode,
  latin1String,
  parseFloatLiteral,
  parseIntLiteral,
  parseIntOpcode,
  rawUnicodeEscapeDecode,
  utf8Decode,
} from './text.js';
import type { CallVia, PyBytes, PyCall, PyDict, PyGlobal, PyPersistent, PySeq, PyValue } from './value.js';

/** Ways a global can be used; bit flags in `GlobalUse.uses`. */
export const USE = {
  REDUCE: 1,
  BUILD: 2,
  INST: 4,
  OBJ: 8,
  NEWOBJ: 16,
  NEWOBJ_EX: 32,
  /** The imported object itself is mutated (BUILD/APPEND/SETITEM/ADDITEMS applied to it). */
  MUTATE: 64,
} as const;

export const USE_NAMES: ReadonlyArray<[number, string]> = Object.entries(USE).map(([k, v]) => [v, k]);

export interface GlobalUse {
  global: PyGlobal;
  /** Names as written in the pickle, before fix_imports. */
  rawModule: string;
  rawName: string;
  importedBy: 'GLOBAL' | 'STACK_GLOBAL' | 'INST' | 'EXT1' | 'EXT2' | 'EXT4' | 'GETATTR';
  /**
   * For a name reached as `getattr(Owner, "attr")` with a constant attribute name: the owner's qualified
   * name. On `builtins.getattr` itself: how many of its calls were such constant lookups.
   */
  attributeOf?: string;
  constantLookups?: number;
  opcode: number;
  offset: number;
  /** Opcode index of the first import. */
  index: number;
  uses: number;
}

/** An operation applied to an object imported by name (monkey-patching a module, class or function). */
export interface Mutation {
  target: PyGlobal;
  op: string;
  offset: number;
  index: number;
}

export interface VmError {
  kind: 'malformed' | 'limit';
  message: string;
  offset: number;
  index: number;
  opcode?: string;
}

/** What joblib (or another format) does after a BUILD: skip inline bytes, replace the built object. */
export interface BuildHookResult {
  /** Offset where unpickling resumes. */
  next: number;
  /** Replaces the object on top of the stack. */
  value?: PyValue;
  /** Reported as is (e.g. findings of a nested pickle). */
  findings?: import('../../core/finding.js').Finding[];
  /** Stop with a malformed-stream error. */
  error?: string;
}

export type BuildHook = (obj: PyCall, next: number, bytes: Uint8Array) => BuildHookResult | undefined;

export interface VmOptions {
  start?: number;
  /** Exclusive end of the analysed bytes (default: the end of `bytes`). */
  end?: number;
  limits?: { [K in keyof typeof LIMITS.pickle]?: number };
  onBuild?: BuildHook;
  /**
   * Lean mode (for scanning): calls to names this predicate accepts become one shared placeholder per name, and
   * containers whose contents no rule reads (lists, dicts, sets, tuples of numbers/placeholders) become shared
   * placeholders. Imports, uses, mutations, errors and everything the rules inspect are unchanged; the value is
   * not walkable. About ten times less allocation on large checkpoints.
   */
  lean?: (qualified: string) => boolean;
}

export interface VmResult {
  complete: boolean;
  /** Offset after STOP, or where the run stopped. */
  end: number;
  opcodes: number;
  value?: PyValue;
  error?: VmError;
  /** Keyed by qualified name. */
  globals: Map<string, GlobalUse>;
  calls: PyCall[];
  mutations: Mutation[];
  persistentIds: PyValue[];
  /** bytes values that start like a pickle (PROTO 2..5) and may be handed to a loader later. */
  pickleLike: PyBytes[];
  /** Highest protocol announced by PROTO (0 when none). */
  proto: number;
  /** Findings produced by the BUILD hook. */
  hookFindings: import('../../core/finding.js').Finding[];
  /** Values left on the stack under the result (CPython ignores them). */
  leftover: number;
}

// ---------------------------------------------------------------------------------------------------------
// Implementation. Written for speed (a 20,000-tensor checkpoint is ~640k opcodes): one loop with the read
// position and the fence in local variables, inline bounds checks, and module-level helpers that never
// capture the loop's state. Errors are thrown as `Stop` and turned into a VmError at the end.

// ---------------------------------------------------------------------------------------------------------
// Implementation, written for speed (a 20,000-tensor checkpoint is ~640k opcodes and `antidote scan` runs it
// once, cold): the hot loop keeps the read position and the fence in local variables and handles only the
// opcodes real checkpoints are made of; everything else goes through `rareOp`. Every node type is created by
// one factory with all its fields, so object shapes never change and the JIT does not deoptimise mid-run.
// Errors are thrown as `Stop` and turned into a VmError at the end.

class Stop extends Error {
  constructor(
    readonly kind: 'malformed' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

function truncated(): never {
  throw new Stop('malformed', 'pickle data was truncated');
}
function fail(msg: string): never {
  throw new Stop('malformed', msg);
}
function underflow(): never {
  throw new Stop('malformed', 'unpickling stack underflow');
}
function tooDeep(max: number): never {
  throw new Stop('limit', `values nested deeper than ${max} levels`);
}

type WithDepth = { depth?: number };

/** Nesting depth of a symbolic value (containers and calls carry it; scalars are 0). */
function depthOf(v: PyValue): number {
  if (typeof v !== 'object' || v === null) return 0;
  const d = (v as WithDepth).depth;
  return d === undefined ? 0 : d;
}

function kindOf(v: PyValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'number':
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    default:
      return (v as { kind: string }).kind;
  }
}

/** A value known not to be a tuple at run time (calls and persistent objects might be one). */
function notTuple(v: PyValue): boolean {
  if (typeof v !== 'object' || v === null) return true;
  const k = (v as { kind: string }).kind;
  return k !== 'tuple' && k !== 'call' && k !== 'persistent';
}

/** A value that is certainly not callable / not a type. */
function notCallable(v: PyValue): boolean {
  if (typeof v !== 'object' || v === null) return true;
  const k = (v as { kind: string }).kind;
  return k !== 'global' && k !== 'call' && k !== 'persistent';
}

function checkHashable(v: PyValue): void {
  if (typeof v === 'object' && v !== null) {
    const k = (v as { kind: string }).kind;
    if (k === 'list' || k === 'dict' || k === 'set' || k === 'bytearray') fail(`unhashable type: '${k}'`);
  }
}

// ---- node factories (one shape per node type) ----

function newSeq(kind: PySeq['kind'], items: PyValue[], maxNesting: number): PySeq {
  let d = 0;
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (typeof v === 'object' && v !== null) {
      const dv = (v as WithDepth).depth;
      if (dv !== undefined && dv > d) d = dv;
    }
  }
  if (d >= maxNesting) tooDeep(maxNesting);
  return { kind, items, depth: d + 1 };
}

function newDict(): PyDict {
  return { kind: 'dict', keys: [], values: [], depth: 1 };
}

function newCall(
  fn: PyValue,
  args: PyValue,
  via: CallVia,
  offset: number,
  kwargs: PyValue | undefined,
  maxN: number,
): PyCall {
  let d = depthOf(args);
  if (kwargs !== undefined) d = Math.max(d, depthOf(kwargs));
  if (d >= maxN) tooDeep(maxN);
  return {
    kind: 'call',
    fn,
    args,
    via,
    offset,
    depth: d + 1,
    kwargs,
    state: undefined,
    items: undefined,
    setKeys: undefined,
    setValues: undefined,
  };
}

function newPersistent(pid: PyValue, offset: number): PyPersistent {
  return {
    kind: 'persistent',
    pid,
    offset,
    depth: depthOf(pid) + 1,
    state: undefined,
    items: undefined,
    setKeys: undefined,
    setValues: undefined,
  };
}

/** Record that `container` now holds `item` (depth bookkeeping for the nesting limit). */
function grow(container: PyValue, item: PyValue, maxNesting: number): void {
  if (typeof item !== 'object' || item === null) return;
  const d = depthOf(item) + 1;
  const c = container as WithDepth;
  if (d > (c.depth ?? 0)) {
    if (d > maxNesting) tooDeep(maxNesting);
    c.depth = d;
  }
}

/** Drop stack[n:]; pops are inlined by the JIT where setting `length` is a runtime call. */
function truncate(stack: PyValue[], n: number): void {
  while (stack.length > n) stack.pop();
}

/** stack[from:] as a new array (of exactly its length: tuples of a checkpoint are kept), removed from the stack. */
function popFrom(stack: PyValue[], from: number): PyValue[] {
  const items = stack.slice(from);
  truncate(stack, from);
  return items;
}

function isGlobalRef(v: PyValue): v is PyGlobal {
  return typeof v === 'object' && v !== null && (v as PyGlobal).kind === 'global';
}

const EMPTY_TUPLE: PySeq = Object.freeze({
  kind: 'tuple',
  items: Object.freeze([]) as unknown as PyValue[],
  depth: 1,
} as PySeq);

// ---- lean mode: shared placeholders (depth 0; a lean call has offset -1) ----

const frozenEmpty = Object.freeze([]) as unknown as PyValue[];
const SEQ_PLACEHOLDER: Record<PySeq['kind'], PySeq> = {
  tuple: Object.freeze({ kind: 'tuple', items: frozenEmpty, depth: 0 }) as PySeq,
  list: Object.freeze({ kind: 'list', items: frozenEmpty, depth: 0 }) as PySeq,
  set: Object.freeze({ kind: 'set', items: frozenEmpty, depth: 0 }) as PySeq,
  frozenset: Object.freeze({ kind: 'frozenset', items: frozenEmpty, depth: 0 }) as PySeq,
};
const DICT_PLACEHOLDER = Object.freeze({
  kind: 'dict',
  keys: frozenEmpty,
  values: frozenEmpty,
  depth: 0,
}) as PyDict;
const PERSISTENT_PLACEHOLDER = Object.freeze({ ...newPersistent(null, -1), depth: 0 }) as PyPersistent;

/** A shared placeholder (lean mode): never mutated, contents not recorded. */
function isPlaceholder(v: PyValue): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const k = (v as { kind: string }).kind;
  if (k === 'call') return (v as PyCall).offset === -1;
  return (v as WithDepth).depth === 0;
}

/** Could a rule need this value (inside call arguments)? Strings, bytes, names and real calls/containers. */
function mattersToRules(v: PyValue): boolean {
  if (typeof v === 'string') return true;
  if (typeof v !== 'object' || v === null) return false;
  switch ((v as { kind: string }).kind) {
    case 'bytes':
    case 'bytearray':
    case 'global':
      return true;
    case 'call':
      return (v as PyCall).offset !== -1;
    case 'tuple':
      return (v as PySeq).depth !== 0 && (v as PySeq).items.length > 0;
    default:
      return false;
  }
}

/** State shared with the helpers; the hot loop keeps its own locals and syncs op/opStart/ops before calls. */
interface State {
  globals: Map<string, GlobalUse>;
  mutations: Mutation[];
  calls: PyCall[];
  persistentIds: PyValue[];
  pickleLike: PyBytes[];
  hookFindings: import('../../core/finding.js').Finding[];
  onBuild?: BuildHook;
  lean?: (qualified: string) => boolean;
  leanNodes: Map<string, PyCall>;
  proto: number;
  maxProto: number;
  op: number;
  opStart: number;
  ops: number;
  maxN: number;
}

function mkSeq(st: State, kind: PySeq['kind'], items: PyValue[]): PySeq {
  if (st.lean) {
    if (kind !== 'tuple') return SEQ_PLACEHOLDER[kind];
    let keep = false;
    for (let i = 0; i < items.length; i++) {
      if (mattersToRules(items[i])) {
        keep = true;
        break;
      }
    }
    if (!keep) return SEQ_PLACEHOLDER.tuple;
  }
  return newSeq(kind, items, st.maxN);
}

/**
 * mkSeq over stack[from:], popped: in lean mode a placeholder is pushed without first copying the items
 * into an array that would be dropped (most tuples of a checkpoint: sizes, strides, call arguments).
 */
function seqFromStack(st: State, kind: PySeq['kind'], stack: PyValue[], from: number): PySeq {
  if (st.lean) {
    if (kind !== 'tuple') {
      truncate(stack, from);
      return SEQ_PLACEHOLDER[kind];
    }
    let keep = false;
    for (let i = from; i < stack.length; i++) {
      if (mattersToRules(stack[i])) {
        keep = true;
        break;
      }
    }
    if (!keep) {
      truncate(stack, from);
      return SEQ_PLACEHOLDER.tuple;
    }
  }
  return newSeq(kind, popFrom(stack, from), st.maxN);
}

function mkDict(st: State): PyDict {
  return st.lean ? DICT_PLACEHOLDER : newDict();
}

/**
 * What persistent_load returns. torch's loaders resolve `('module', cls, file, source)` to `cls` itself (legacy
 * full-model saves instantiate it with NEWOBJ); `cls` is an imported name the policy judges like any other.
 * Anything else (torch storages) becomes an opaque persistent object.
 */
function mkPersistent(st: State, pid: PyValue, offset: number): PyValue {
  st.persistentIds.push(pid);
  if (typeof pid === 'object' && pid !== null && (pid as PySeq).kind === 'tuple') {
    const items = (pid as PySeq).items;
    if (items.length >= 2 && items[0] === 'module' && isGlobalRef(items[1])) return items[1];
  }
  return st.lean ? PERSISTENT_PLACEHOLDER : newPersistent(pid, offset);
}

/** A call node; in lean mode one shared node per allowed plain name (no arguments kept, not listed in calls). */
function mkCall(
  st: State,
  fn: PyValue,
  args: PyValue,
  via: CallVia,
  offset: number,
  kwargs: PyValue | undefined,
): PyCall {
  // Only a call whose arguments hold nothing a rule could read (a placeholder or empty tuple) may be shared:
  // an allowed function can pass an argument through (numpy's scalar() returns an object argument), so a
  // payload inside the arguments must stay visible to the nested-pickle rule.
  const plainArgs = args === SEQ_PLACEHOLDER.tuple || args === EMPTY_TUPLE;
  if (st.lean && plainArgs && kwargs === undefined && isGlobalRef(fn) && st.lean(fn.qualified)) {
    let c = st.leanNodes.get(fn.qualified);
    if (!c) {
      c = newCall(fn, SEQ_PLACEHOLDER.tuple, via, -1, undefined, st.maxN);
      st.leanNodes.set(fn.qualified, c);
    }
    return c;
  }
  const c = newCall(fn, args, via, offset, kwargs, st.maxN);
  st.calls.push(c);
  return c;
}

/** find_class: fix_imports mapping for protocols < 3, then one interned PyGlobal per resolved name. */
function findClass(
  st: State,
  rawModule: string,
  rawName: string,
  by: GlobalUse['importedBy'],
  ext?: number,
): PyGlobal {
  let module = rawModule;
  let name = rawName;
  if (st.proto < 3 && ext === undefined) {
    const mapped = NAME_MAPPING_2TO3[`${module}\n${name}`];
    if (mapped) {
      module = mapped[0];
      name = mapped[1];
    } else {
      const m = IMPORT_MAPPING_2TO3[module];
      if (m) module = m;
    }
  }
  const key = ext === undefined ? `${module}.${name}` : `<ext ${ext}>`;
  let g = st.globals.get(key);
  if (!g) {
    const glob: PyGlobal = { kind: 'global', module, name, qualified: key, ext };
    g = {
      global: glob,
      rawModule,
      rawName,
      importedBy: by,
      opcode: st.op,
      offset: st.opStart,
      index: st.ops - 1,
      uses: 0,
    };
    st.globals.set(key, g);
  }
  return g.global;
}

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * `getattr(Owner, "NAME")` with an imported owner and a constant, public attribute name (how Python 3.11+
 * pickles enum members) resolves to the name `Owner.NAME`, recorded like an import so the rules judge it
 * by the allowlist; anything else stays a call of builtins.getattr. Returns undefined when not that shape.
 */
function constantGetattr(st: State, fn: PyGlobal, args: PySeq): PyGlobal | undefined {
  if (fn.qualified !== 'builtins.getattr' || fn.ext !== undefined) return undefined;
  if (args.kind !== 'tuple' || args.items.length !== 2) return undefined;
  const [owner, attr] = args.items;
  if (
    !isGlobalRef(owner) ||
    owner.ext !== undefined ||
    typeof attr !== 'string' ||
    !ATTRIBUTE_NAME.test(attr)
  )
    return undefined;
  const g = st.globals.get(fn.qualified);
  if (g) g.constantLookups = (g.constantLookups ?? 0) + 1;
  const key = `${owner.qualified}.${attr}`;
  let a = st.globals.get(key);
  if (!a) {
    const glob: PyGlobal = {
      kind: 'global',
      module: owner.module,
      name: `${owner.name}.${attr}`,
      qualified: key,
    };
    a = {
      global: glob,
      rawModule: owner.module,
      rawName: `${owner.name}.${attr}`,
      importedBy: 'GETATTR',
      attributeOf: owner.qualified,
      opcode: st.op,
      offset: st.opStart,
      index: st.ops - 1,
      uses: 0,
    };
    st.globals.set(key, a);
  }
  return a.global;
}

function use(st: State, fn: PyValue, bit: number): void {
  if (isGlobalRef(fn)) {
    const g = st.globals.get(fn.qualified);
    if (g) g.uses |= bit;
  }
}

function mutate(st: State, target: PyGlobal, what: string): void {
  use(st, target, USE.MUTATE);
  st.mutations.push({ target, op: what, offset: st.opStart, index: st.ops - 1 });
}

/** APPEND/APPENDS/ADDITEMS target handling (CPython do_append / load_additems); items already popped. */
function appendTo(st: State, target: PyValue, items: PyValue[], what: 'APPEND' | 'APPENDS' | 'ADDITEMS') {
  const k = kindOf(target);
  if (what === 'ADDITEMS' ? k === 'set' : k === 'list') {
    if (isPlaceholder(target)) return;
    const arr = (target as PySeq).items;
    for (let i = 0; i < items.length; i++) {
      arr.push(items[i]);
      grow(target, items[i], st.maxN);
    }
  } else if (k === 'call' || k === 'persistent') {
    if (isPlaceholder(target)) return;
    const c = target as PyCall;
    if (!c.items) c.items = [];
    for (let i = 0; i < items.length; i++) {
      c.items.push(items[i]);
      grow(c, items[i], st.maxN);
    }
  } else if (k === 'global') {
    mutate(st, target as PyGlobal, what);
  } else {
    fail(`'${k}' object has no attribute '${what === 'ADDITEMS' ? 'add' : 'append'}'`);
  }
}

/** SETITEM(S)/DICT: stack[from:to] as key/value pairs set on `target` (CPython do_setitems). */
function setItemsOn(st: State, target: PyValue, stack: PyValue[], from: number, to: number, what: string) {
  const k = kindOf(target);
  const maxN = st.maxN;
  if (isPlaceholder(target) && (k === 'dict' || k === 'call' || k === 'persistent')) {
    for (let i = from; i < to; i += 2) checkHashable(stack[i]);
    return;
  }
  if (k === 'dict') {
    const d = target as PyDict;
    for (let i = from; i < to; i += 2) {
      const key = stack[i];
      const val = stack[i + 1];
      if (typeof key === 'object' && key !== null) {
        checkHashable(key);
        grow(d, key, maxN);
      }
      d.keys.push(key);
      d.values.push(val);
      if (typeof val === 'object' && val !== null) grow(d, val, maxN);
    }
  } else if (k === 'call' || k === 'persistent') {
    const c = target as PyCall;
    if (!c.setKeys) {
      c.setKeys = [];
      c.setValues = [];
    }
    for (let i = from; i < to; i += 2) {
      c.setKeys.push(stack[i]);
      c.setValues!.push(stack[i + 1]);
      grow(c, stack[i], maxN);
      grow(c, stack[i + 1], maxN);
    }
  } else if (k === 'global') {
    mutate(st, target as PyGlobal, what);
  } else {
    fail(`'${k}' object does not support item assignment`);
  }
}

/** BUILD (CPython load_build): state to __setstate__ or __dict__; returns where reading resumes. */
function build(
  st: State,
  stack: PyValue[],
  fence: number,
  bytes: Uint8Array,
  pos: number,
  limit: number,
): number {
  if (stack.length - 1 <= fence) underflow();
  const state = stack.pop() as PyValue;
  const inst = stack[stack.length - 1];
  const k = kindOf(inst);
  if ((k === 'call' || k === 'persistent') && isPlaceholder(inst)) {
    use(st, (inst as PyCall).fn, USE.BUILD);
  } else if (k === 'call' || k === 'persistent') {
    const c = inst as PyCall;
    c.state = state;
    grow(c, state, st.maxN);
    use(st, c.fn, USE.BUILD);
    if (st.onBuild && k === 'call') {
      const r = st.onBuild(c, pos, bytes);
      if (r) {
        if (r.findings) st.hookFindings.push(...r.findings);
        if (r.error) fail(r.error);
        if (r.next < pos || r.next > limit) truncated();
        if (r.value !== undefined) stack[stack.length - 1] = r.value;
        return r.next;
      }
    }
  } else if (k === 'global') {
    mutate(st, inst as PyGlobal, 'BUILD');
  } else if (state !== null) {
    fail(`BUILD on a '${k}' object, which has no __dict__ or __setstate__`);
  }
  return pos;
}

function utf8Name(bytes: Uint8Array, s: number, e: number): string {
  const t = utf8Decode(bytes, s, e);
  if (t === undefined) fail("'utf-8' codec can't decode a GLOBAL/INST name");
  return t as string;
}

function invalidKey(op: number): never {
  const ch = op < 0x20 || op >= 0x7f ? `\\x${op.toString(16).padStart(2, '0')}` : String.fromCharCode(op);
  fail(`invalid load key, '${ch}'`);
}

/**
 * A small pickle with the opcodes real checkpoints are made of (a torch state dict's: GLOBAL, REDUCE,
 * BINPERSID, tuples, memo, SETITEMS, BUILD; and protocol 4's FRAME, MEMOIZE, STACK_GLOBAL, NEWOBJ, lists).
 * Run once before the first real pickle, it gives V8 type feedback for every branch the real run will
 * take: otherwise the optimised loop is thrown away the first time the run reaches an opcode it has not
 * seen yet (SETITEMS comes after 30,000 opcodes in a state dict), and re-optimising a function this
 * large costs tens of milliseconds of interpreted execution. The result is discarded.
 */
function primingPickle(): Uint8Array {
  const out: number[] = [];
  const str = (t: string) => {
    for (let i = 0; i < t.length; i++) out.push(t.charCodeAt(i));
  };
  const unicode = (t: string) => {
    out.push(0x58, t.length, 0, 0, 0);
    str(t);
  };
  const short = (t: string) => {
    out.push(0x8c, t.length);
    str(t);
  };
  out.push(0x80, 2, 0x7d, 0x71, 0, 0x28); // PROTO 2, EMPTY_DICT, BINPUT 0, MARK
  // 'a': collections.OrderedDict() with BUILD state {}
  unicode('a');
  out.push(0x63);
  str('collections\nOrderedDict\n');
  out.push(0x71, 1, 0x29, 0x52, 0x72, 2, 0, 0, 0, 0x7d, 0x62); // BINPUT, (), REDUCE, LONG_BINPUT, {}, BUILD
  // 'b': (1, 2, 3, 1.5, -1)
  unicode('b');
  out.push(0x28, 0x4b, 1, 0x4d, 2, 0, 0x4a, 3, 0, 0, 0, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0);
  out.push(0x8a, 1, 0xff, 0x74); // LONG1 -1, TUPLE
  // 'c': persistent_load(('storage', OrderedDict, '0', 'cpu', 4))
  unicode('c');
  out.push(0x28);
  unicode('storage');
  out.push(0x68, 1); // BINGET 1
  unicode('0');
  unicode('cpu');
  out.push(0x4b, 4, 0x74, 0x51, 0x71, 3); // BININT1, TUPLE, BINPERSID, BINPUT 3
  // 'd': ((None,), (True, False)) and the memo read back with LONG_BINGET
  unicode('d');
  out.push(0x4e, 0x85, 0x88, 0x89, 0x86, 0x86, 0x6a, 3, 0, 0, 0, 0x30); // ..., TUPLE2, LONG_BINGET 3, POP
  // 'e': [1, b'x', 2] (APPEND, APPENDS, SHORT_BINBYTES, BINBYTES)
  unicode('e');
  out.push(0x5d, 0x4b, 1, 0x61, 0x28, 0x43, 1, 0x78, 0x42, 1, 0, 0, 0, 0x79, 0x65);
  out.push(0x75); // SETITEMS
  // protocol 4 style: 'f': collections.OrderedDict.__new__ via NEWOBJ, framed, memoized, SETITEM
  out.push(0x95, 0, 0, 0, 0, 0, 0, 0, 0); // FRAME 0 (only checks the bytes are there)
  short('f');
  out.push(0x94); // MEMOIZE
  short('collections');
  out.push(0x94);
  short('OrderedDict');
  out.push(0x94, 0x93, 0x94, 0x29, 0x81, 0x94); // STACK_GLOBAL, MEMOIZE, (), NEWOBJ, MEMOIZE
  out.push(0x73, 0x2e); // SETITEM, STOP
  return Uint8Array.from(out);
}

let primed = false;

function prime(): void {
  primed = true;
  try {
    const p = primingPickle();
    const lean = (q: string) => q === 'collections.OrderedDict';
    // A few runs: V8 records feedback only once the function has a feedback vector (after a few calls).
    for (let i = 0; i < 4; i++) {
      runVmOnce(p, {});
      runVmOnce(p, { lean });
    }
  } catch {
    // priming is an optimisation only
  }
}

export function runVm(bytes: Uint8Array, opts: VmOptions = {}): VmResult {
  if (!primed) prime();
  return runVmOnce(bytes, opts);
}

function runVmOnce(bytes: Uint8Array, opts: VmOptions): VmResult {
  const L = opts.limits ? { ...LIMITS.pickle, ...opts.limits } : LIMITS.pickle;
  const maxOpcodes = L.maxOpcodes;
  const maxMemo = L.maxMemo;
  const maxStack = L.maxStack;
  const maxMarks = L.maxMarkDepth;
  const maxN = L.maxNesting;
  const start = opts.start ?? 0;
  const dataEnd = Math.min(bytes.length, opts.end ?? bytes.length);
  const limit = Math.min(dataEnd, start + L.maxPickleBytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo: PyValue[] = [];
  const st: State = {
    globals: new Map(),
    mutations: [],
    calls: [],
    persistentIds: [],
    pickleLike: [],
    hookFindings: [],
    onBuild: opts.onBuild,
    lean: opts.lean,
    leanNodes: new Map(),
    proto: 0,
    maxProto: 0,
    op: 0,
    opStart: start,
    ops: 0,
    maxN,
  };
  const calls = st.calls;

  let fence = 0;
  let memoLen = 0;
  let pos = start;
  let opStart = start;
  let ops = 0;
  let op = 0;
  let complete = false;
  // The analysed bytes as latin1 text, made once many strings have been read (see asciiSlice).
  let text: string | undefined;
  let strings = 0;
  let value: PyValue | undefined;
  let error: VmError | undefined;

  try {
    for (;;) {
      if (pos >= limit) {
        if (pos >= dataEnd) truncated();
        throw new Stop('limit', `pickle larger than ${L.maxPickleBytes} bytes`);
      }
      if (++ops > maxOpcodes) throw new Stop('limit', `more than ${maxOpcodes} opcodes`);
      opStart = pos;
      op = bytes[pos++];
      switch (op) {
        case 0x28: // MARK
          if (marks.length >= maxMarks) throw new Stop('limit', `more than ${maxMarks} nested MARKs`);
          marks.push(stack.length);
          fence = stack.length;
          break;
        case 0x2e: // STOP
          if (stack.length <= fence) underflow();
          value = stack.pop() as PyValue;
          complete = true;
          break;
        case 0x30: {
          // POP: right after MARK it removes the mark (CPython load_pop)
          const len = stack.length;
          if (marks.length > 0 && marks[marks.length - 1] === len) {
            marks.pop();
            fence = marks.length ? marks[marks.length - 1] : 0;
          } else if (len <= fence) underflow();
          else stack.pop();
          break;
        }
        case 0x32: // DUP
          if (stack.length <= fence) underflow();
          stack.push(stack[stack.length - 1]);
          break;
        case 0x4a: // BININT
          if (pos + 4 > limit) truncated();
          stack.push(bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24));
          pos += 4;
          break;
        case 0x4b: // BININT1
          if (pos + 1 > limit) truncated();
          stack.push(bytes[pos++]);
          break;
        case 0x4d: // BININT2
          if (pos + 2 > limit) truncated();
          stack.push(bytes[pos] | (bytes[pos + 1] << 8));
          pos += 2;
          break;
        case 0x4e: // NONE
          stack.push(null);
          break;
        case 0x88: // NEWTRUE
          stack.push(true);
          break;
        case 0x89: // NEWFALSE
          stack.push(false);
          break;
        case 0x58: // BINUNICODE
        case 0x8c: {
          // SHORT_BINUNICODE
          let n: number;
          if (op === 0x8c) {
            if (pos + 1 > limit) truncated();
            n = bytes[pos++];
          } else {
            if (pos + 4 > limit) truncated();
            n = u32le(bytes, pos);
            pos += 4;
          }
          if (pos + n > limit) truncated();
          let t: string | undefined;
          if (text === undefined && ++strings > TEXT_AFTER_STRINGS && limit - start <= TEXT_MAX_BYTES)
            text = latin1String(bytes, start, limit);
          if (text !== undefined) t = asciiSlice(bytes, pos, n, text, start);
          if (t === undefined) t = utf8Decode(bytes, pos, pos + n);
          if (t === undefined) fail("'utf-8' codec can't decode a unicode string");
          stack.push(t as string);
          pos += n;
          break;
        }
        case 0x68: {
          // BINGET
          if (pos + 1 > limit) truncated();
          const idx = bytes[pos++];
          const v = idx < memo.length ? memo[idx] : undefined;
          if (v === undefined) fail(`Memo value not found at index ${idx}`);
          stack.push(v as PyValue);
          break;
        }
        case 0x6a: {
          // LONG_BINGET
          if (pos + 4 > limit) truncated();
          const idx = u32le(bytes, pos);
          pos += 4;
          const v = idx < memo.length ? memo[idx] : undefined;
          if (v === undefined) fail(`Memo value not found at index ${idx}`);
          stack.push(v as PyValue);
          break;
        }
        case 0x71: // BINPUT
        case 0x72: // LONG_BINPUT
        case 0x94: {
          // MEMOIZE (at the memo's current entry count)
          let idx: number;
          if (op === 0x71) {
            if (pos + 1 > limit) truncated();
            idx = bytes[pos++];
          } else if (op === 0x72) {
            if (pos + 4 > limit) truncated();
            idx = u32le(bytes, pos);
            pos += 4;
          } else idx = memoLen;
          if (stack.length <= fence) underflow();
          if (idx >= memo.length || memo[idx] === undefined) {
            if (memoLen >= maxMemo) throw new Stop('limit', `more than ${maxMemo} memo entries`);
            memoLen++;
          }
          memo[idx] = stack[stack.length - 1];
          break;
        }
        case 0x5d: // EMPTY_LIST
          stack.push(mkSeq(st, 'list', []));
          break;
        case 0x7d: // EMPTY_DICT
          stack.push(mkDict(st));
          break;
        case 0x29: // EMPTY_TUPLE
          stack.push(EMPTY_TUPLE);
          break;
        case 0x74: // TUPLE
        case 0x6c: {
          // LIST
          if (marks.length === 0) fail('could not find MARK');
          const m = marks.pop() as number;
          fence = marks.length ? marks[marks.length - 1] : 0;
          if (op === 0x74 && m === stack.length) stack.push(EMPTY_TUPLE);
          else stack.push(seqFromStack(st, op === 0x74 ? 'tuple' : 'list', stack, m));
          break;
        }
        case 0x85: // TUPLE1
          if (stack.length - 1 < fence) underflow();
          stack.push(seqFromStack(st, 'tuple', stack, stack.length - 1));
          break;
        case 0x86: {
          // TUPLE2
          if (stack.length - 2 < fence) underflow();
          stack.push(seqFromStack(st, 'tuple', stack, stack.length - 2));
          break;
        }
        case 0x87: {
          // TUPLE3
          if (stack.length - 3 < fence) underflow();
          stack.push(seqFromStack(st, 'tuple', stack, stack.length - 3));
          break;
        }
        case 0x73: // SETITEM
        case 0x75: {
          // SETITEMS
          let x: number;
          if (op === 0x73) x = stack.length - 2;
          else {
            if (marks.length === 0) fail('could not find MARK');
            x = marks.pop() as number;
            fence = marks.length ? marks[marks.length - 1] : 0;
          }
          const len = stack.length;
          if (x > len || x <= fence) underflow();
          if (len === x) break;
          if ((len - x) % 2 !== 0) fail('odd number of items for SETITEMS');
          st.op = op;
          st.opStart = opStart;
          st.ops = ops;
          setItemsOn(st, stack[x - 1], stack, x, len, op === 0x73 ? 'SETITEM' : 'SETITEMS');
          truncate(stack, x);
          break;
        }
        case 0x61: // APPEND
        case 0x65: {
          // APPENDS
          let x: number;
          if (op === 0x61) x = stack.length - 1;
          else {
            if (marks.length === 0) fail('could not find MARK');
            x = marks.pop() as number;
            fence = marks.length ? marks[marks.length - 1] : 0;
          }
          const len = stack.length;
          if (x > len || x <= fence) underflow();
          if (len === x) break;
          const items = popFrom(stack, x);
          st.op = op;
          st.opStart = opStart;
          st.ops = ops;
          appendTo(st, stack[x - 1], items, op === 0x61 ? 'APPEND' : 'APPENDS');
          break;
        }
        case 0x52: {
          // REDUCE
          if (stack.length - 2 < fence) underflow();
          const args = stack.pop() as PyValue;
          const fn = stack.pop() as PyValue;
          if (notTuple(args)) fail('REDUCE argument list must be a tuple');
          if (notCallable(fn)) fail(`'${kindOf(fn)}' object is not callable`);
          if ((fn as PyGlobal).kind === 'global') {
            const attr = constantGetattr(st, fn as PyGlobal, args as PySeq);
            if (attr) {
              stack.push(attr);
              break;
            }
            use(st, fn, USE.REDUCE);
          }
          stack.push(mkCall(st, fn, args, 'REDUCE', opStart, undefined));
          break;
        }
        case 0x51: {
          // BINPERSID
          if (stack.length <= fence) underflow();
          const pid = stack.pop() as PyValue;
          stack.push(mkPersistent(st, pid, opStart));
          break;
        }
        case 0x62: // BUILD
          st.op = op;
          st.opStart = opStart;
          st.ops = ops;
          pos = build(st, stack, fence, bytes, pos, limit);
          break;
        default: {
          // Everything else: protocol 0 text forms, GLOBAL/STACK_GLOBAL/INST/OBJ, NEWOBJ(_EX), EXT, LONG*,
          // PERSID, bytes, floats, sets, DICT, FRAME, PROTO, buffers, POP_MARK.
          st.op = op;
          st.opStart = opStart;
          st.ops = ops;
          const r = rareOp(st, op, bytes, view, pos, limit, stack, marks, fence, memo, memoLen, maxMemo);
          pos = r.pos;
          fence = r.fence;
          memoLen = r.memoLen;
        }
      }
      if (complete) break;
      if ((ops & 0x3ff) === 0 && stack.length > maxStack)
        throw new Stop('limit', `stack deeper than ${maxStack} values`);
    }
  } catch (e) {
    if (e instanceof Stop) {
      error = { kind: e.kind, message: e.message, offset: opStart, index: ops - 1, opcode: opName(op) };
    } else if (e instanceof RangeError) {
      // e.g. an allocation failure: a limit, never a crash.
      error = { kind: 'limit', message: `resource limit hit: ${e.message}`, offset: opStart, index: ops - 1 };
    } else {
      error = {
        kind: 'malformed',
        message: `internal error while analysing: ${(e as Error)?.message ?? String(e)}`,
        offset: opStart,
        index: ops - 1,
        opcode: opName(op),
      };
    }
    complete = false;
    value = undefined;
  }

  const r: VmResult = {
    complete,
    end: pos,
    opcodes: ops,
    globals: st.globals,
    calls,
    mutations: st.mutations,
    persistentIds: st.persistentIds,
    pickleLike: st.pickleLike,
    proto: st.maxProto,
    hookFindings: st.hookFindings,
    leftover: complete ? stack.length : 0,
  };
  if (value !== undefined) r.value = value;
  if (error) r.error = error;
  return r;
}

/** Strings read before the pickle is decoded once as text for them; a larger pickle is never decoded. */
const TEXT_AFTER_STRINGS = 64;
const TEXT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * bytes[pos, pos+n) as a string when every byte is ASCII (UTF-8 and latin1 then agree), cut out of
 * `text`, the latin1 decoding of the bytes from `textStart`: a checkpoint's 40,000 keys and storage names
 * then cost a substring each instead of a native decoder call each. undefined otherwise.
 */
function asciiSlice(
  bytes: Uint8Array,
  pos: number,
  n: number,
  text: string,
  textStart: number,
): string | undefined {
  const end = pos + n;
  for (let i = pos; i < end; i++) if (bytes[i] >= 0x80) return undefined;
  return text.substring(pos - textStart, end - textStart);
}

/** Little-endian unsigned 32-bit integer at `pos` (bounds checked by the caller); no DataView call. */
function u32le(b: Uint8Array, pos: number): number {
  return (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16)) + b[pos + 3] * 0x1000000;
}

/** An unsigned 8-byte length; anything beyond 2^53 is reported as truncation by the caller's bound check. */
function u64(view: DataView, pos: number): number {
  const lo = view.getUint32(pos, true);
  const hi = view.getUint32(pos + 4, true);
  if (hi >= 0x200000) return Number.MAX_SAFE_INTEGER;
  return hi * 0x100000000 + lo;
}

interface RareResult {
  pos: number;
  fence: number;
  memoLen: number;
}

/** One newline-terminated line from `pos`; returns the index of its newline. */
function lineEnd(bytes: Uint8Array, pos: number, limit: number): number {
  const nl = bytes.indexOf(0x0a, pos);
  if (nl < 0 || nl >= limit) truncated();
  return nl;
}

function rareOp(
  st: State,
  op: number,
  bytes: Uint8Array,
  view: DataView,
  pos: number,
  limit: number,
  stack: PyValue[],
  marks: number[],
  fence: number,
  memo: PyValue[],
  memoLen: number,
  maxMemo: number,
): RareResult {
  const opStart = st.opStart;
  const r: RareResult = { pos, fence, memoLen };
  const marker = (): number => {
    if (marks.length === 0) fail('could not find MARK');
    const m = marks.pop() as number;
    r.fence = marks.length ? marks[marks.length - 1] : 0;
    return m;
  };
  const pop = (): PyValue => {
    if (stack.length <= r.fence) underflow();
    return stack.pop() as PyValue;
  };
  const need = (n: number) => {
    if (r.pos + n > limit) truncated();
  };
  const line = (minLen: number): [number, number] => {
    const nl = lineEnd(bytes, r.pos, limit);
    const s = r.pos;
    r.pos = nl + 1;
    if (nl + 1 - s < minLen) truncated();
    return [s, nl];
  };
  const call = (fn: PyValue, args: PyValue, via: CallVia, kwargs?: PyValue): PyCall => {
    return mkCall(st, fn, args, via, opStart, kwargs);
  };
  const tupleFrom = (from: number): PySeq => {
    if (from < r.fence) underflow();
    return seqFromStack(st, 'tuple', stack, from);
  };
  const memoPut = (idx: number) => {
    if (stack.length <= r.fence) underflow();
    if (idx >= memo.length || memo[idx] === undefined) {
      if (r.memoLen >= maxMemo) throw new Stop('limit', `more than ${maxMemo} memo entries`);
      r.memoLen++;
    }
    memo[idx] = stack[stack.length - 1];
  };
  /** Length prefix of 1, 4 (signed or not) or 8 bytes. */
  const len = (n: 1 | 4 | 8, signed = false): number => {
    need(n);
    let v: number;
    if (n === 1) v = bytes[r.pos];
    else if (n === 4) v = signed ? view.getInt32(r.pos, true) : view.getUint32(r.pos, true);
    else v = u64(view, r.pos);
    r.pos += n;
    return v;
  };

  switch (op) {
    case 0x31: {
      // POP_MARK
      const m = marker();
      truncate(stack, m);
      break;
    }
    case 0x80: {
      // PROTO
      const p = len(1);
      if (p > HIGHEST_PROTOCOL) fail(`unsupported pickle protocol: ${p}`);
      st.proto = p;
      if (p > st.maxProto) st.maxProto = p;
      break;
    }
    case 0x95: {
      // FRAME: the C loader only requires the frame's bytes to be present
      const n = len(8);
      need(n);
      break;
    }
    case 0x93: {
      // STACK_GLOBAL
      const name = pop();
      const module = pop();
      if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL requires str');
      stack.push(findClass(st, module as string, name as string, 'STACK_GLOBAL'));
      break;
    }
    case 0x8d: {
      // BINUNICODE8
      const n = len(8);
      need(n);
      const t = utf8Decode(bytes, r.pos, r.pos + n);
      if (t === undefined) fail("'utf-8' codec can't decode a unicode string");
      stack.push(t as string);
      r.pos += n;
      break;
    }
    case 0x42: // BINBYTES
    case 0x43: // SHORT_BINBYTES
    case 0x8e: // BINBYTES8
    case 0x96: {
      // BYTEARRAY8
      const n = op === 0x43 ? len(1) : op === 0x42 ? len(4) : len(8);
      need(n);
      const p = r.pos;
      const b: PyBytes = {
        kind: op === 0x96 ? 'bytearray' : 'bytes',
        data: bytes.subarray(p, p + n),
        offset: p,
      };
      if (n >= 2 && bytes[p] === 0x80 && bytes[p + 1] >= 2 && bytes[p + 1] <= HIGHEST_PROTOCOL)
        st.pickleLike.push(b);
      stack.push(b);
      r.pos += n;
      break;
    }
    case 0x47: // BINFLOAT
      need(8);
      stack.push({ kind: 'float', value: view.getFloat64(r.pos, false) });
      r.pos += 8;
      break;
    case 0x8f: // EMPTY_SET
      stack.push(mkSeq(st, 'set', []));
      break;
    case 0x91: {
      // FROZENSET
      const items = popFrom(stack, marker());
      for (const it of items) checkHashable(it);
      stack.push(mkSeq(st, 'frozenset', items));
      break;
    }
    case 0x90: {
      // ADDITEMS
      const x = marker();
      const n = stack.length;
      if (x > n || x <= r.fence) underflow();
      if (n === x) break;
      const items = popFrom(stack, x);
      appendTo(st, stack[x - 1], items, 'ADDITEMS');
      break;
    }
    case 0x64: {
      // DICT
      const m = marker();
      const n = stack.length;
      if ((n - m) % 2 !== 0) fail('odd number of items for DICT');
      const d = mkDict(st);
      setItemsOn(st, d, stack, m, n, 'DICT');
      truncate(stack, m);
      stack.push(d);
      break;
    }
    case 0x46: {
      // FLOAT
      const [s, e] = line(1);
      const v = parseFloatLiteral(latin1String(bytes, s, e));
      if (v === undefined) fail('could not convert string to float');
      stack.push({ kind: 'float', value: v as number });
      break;
    }
    case 0x49: {
      // INT: "I00"/"I01" are False/True
      const [s, e] = line(2);
      const v = parseIntOpcode(latin1String(bytes, s, e));
      if (v === undefined) fail('could not convert string to int');
      if (e + 1 - s === 3 && (v === 0 || v === 1)) stack.push(v === 1);
      else stack.push(v as number | bigint);
      break;
    }
    case 0x4c: {
      // LONG
      const [s, nl] = line(2);
      let e = nl;
      if (bytes[e - 1] === 0x4c) e--; // the Python 2 'L' suffix
      const v = parseIntLiteral(latin1String(bytes, s, e));
      if (v === undefined) fail('could not convert string to int');
      stack.push(v as number | bigint);
      break;
    }
    case 0x8a: // LONG1
    case 0x8b: {
      // LONG4
      const n = op === 0x8a ? len(1) : len(4, true);
      if (n < 0) fail('LONG pickle has negative byte count');
      need(n);
      const v = decodeLong(bytes, r.pos, n);
      stack.push(v === undefined ? { kind: 'bigint', bytes: n } : v);
      r.pos += n;
      break;
    }
    case 0x53: {
      // STRING: quoted, Python escapes
      const [s, e] = line(1);
      const q = bytes[s];
      if (!(e - s >= 2 && q === bytes[e - 1] && (q === 0x27 || q === 0x22)))
        fail('the STRING opcode argument must be quoted');
      const raw = escapeDecode(bytes, s + 1, e - 1);
      if (raw === undefined) fail('invalid \\x escape in STRING');
      stack.push(latin1String(raw as Uint8Array, 0, (raw as Uint8Array).length));
      break;
    }
    case 0x54: // BINSTRING
    case 0x55: {
      // SHORT_BINSTRING (Python 2 str, decoded by the loader's encoding; latin-1 keeps every byte)
      const n = op === 0x55 ? len(1) : len(4, true);
      if (n < 0) fail('BINSTRING pickle has negative byte count');
      need(n);
      stack.push(latin1String(bytes, r.pos, r.pos + n));
      r.pos += n;
      break;
    }
    case 0x56: {
      // UNICODE (raw-unicode-escape)
      const [s, e] = line(1);
      const t = rawUnicodeEscapeDecode(bytes, s, e);
      if (t === undefined) fail("'rawunicodeescape' codec can't decode the UNICODE argument");
      stack.push(t as string);
      break;
    }
    case 0x67: {
      // GET
      const [s, e] = line(2);
      const idx = parseIntLiteral(latin1String(bytes, s, e), false);
      if (idx === undefined) fail('invalid literal for GET');
      const v = typeof idx === 'number' && idx >= 0 && idx < memo.length ? memo[idx] : undefined;
      if (v === undefined) fail(`Memo value not found at index ${idx}`);
      stack.push(v as PyValue);
      break;
    }
    case 0x70: {
      // PUT
      const [s, e] = line(2);
      const idx = parseIntLiteral(latin1String(bytes, s, e), false);
      if (idx === undefined) fail('invalid literal for PUT');
      if ((idx as number) < 0) fail('negative PUT argument');
      if (typeof idx !== 'number') throw new Stop('limit', 'PUT index too large');
      memoPut(idx as number);
      break;
    }
    case 0x50: {
      // PERSID (ASCII id)
      const [s, e] = line(1);
      for (let i = s; i < e; i++) if (bytes[i] >= 0x80) fail("'ascii' codec can't decode a PERSID");
      const pid = latin1String(bytes, s, e);
      stack.push(mkPersistent(st, pid, opStart));
      break;
    }
    case 0x63: {
      // GLOBAL
      const [s1, e1] = line(2);
      const module = utf8Name(bytes, s1, e1);
      const [s2, e2] = line(2);
      const name = utf8Name(bytes, s2, e2);
      stack.push(findClass(st, module, name, 'GLOBAL'));
      break;
    }
    case 0x69: {
      // INST: marker first, then the two name lines, then instantiate with the marked items
      const m = marker();
      const [s1, e1] = line(2);
      const module = utf8Name(bytes, s1, e1);
      const [s2, e2] = line(2);
      const name = utf8Name(bytes, s2, e2);
      const cls = findClass(st, module, name, 'INST');
      const args = tupleFrom(m);
      use(st, cls, USE.INST);
      stack.push(call(cls, args, 'INST'));
      break;
    }
    case 0x6f: {
      // OBJ: MARK cls args... OBJ
      const m = marker();
      if (stack.length - m < 1) underflow();
      const args = tupleFrom(m + 1);
      const cls = stack.pop() as PyValue;
      if (notCallable(cls)) fail(`'${kindOf(cls)}' object is not callable`);
      use(st, cls, USE.OBJ);
      stack.push(call(cls, args, 'OBJ'));
      break;
    }
    case 0x81: // NEWOBJ
    case 0x92: {
      // NEWOBJ_EX
      const ex = op === 0x92;
      const kwargs = ex ? pop() : undefined;
      const args = pop();
      const cls = pop();
      const what = ex ? 'NEWOBJ_EX' : 'NEWOBJ';
      if (notCallable(cls)) fail(`${what} class argument must be a type, not ${kindOf(cls)}`);
      if (notTuple(args)) fail(`${what} args argument must be a tuple, not ${kindOf(args)}`);
      if (ex) {
        const kk = kindOf(kwargs as PyValue);
        if (kk !== 'dict' && kk !== 'call' && kk !== 'persistent')
          fail(`NEWOBJ_EX kwargs argument must be a dict, not ${kk}`);
      }
      use(st, cls, ex ? USE.NEWOBJ_EX : USE.NEWOBJ);
      stack.push(call(cls, args, ex ? 'NEWOBJ_EX' : 'NEWOBJ', kwargs));
      break;
    }
    case 0x82: // EXT1
    case 0x83: // EXT2
    case 0x84: {
      // EXT4: copyreg's registry is empty by default; the name is unknowable statically
      const n = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
      need(n);
      const p = r.pos;
      const code = n === 1 ? bytes[p] : n === 2 ? bytes[p] | (bytes[p + 1] << 8) : view.getInt32(p, true);
      r.pos += n;
      if (code <= 0) fail('EXT specifies code <= 0');
      stack.push(findClass(st, 'copyreg', `_inverted_registry[${code}]`, `EXT${n}` as 'EXT1', code));
      break;
    }
    case 0x97: // NEXT_BUFFER
      fail('pickle stream refers to out-of-band data but no *buffers* argument was given');
      break;
    case 0x98: {
      // READONLY_BUFFER
      if (stack.length <= r.fence) underflow();
      const k = kindOf(stack[stack.length - 1]);
      if (k !== 'bytes' && k !== 'bytearray' && k !== 'call' && k !== 'persistent')
        fail(`a bytes-like object is required, not '${k}'`);
      break;
    }
    default:
      invalidKey(op);
  }
  return r;
}
