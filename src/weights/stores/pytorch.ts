/**
 * PyTorch checkpoints (zip and legacy, single or sharded by `pytorch_model.bin.index.json`) as a
 * TensorStore, without unpickling: each file is scanned first and refused when the scan blocks it; the
 * state dict is then rebuilt from the pickle's symbolic value by the converter's reader (a training
 * checkpoint's nested state dict is found the same way `convert` finds it).
 */
import { open } from 'node:fs/promises';
import { SyncFileSource } from '../../artifacts/containers/sync-source.js';
import { type Checkpoint, openCheckpoint } from '../../artifacts/convert/checkpoint.js';
import { gather, isContiguous, StorageReader } from '../../artifacts/convert/index.js';
import type { TensorRef } from '../../artifacts/convert/state-dict.js';
import { loadPolicy } from '../../artifacts/pickle/api.js';
import { AntidoteError, inputError } from '../../core/errors.js';
import { floatAccess } from '../decode.js';
import type { OpenOptions, TensorEntry, TensorStore } from '../store.js';
import { readShardIndex } from './index-file.js';

interface Located {
  entry: TensorEntry;
  ref: TensorRef;
  ckpt: Checkpoint;
  file: string;
}

async function refuseIfBlocked(file: string, opts: OpenOptions): Promise<void> {
  const { scanPaths } = await import('../../artifacts/scan.js');
  const report = await scanPaths([file], {
    failOn: 'high',
    allow: opts.allow ?? [],
    policyFile: opts.policyFile,
  });
  const blocked = report.results.find((r) => r.verdict === 'block');
  if (blocked) {
    const worst = blocked.findings.find((f) => f.severity === 'critical' || f.severity === 'high');
    throw inputError(
      `${file} is blocked by the scan${worst ? ` (${worst.rule}: ${worst.message})` : ''}; it is not read`,
      'scan it with `antidote scan` to see why',
    );
  }
}

export async function openPytorch(path: string, isIndex: boolean, opts: OpenOptions): Promise<TensorStore> {
  const index = isIndex ? await readShardIndex(path) : undefined;
  const files = index ? index.shards : [path];
  const policy = loadPolicy(opts.policyFile, opts.allow ?? []);
  const byName = new Map<string, Located>();
  for (const file of files) {
    await refuseIfBlocked(file, opts);
    const source = SyncFileSource.open(file, file);
    let ckpt: Checkpoint;
    try {
      ckpt = await openCheckpoint(source, file, policy);
    } catch (err) {
      if (err instanceof AntidoteError) throw err;
      throw inputError(`${file} cannot be read as a checkpoint: ${(err as Error).message}`);
    } finally {
      await source.close();
    }
    if (ckpt.state.problems.length)
      throw inputError(
        `${file} is not a plain mapping of names to tensors: ${ckpt.state.problems.slice(0, 3).join('; ')}`,
        'compare state dicts (torch.save(model.state_dict(), path))',
      );
    for (const ref of ckpt.state.tensors) {
      if (index && index.weightMap.get(ref.name) !== file) continue;
      const numel = ref.shape.reduce((a, b) => a * b, 1);
      byName.set(ref.name, {
        entry: { name: ref.name, dtype: ref.storage.dtype, shape: ref.shape, numel, file },
        ref,
        ckpt,
        file,
      });
    }
  }
  if (index) {
    const missing = [...index.weightMap.keys()].filter((n) => !byName.has(n));
    if (missing.length)
      throw inputError(
        `${path} lists ${missing.length} tensor(s) its shards do not hold (first: ${missing[0]})`,
      );
  }
  // One reader per file, shared by concurrent reads (the promise is stored, so two reads never open twice).
  const readers = new Map<string, Promise<{ reader: StorageReader; close: () => Promise<void> }>>();
  const raw = async (name: string): Promise<Uint8Array> => {
    const t = byName.get(name);
    if (!t) throw inputError(`no tensor ${name}`);
    let pending = readers.get(t.file);
    if (!pending) {
      pending = open(t.file, 'r').then((fh) => ({ reader: new StorageReader(fh), close: () => fh.close() }));
      readers.set(t.file, pending);
    }
    const r = await pending;
    const s = t.ckpt.storages.get(t.ref.storage.key);
    if (!s) throw inputError(`${name}: storage ${t.ref.storage.key} not found in ${t.file}`);
    const es = t.ref.storage.elemSize;
    const base = t.ref.storage.viewOffset;
    if (isContiguous(t.ref)) {
      const out = new Uint8Array(t.entry.numel * es);
      await r.reader.read(s, (base + t.ref.offset) * es, out.length, out);
      return out;
    }
    let hi = t.ref.offset;
    for (let i = 0; i < t.ref.shape.length; i++) hi += (t.ref.shape[i] - 1) * t.ref.stride[i];
    const lo = Math.min(t.ref.offset, hi);
    const region = new Uint8Array((Math.max(hi, t.ref.offset) - lo + 1) * es);
    await r.reader.read(s, (base + lo) * es, region.length, region);
    return gather(region, lo, t.ref, es);
  };
  return {
    format: 'pytorch',
    files: index ? [path, ...files] : files,
    tensors: [...byName.values()].map((t) => t.entry),
    raw,
    ...floatAccess((name) => byName.get(name)?.entry, raw),
    async close() {
      for (const r of readers.values()) await (await r).close();
      readers.clear();
    },
  };
}
