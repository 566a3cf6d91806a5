/**
 * Reconstructs a state dict from the symbolic value of a checkpoint's pickle, without running anything:
 * the tensor rebuild calls the pickle would make (`torch._utils._rebuild_tensor_v2`, `_rebuild_tensor`,
 * `_rebuild_parameter[_with_state]`, `torch._tensor._rebuild_from_type_v2`) are read as data: storage
 * (a persistent id `('storage', StorageType, key, location, numel[, view])`), storage offset, size and
 * stride. Mappings (dict, `collections.OrderedDict` filled by SETITEMS) are flattened with dotted names.
 * Anything that is not a tensor is collected as a problem naming the entry, so the caller can refuse.
 */
import { inputError } from '../../core/errors.js';
import {
  asInt,
  calleeName,
  isCall,
  isDict,
  isGlobal,
  isSeq,
  type PyCall,
  type PyValue,
} from '../pickle/value.js';
import { STORAGE_DTYPES } from './dtypes.js';

export interface StorageRef {
  key: string;
  dtype: string;
  elemSize: number;
  /** Elements in the storage as declared by the persistent id. */
  numel: number;
  /** Legacy views: the storage is `root[viewOffset : viewOffset + numel]` (elements). */
  viewOffset: number;
}

export interface TensorRef {
  name: string;
  storage: StorageRef;
  /** Storage offset, in elements. */
  offset: number;
  shape: number[];
  stride: number[];
}

export interface StateDict {
  tensors: TensorRef[];
  /** Checkpoint metadata that safetensors can carry as strings (e.g. torch's `_metadata` versions). */
  metadata: Record<string, string>;
  /** Entries that are not tensors (or tensors safetensors cannot hold), each naming the entry. */
  problems: string[];
}

const REBUILD_TENSOR = new Set(['torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_tensor']);
const REBUILD_PARAMETER = new Set([
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
]);
const UNSUPPORTED_TENSORS: Record<string, string> = {
  'torch._utils._rebuild_qtensor': 'a quantized tensor',
  'torch._utils._rebuild_sparse_tensor': 'a sparse tensor',
  'torch._utils._rebuild_sparse_csr_tensor': 'a sparse tensor',
  'torch._utils._rebuild_meta_tensor_no_storage': 'a meta tensor without data',
  'torch._utils._rebuild_wrapper_subclass': 'a tensor subclass',
  'torch._utils._rebuild_device_tensor_from_numpy': 'a device tensor from numpy',
  'torch._utils._rebuild_xla_tensor': 'an XLA tensor',
  'torch._utils._rebuild_mlc_tensor': 'an MLC tensor',
  'torch._utils._rebuild_nested_tensor': 'a nested tensor',
};
const MAPPINGS = new Set([
  'collections.OrderedDict',
  'builtins.dict',
  'torch.nn.modules.module._IncompatibleKeys',
]);

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'an int';
  if (typeof v === 'string') return 'a string';
  const k = (v as { kind: string }).kind;
  if (k === 'float') return 'a float';
  if (k === 'bytes' || k === 'bytearray') return 'bytes';
  if (isSeq(v)) return `a ${v.kind}`;
  if (isGlobal(v)) return `the name ${v.qualified}`;
  if (isCall(v)) return `a ${calleeName(v) ?? 'computed'} object`;
  return `a ${k}`;
}

/** Entries of a mapping value, or undefined when it is not one. */
function mappingEntries(v: PyValue): Array<[PyValue, PyValue]> | undefined {
  if (isDict(v)) return v.keys.map((k, i) => [k, v.values[i]]);
  if (isCall(v) && isGlobal(v.fn) && MAPPINGS.has(v.fn.qualified)) {
    const out: Array<[PyValue, PyValue]> = [];
    // OrderedDict([(k, v), ...]) as a REDUCE argument.
    const args = isSeq(v.args) ? v.args.items : [];
    if (args.length === 1 && isSeq(args[0])) {
      for (const pair of args[0].items)
        if (isSeq(pair) && pair.items.length === 2) out.push([pair.items[0], pair.items[1]]);
    } else if (args.length === 1 && isDict(args[0])) {
      out.push(
        ...(args[0].keys.map((k, i) => [k, (args[0] as { values: PyValue[] }).values[i]]) as Array<
          [PyValue, PyValue]
        >),
      );
    }
    for (let i = 0; i < (v.setKeys?.length ?? 0); i++)
      out.push([v.setKeys?.[i] ?? null, v.setValues?.[i] ?? null]);
    return out;
  }
  return undefined;
}

