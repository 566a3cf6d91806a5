/**
 * Opens a PyTorch checkpoint for conversion without loading it: the zip format (`<prefix>/data.pkl` with
 * storages in `<prefix>/data/<key>`) and the legacy format (five pickles in a row: magic number, protocol,
 * system info, the object, the list of storage keys; then for each key an int64 element count and the raw
 * storage bytes). The object pickle goes through the pickle analyser; its symbolic value becomes a state
 * dict (state-dict.ts) and every storage key is mapped to where its bytes lie.
 */
import { inputError } from '../../core/errors.js';
import type { Finding } from '../../core/finding.js';
import { atLeast } from '../../core/severity.js';
import { openZip, readEntry } from '../containers/zip.js';
import { analyzePickle, type Policy } from '../pickle/api.js';
import { asInt, isDict, isGlobal, isSeq, type PyValue } from '../pickle/value.js';
import type { ByteSource } from '../source.js';
import { STORAGE_DTYPES } from './dtypes.js';
import { chooseStateDict, type StateDict } from './state-dict.js';

/** Where one storage's bytes are: a range of the input file, or bytes in memory (a deflated zip entry). */
export interface StorageBytes {
  fileOffset?: number;
  memory?: Uint8Array;
  byteLength: number;
}

export interface Checkpoint {
  format: 'pytorch-zip' | 'pytorch-legacy';
  state: StateDict;
  /** The entry of a training checkpoint the state dict came from, when it was nested. */
  key?: string;
  storages: Map<string, StorageBytes>;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function pickleFailure(file: string, what: string, findings: Finding[]): Error {
  const worst = findings.find((f) => atLeast(f.severity, 'high'));
  return inputError(
    `${file}: the ${what} cannot be read as a plain checkpoint${worst ? `: ${worst.message}` : ''}`,
    'scan it with `antidote scan` for details',
  );
}

/** Storage key -> bytes per element, from the persistent ids the pickle declared. */
function elementSizes(pids: unknown[]): Map<string, { elemSize: number; numel: number }> {
  const out = new Map<string, { elemSize: number; numel: number }>();
  for (const pid of pids as PyValue[]) {
    if (!isSeq(pid) || pid.items[0] !== 'storage') continue;
    const [, type, key, , n] = pid.items;
    const dt = isGlobal(type) ? STORAGE_DTYPES[type.name] : undefined;
    const numel = asInt(n);
    if (typeof key === 'string' && dt && numel !== undefined) out.set(key, { elemSize: dt[1], numel });
  }
  return out;
}

export async function openCheckpoint(
  source: ByteSource,
  file: string,
  policy: Policy,
  key?: string,
): Promise<Checkpoint> {
  const head = await source.read(0, 4);
  if (head[0] === 0x50 && head[1] === 0x4b) return openZipCheckpoint(source, file, policy, key);
  if (head[0] === 0x80) return openLegacyCheckpoint(source, file, policy, key);
  const tarMagic = await source.read(257, 5);
  if (Buffer.from(tarMagic).toString('latin1') === 'ustar') {
    throw inputError(
      `${file}: the oldest (tar) PyTorch format is not converted`,
      'load and re-save it with a current torch in a sandbox, then convert',
    );
  }
  throw inputError(
    `${file}: not a PyTorch checkpoint (neither the zip nor the legacy format)`,
    'convert accepts files written by torch.save',
  );
}

async function openZipCheckpoint(
  source: ByteSource,
  file: string,
  policy: Policy,
  key?: string,
): Promise<Checkpoint> {
  const zip = await openZip(source);
  if (zip.fatal) throw inputError(`${file}: the zip archive cannot be read: ${zip.fatal}`);
  const pkls = zip.entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkls.length !== 1)
    throw inputError(
      `${file}: expected one <archive>/data.pkl, found ${pkls.length}`,
      'is this a TorchScript archive or another zip?',
    );
  const prefix = pkls[0].name.slice(0, -'data.pkl'.length);
  const byName = new Map(zip.entries.map((e) => [e.name, e]));
  if (
    byName.has(`${prefix}constants.pkl`) ||
    [...byName.keys()].some((n) => n.startsWith(`${prefix}code/`))
  ) {
    throw inputError(
      `${file}: this is a TorchScript archive, not a checkpoint of tensors`,
      'export its state_dict() with torch.save first',
    );
  }
  const order = byName.get(`${prefix}byteorder`);
  if (order) {
    const text = Buffer.from((await readEntry(zip, order, 64)).bytes)
      .toString('latin1')
      .trim();
    if (text !== 'little')
      throw inputError(`${file}: storages are ${text}-endian; only little-endian checkpoints are converted`);
  }
  const { bytes } = await readEntry(zip, pkls[0]);
  const r = analyzePickle(bytes, { policy, location: { file, entry: pkls[0].name } });
  if (!r.complete || r.value === undefined || r.findings.some((f) => atLeast(f.severity, 'high')))
    throw pickleFailure(file, pkls[0].name, r.findings);
  const chosen = chooseStateDict(r.value as PyValue, key);
  const storages = new Map<string, StorageBytes>();
  for (const [key, { elemSize, numel }] of elementSizes(r.persistentIds)) {
    const e = byName.get(`${prefix}data/${key}`);
    if (!e) throw inputError(`${file}: storage ${key} is missing (${prefix}data/${key})`);
    const need = elemSize * numel;
    if (e.uncompressedSize < need)
      throw inputError(`${file}: storage ${key} has ${e.uncompressedSize} bytes, ${need} expected`);
    if (e.method === 0 && !e.encryptedFlag && e.dataOffset >= 0)
      storages.set(key, { fileOffset: e.dataOffset, byteLength: need });
    else storages.set(key, { memory: (await readEntry(zip, e)).bytes, byteLength: need });
  }
  return { format: 'pytorch-zip', state: chosen.state, key: chosen.key, storages };
}

