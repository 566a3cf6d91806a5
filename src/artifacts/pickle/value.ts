/**
 * Symbolic values built by the pickle VM (vm.ts). Nothing is executed: a call the loader would make is kept as
 * a `PyCall` node `{fn, args}` with the state BUILD would set and the items APPEND/SETITEM would add, so that
 * a converter can walk a checkpoint (e.g. `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
 * with its persistent-id storage) without running it.
 *
 * Representation (chosen to be cheap to build for 600k-opcode checkpoints):
 * - `None` -> `null`, `True`/`False` -> `boolean`, `int` -> `number` (or `bigint` beyond 2^53, or `PyBigInt`
 *   when too large to materialise), `float` -> `PyFloat` (kept apart from ints), `str` -> `string`;
 * - bytes/bytearray -> `PyBytes` (a view into the analysed buffer, not a copy);
 * - tuple/list/set/frozenset -> `PySeq`; dict -> `PyDict` (parallel key/value arrays, insertion order);
 * - an imported name -> `PyGlobal` (interned: one object per fully qualified name);
 * - a call -> `PyCall`; a persistent id (torch storage) -> `PyPersistent`; an EXT code -> `PyGlobal` with `ext`;
 * - joblib's inline numpy array (bytes the VM skipped) -> `PyInlineArray`.
 *
 * Values can share structure and even be cyclic (the memo lets a pickle reference an object inside itself):
 * walkers must keep a visited set.
 */

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyBigInt
  | PyBytes
  | PySeq
  | PyDict
  | PyGlobal
  | PyCall
  | PyPersistent
  | PyInlineArray;

export interface PyFloat {
  kind: 'float';
  value: number;
}

/** An int too large to materialise (over 1024 bytes); only its size is kept. */
export interface PyBigInt {
  kind: 'bigint';
  bytes: number;
}

export interface PyBytes {
  kind: 'bytes' | 'bytearray';
  /** A view into the analysed buffer (do not keep it beyond the buffer's lifetime if that matters). */
  data: Uint8Array;
  /** Offset of the first byte in the analysed buffer. */
  offset: number;
}

export interface PySeq {
  kind: 'tuple' | 'list' | 'set' | 'frozenset';
  items: PyValue[];
  /** Nesting depth (1 + deepest item), kept for the nesting limit. */
  depth?: number;
}

export interface PyDict {
  kind: 'dict';
  keys: PyValue[];
  values: PyValue[];
  depth?: number;
}

/** A name resolved by find_class (GLOBAL, STACK_GLOBAL, INST, EXT*). One object per name in a pickle. */
export interface PyGlobal {
  kind: 'global';
  /** Module after Python 2 -> 3 renaming (fix_imports, protocols < 3). */
  module: string;
  /** Attribute name; may be a dotted attribute chain. */
  name: string;
  /** `module.name`, the name policies match exactly. */
  qualified: string;
  /** Set for an EXT1/EXT2/EXT4 code that cannot be resolved statically. */
  ext?: number;
}

/** How an object was created. */
export type CallVia = 'REDUCE' | 'INST' | 'OBJ' | 'NEWOBJ' | 'NEWOBJ_EX';

export interface PyCall {
  kind: 'call';
  /** The callable: usually a `PyGlobal`, anything else is an indirect call (blocked by policy). */
  fn: PyValue;
  /** Positional arguments (a tuple for REDUCE/NEWOBJ; INST/OBJ arguments are gathered into a tuple too). */
  args: PyValue;
  /** Keyword arguments of NEWOBJ_EX. */
  kwargs?: PyValue;
  via: CallVia;
  /** State passed by BUILD (to `__setstate__` or merged into `__dict__`); the last BUILD wins. */
  state?: PyValue;
  /** Items added by APPEND/APPENDS/ADDITEMS (the object's `extend`/`append`/`add`). */
  items?: PyValue[];
  /** Key/value pairs set by SETITEM/SETITEMS (the object's `__setitem__`). */
  setKeys?: PyValue[];
  setValues?: PyValue[];
  /** Byte offset of the opcode that made the call. */
  offset: number;
  depth?: number;
}

/** The object `persistent_load(pid)` returns; torch: `('storage', StorageType, key, location, numel)`. */
export interface PyPersistent {
  kind: 'persistent';
  pid: PyValue;
  offset: number;
  depth?: number;
  /** Set only if the pickle applies BUILD/APPEND/SETITEM to the loaded object (torch never does). */
  state?: PyValue;
  items?: PyValue[];
  setKeys?: PyValue[];
  setValues?: PyValue[];
}

/** A numpy array whose bytes joblib stores inline after the wrapper's BUILD (skipped, never read). */
export interface PyInlineArray {
  kind: 'inline-array';
  /** The `joblib.numpy_pickle.NumpyArrayWrapper` object (its state holds dtype, shape, order). */
  wrapper: PyCall;
  /** Where the array bytes start and how many there are (0 for object arrays, which are a nested pickle). */
  dataOffset: number;
  byteLength: number;
  /** For object-dtype arrays: the symbolic value of the nested pickle. */
  objects?: PyValue;
}

export function isCall(v: PyValue | undefined): v is PyCall {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'call';
}

export function isGlobal(v: PyValue | undefined): v is PyGlobal {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'global';
}

export function isSeq(v: PyValue | undefined, kind?: PySeq['kind']): v is PySeq {
  if (typeof v !== 'object' || v === null) return false;
  const k = (v as { kind?: string }).kind;
  return kind ? k === kind : k === 'tuple' || k === 'list' || k === 'set' || k === 'frozenset';
}

export function isDict(v: PyValue | undefined): v is PyDict {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'dict';
}

export function isBytes(v: PyValue | undefined): v is PyBytes {
  if (typeof v !== 'object' || v === null) return false;
  const k = (v as { kind?: string }).kind;
  return k === 'bytes' || k === 'bytearray';
}

/** Qualified name of a call's callable when it is an imported name, else undefined. */
export function calleeName(v: PyValue | undefined): string | undefined {
  return isCall(v) && isGlobal(v.fn) ? v.fn.qualified : undefined;
}

/** Value of a dict entry whose key is the given string (last one wins, like Python). */
export function dictGet(d: PyDict, key: string): PyValue | undefined {
  for (let i = d.keys.length - 1; i >= 0; i--) if (d.keys[i] === key) return d.values[i];
  return undefined;
}

/** Integer value of an int-like PyValue (number, bigint within range, bool), else undefined. */
export function asInt(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER))
    return Number(v);
  return undefined;
}