function intList(v: PyValue | undefined): number[] | undefined {
  if (!isSeq(v)) return undefined;
  const out: number[] = [];
  for (const x of v.items) {
    const n = asInt(x);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function storageOf(v: PyValue | undefined): StorageRef | string {
  if (typeof v !== 'object' || v === null || (v as { kind?: string }).kind !== 'persistent')
    return 'its storage is not a persistent id';
  const pid = (v as { pid: PyValue }).pid;
  if (!isSeq(pid) || pid.items[0] !== 'storage' || pid.items.length < 5)
    return 'its persistent id is not a torch storage';
  const [, type, key, , numelV, view] = pid.items;
  if (!isGlobal(type)) return 'its storage type is not a name';
  const dt = STORAGE_DTYPES[type.name];
  if (!dt) return `its storage type ${type.qualified} has no safetensors dtype`;
  const numel = asInt(numelV);
  if (typeof key !== 'string' || numel === undefined || numel < 0)
    return 'its storage key or size is malformed';
  let viewOffset = 0;
  let viewNumel = numel;
  if (view !== undefined && view !== null) {
    // Legacy view metadata: (view_key, offset, view_size): the view is a slice of the root storage.
    if (!isSeq(view) || view.items.length !== 3) return 'its storage view metadata is malformed';
    const off = asInt(view.items[1]);
    const size = asInt(view.items[2]);
    if (
      typeof view.items[0] !== 'string' ||
      off === undefined ||
      size === undefined ||
      off < 0 ||
      size < 0 ||
      off + size > numel
    )
      return 'its storage view is outside the storage';
    viewOffset = off;
    viewNumel = size;
  }
  return { key, dtype: dt[0], elemSize: dt[1], numel: viewNumel, viewOffset };
}

/** Parse a tensor rebuild call into a TensorRef, or return why it cannot be converted. */
function tensorOf(name: string, call: PyCall, depth = 0): TensorRef | string {
  const fn = calleeName(call) ?? '';
  const args = isSeq(call.args) ? call.args.items : [];
  if (REBUILD_PARAMETER.has(fn)) {
    const data = args[0];
    return isCall(data) && depth < 4 ? tensorOf(name, data, depth + 1) : 'its parameter data is not a tensor';
  }
  if (fn === 'torch._tensor._rebuild_from_type_v2') {
    const [inner, type, innerArgs] = args;
    const t = isGlobal(type) ? type.qualified : '';
    if (!['torch.Tensor', 'torch.nn.parameter.Parameter', 'torch.nn.Parameter'].includes(t))
      return `it is a tensor subclass (${t || 'unknown'})`;
    if (!isGlobal(inner)) return 'its rebuild function is not a name';
    return depth < 4
      ? tensorOf(name, { ...call, fn: inner, args: innerArgs ?? null }, depth + 1)
      : 'tensor rebuilds nest too deeply';
  }
  if (UNSUPPORTED_TENSORS[fn]) return `it is ${UNSUPPORTED_TENSORS[fn]}, which safetensors cannot hold`;
  if (!REBUILD_TENSOR.has(fn)) return `it is ${describe(call)}`;
  const storage = storageOf(args[0]);
  if (typeof storage === 'string') return storage;
  const offset = asInt(args[1]);
  const shape = intList(args[2]);
  const stride = intList(args[3]);
  if (offset === undefined || offset < 0 || !shape || !stride || shape.length !== stride.length)
    return 'its offset, size or stride is malformed';
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0)) return 'it has a negative size or stride';
  let numel = 1;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    numel *= shape[i];
    last += Math.max(0, shape[i] - 1) * stride[i];
  }
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(last)) return 'its size overflows';
  if (numel > 0 && last >= storage.numel) return `it reads element ${last} of a storage of ${storage.numel}`;
  return { name, storage, offset, shape, stride };
}

