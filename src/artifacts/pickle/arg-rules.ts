/**
 * Names that are safe only with certain arguments. Each checker gets the symbolic call and returns why its
 * arguments are unsafe, or undefined. Every imported name is checked against the allowlist separately; these
 * rules close what the name check alone cannot see (a codec name that imports a module, a class argument
 * computed by another call instead of imported by name).
 */
import { isGlobal, isSeq, type PyCall, type PyValue } from './value.js';

export type ArgCheck = (call: PyCall) => string | undefined;

const SAFE_CODECS = new Set(['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'utf-8', 'utf8', 'ascii']);

function args(call: PyCall): PyValue[] | undefined {
  return isSeq(call.args, 'tuple') ? call.args.items : undefined;
}

const describe = (v: PyValue | undefined): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'object') return isGlobal(v) ? v.qualified : `a ${(v as { kind: string }).kind}`;
  return `a ${typeof v}`;
};

/** Argument `i` must be a class or function imported by name (so the allowlist has judged it). */
const importedClassAt =
  (...idx: number[]): ArgCheck =>
  (call) => {
    const a = args(call);
    if (!a) return undefined; // a computed argument tuple: the tuple's own call is judged separately
    for (const i of idx) {
      if (a.length <= i) return `gets no argument ${i + 1} (a class is expected)`;
      if (!isGlobal(a[i]))
        return `gets ${describe(a[i])} as argument ${i + 1} where a class imported by name is expected`;
    }
    return undefined;
  };

/** Argument `i`, when present and not a string, must be imported by name (numpy's generator constructors). */
const optionalImportedAt =
  (i: number): ArgCheck =>
  (call) => {
    const a = args(call);
    if (!a || a.length <= i || typeof a[i] === 'string' || isGlobal(a[i])) return undefined;
    return `calls argument ${i + 1}, which is ${describe(a[i])} instead of a name imported by name`;
  };

/** `_codecs.encode(text, 'latin1')`, as pickle writes bytes for protocols < 3. */
const codecEncode: ArgCheck = (call) => {
  const a = args(call);
  if (!a) return undefined;
  if (a.length === 1) return typeof a[0] === 'string' ? undefined : `encodes ${describe(a[0])}, not a str`;
  if (a.length !== 2) return `called with ${a.length} arguments`;
  if (typeof a[0] !== 'string') return `encodes ${describe(a[0])}, not a str`;
  if (typeof a[1] !== 'string' || !SAFE_CODECS.has(a[1].toLowerCase()))
    return `uses codec ${typeof a[1] === 'string' ? JSON.stringify(a[1]) : describe(a[1])} (codec lookup can import modules; only latin-1/utf-8/ascii are expected)`;
  return undefined;
};

/** `bytes()`, `bytes(list_of_ints)`, `bytes(str, 'latin1')`. */
const bytesCtor: ArgCheck = (call) => {
  const a = args(call);
  if (!a || a.length <= 1) return undefined;
  if (typeof a[1] !== 'string' || !SAFE_CODECS.has(a[1].toLowerCase()))
    return `uses codec ${describe(a[1])} (only latin-1/utf-8/ascii are expected)`;
  return undefined;
};

/** `collections.defaultdict(factory)`: the factory is called later, so it must be an imported name or None. */
const defaultDict: ArgCheck = (call) => {
  const a = args(call);
  if (!a || a.length === 0) return undefined;
  return a[0] === null || isGlobal(a[0])
    ? undefined
    : `default factory is ${describe(a[0])}, not an imported name`;
};

const RULES: Record<string, ArgCheck> = {
  '_codecs.encode': codecEncode,
  'codecs.encode': codecEncode,
  'builtins.bytes': bytesCtor,
  'builtins.bytearray': bytesCtor,
  'copyreg._reconstructor': importedClassAt(0, 1),
  'copyreg.__newobj__': importedClassAt(0),
  'copyreg.__newobj_ex__': importedClassAt(0),
  'collections.defaultdict': defaultDict,
  'numpy.core.multiarray._reconstruct': importedClassAt(0),
  'numpy._core.multiarray._reconstruct': importedClassAt(0),
  'numpy.ma.core._mareconstruct': importedClassAt(0, 1),
  'torch._tensor._rebuild_from_type': importedClassAt(0, 1),
  'torch._tensor._rebuild_from_type_v2': importedClassAt(0, 1),
  'torch.tensor._rebuild_from_type': importedClassAt(0, 1),
  'torch.tensor._rebuild_from_type_v2': importedClassAt(0, 1),
  'torch._utils._rebuild_wrapper_subclass': importedClassAt(0),
  // Helpers that call or instantiate an argument: it must be a name the allowlist has judged.
  'pandas.core.indexes.base._new_Index': importedClassAt(0),
  'numpy.random._pickle.__generator_ctor': optionalImportedAt(1),
  'numpy.random._pickle.__randomstate_ctor': optionalImportedAt(1),
};

/** The argument check for an allowed name, if it has one (incl. Cython `__pyx_unpickle_*` and `newObj`). */
const cache = new Map<string, ArgCheck | undefined>();

export function argCheckFor(qualified: string): ArgCheck | undefined {
  if (cache.has(qualified)) return cache.get(qualified);
  const r = findArgCheck(qualified);
  if (cache.size < 10_000) cache.set(qualified, r);
  return r;
}

function findArgCheck(qualified: string): ArgCheck | undefined {
  const r = RULES[qualified];
  if (r) return r;
  const last = qualified.slice(qualified.lastIndexOf('.') + 1);
  // Cython's pickling helpers create an instance of the class given as first argument.
  if (last.startsWith('__pyx_unpickle_') || last === 'newObj') return importedClassAt(0);
  return undefined;
}