async function openLegacyCheckpoint(
  source: ByteSource,
  file: string,
  policy: Policy,
  key?: string,
): Promise<Checkpoint> {
  // The pickles come first; read a growing prefix until all five parse (storages follow them).
  let len = Math.min(source.size, 1 << 20);
  for (;;) {
    const bytes = await source.read(0, len);
    const results = [];
    let off = 0;
    let ok = true;
    for (let i = 0; i < 5; i++) {
      const r = analyzePickle(bytes, { policy, location: { file, offset: off }, start: off });
      if (!r.complete) {
        ok = false;
        if (len >= source.size) throw pickleFailure(file, `legacy pickle #${i + 1}`, r.findings);
        break;
      }
      if (r.findings.some((f) => atLeast(f.severity, 'high')))
        throw pickleFailure(file, `legacy pickle #${i + 1}`, r.findings);
      results.push(r);
      off = r.end;
    }
    if (!ok) {
      len = Math.min(source.size, len * 4);
      continue;
    }
    const [magic, , sysInfo, main, keys] = results;
    const m = magic.value as PyValue;
    if (typeof m !== 'bigint' || m !== LEGACY_MAGIC)
      throw inputError(`${file}: not a legacy PyTorch checkpoint (bad magic number)`);
    if (isDict(sysInfo.value as PyValue)) {
      const d = sysInfo.value as { keys: PyValue[]; values: PyValue[] };
      if (d.values[d.keys.indexOf('little_endian')] === false)
        throw inputError(`${file}: storages are big-endian; only little-endian checkpoints are converted`);
    }
    const chosen = chooseStateDict(main.value as PyValue, key);
    const sizes = elementSizes(main.persistentIds);
    const keyList = keys.value as PyValue;
    if (!isSeq(keyList)) throw inputError(`${file}: the legacy storage key list is malformed`);
    const storages = new Map<string, StorageBytes>();
    let pos = off;
    for (const k of keyList.items) {
      if (typeof k !== 'string') throw inputError(`${file}: a legacy storage key is not a string`);
      const info = sizes.get(k);
      if (!info) throw inputError(`${file}: storage ${k} is not declared by the checkpoint`);
      const hdr = await source.read(pos, 8);
      if (hdr.length < 8) throw inputError(`${file}: storage ${k} is truncated`);
      const numel = Number(Buffer.from(hdr).readBigInt64LE(0));
      if (numel !== info.numel)
        throw inputError(`${file}: storage ${k} holds ${numel} elements, ${info.numel} declared`);
      const byteLength = numel * info.elemSize;
      if (pos + 8 + byteLength > source.size)
        throw inputError(`${file}: storage ${k} runs past the end of the file`);
      storages.set(k, { fileOffset: pos + 8, byteLength });
      pos += 8 + byteLength;
    }
    return { format: 'pytorch-legacy', state: chosen.state, key: chosen.key, storages };
  }
}