export function stateDictOf(value: PyValue): StateDict {
  const out: StateDict = { tensors: [], metadata: {}, problems: [] };
  const seenNames = new Set<string>();
  const visit = (v: PyValue, prefix: string, depth: number) => {
    const entries = mappingEntries(v);
    if (entries) {
      if (depth > 64) {
        out.problems.push(`${prefix || '(top level)'}: mappings nest deeper than 64`);
        return;
      }
      // torch attaches per-module versions to a state dict as the OrderedDict's `_metadata` attribute.
      if (isCall(v) && isDict(v.state)) {
        const keys = v.state.keys;
        const md = v.state.values[keys.indexOf('_metadata')];
        if (md !== undefined)
          out.metadata[`${prefix ? `${prefix}.` : ''}_metadata`] = JSON.stringify(plain(md, 0));
      }
      for (const [k, x] of entries) {
        if (typeof k !== 'string') {
          out.problems.push(`${prefix || '(top level)'} has a key that is ${describe(k)}, not a name`);
          continue;
        }
        visit(x, prefix ? `${prefix}.${k}` : k, depth + 1);
      }
      return;
    }
    if (!prefix) {
      out.problems.push(`the checkpoint is ${describe(v)}, not a mapping of names to tensors`);
      return;
    }
    if (isCall(v)) {
      const t = tensorOf(prefix, v);
      if (typeof t !== 'string') {
        if (seenNames.has(prefix)) out.problems.push(`${prefix} appears twice`);
        seenNames.add(prefix);
        out.tensors.push(t);
        return;
      }
      out.problems.push(`${prefix}: ${t}`);
      return;
    }
    out.problems.push(`${prefix} is ${describe(v)}, not a tensor`);
  };
  visit(value, '', 0);
  return out;
}

/** A JSON-friendly copy of small metadata values (ints, strings, nested mappings). */
function plain(v: PyValue, depth: number): unknown {
  if (depth > 16) return '…';
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v.toString();
  const entries = mappingEntries(v);
  if (entries) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of entries.slice(0, 100_000)) o[String(k)] = plain(x, depth + 1);
    return o;
  }
  if (isSeq(v)) return v.items.slice(0, 1000).map((x) => plain(x, depth + 1));
  if ((v as { kind?: string }).kind === 'float') return (v as { value: number }).value;
  return describe(v);
}

export interface ChosenStateDict {
  state: StateDict;
  /** The entry of a training checkpoint the state dict was taken from (undefined: the whole file). */
  key?: string;
}

const nameOf = (k: PyValue) => (typeof k === 'string' ? k : undefined);

/**
 * The state dict of a checkpoint. Training checkpoints nest it (`{model, optimizer, epoch, ...}`): `key`
 * (dotted for deeper nesting) names the entry; without it, a file that is not itself a state dict but has
 * exactly one entry that is one (only tensors) yields that entry. Several candidates are ambiguous: the
 * error lists them so the user can pick one with `--key`.
 */
export function chooseStateDict(value: PyValue, key?: string): ChosenStateDict {
  if (key !== undefined) {
    let v = value;
    const path: string[] = [];
    for (const part of key.split('.')) {
      const entries = mappingEntries(v);
      const hit = entries?.find(([k]) => nameOf(k) === part);
      if (!hit) {
        const names = (entries ?? []).map(([k]) => nameOf(k)).filter((n): n is string => n !== undefined);
        throw inputError(
          `the checkpoint has no entry ${JSON.stringify([...path, part].join('.'))}`,
          names.length
            ? `its entries${path.length ? ` under ${path.join('.')}` : ''}: ${names.slice(0, 20).join(', ')}`
            : 'it is not a mapping',
        );
      }
      path.push(part);
      v = hit[1];
    }
    return { state: stateDictOf(v), key };
  }
  const whole = stateDictOf(value);
  if (!whole.problems.length) return { state: whole };
  const candidates: Array<{ key: string; state: StateDict }> = [];
  for (const [k, v] of mappingEntries(value) ?? []) {
    const name = nameOf(k);
    if (name === undefined || !mappingEntries(v)) continue;
    const s = stateDictOf(v);
    if (s.tensors.length && !s.problems.length) candidates.push({ key: name, state: s });
  }
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1)
    throw inputError(
      `the checkpoint holds ${candidates.length} state dicts: ${candidates.map((c) => `${c.key} (${c.state.tensors.length} tensors)`).join(', ')}`,
      'choose one with --key NAME',
    );
  return { state: whole };
}
