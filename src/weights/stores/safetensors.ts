/** safetensors files and shard sets as a TensorStore; headers validated by the scanner's own validator. */
import { open } from 'node:fs/promises';
import { validateSafetensors } from '../../artifacts/formats/safetensors.js';
import { FileSource } from '../../artifacts/source.js';
import { inputError } from '../../core/errors.js';
import { floatAccess } from '../decode.js';
import type { TensorEntry, TensorStore } from '../store.js';
import { readShardIndex } from './index-file.js';

interface Located {
  entry: TensorEntry;
  file: string;
  start: number;
  end: number;
}

async function header(file: string) {
  let src: FileSource;
  try {
    src = await FileSource.open(file);
  } catch (err) {
    const { describeFsError } = await import('../../core/errors.js');
    throw describeFsError(file, err);
  }
  try {
    const v = await validateSafetensors(src);
    if (!v.header)
      throw inputError(
        `${file} is not a valid safetensors file: ${v.problems[0]}`,
        'scan it with `antidote scan`',
      );
    return v.header;
  } finally {
    await src.close();
  }
}

export async function openSafetensors(path: string, isIndex: boolean): Promise<TensorStore> {
  const files = isIndex ? (await readShardIndex(path)).shards : [path];
  const index = isIndex ? await readShardIndex(path) : undefined;
  const byName = new Map<string, Located>();
  for (const file of files) {
    const h = await header(file);
    for (const t of h.tensors) {
      if (index && index.weightMap.get(t.name) !== file) continue;
      const numel = t.shape.reduce((a, b) => a * b, 1);
      byName.set(t.name, {
        entry: { name: t.name, dtype: t.dtype, shape: t.shape, numel, file },
        file,
        start: h.dataStart + t.begin,
        end: h.dataStart + t.end,
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
  // One handle per file, shared by concurrent reads (the promise is stored, so two reads never open twice).
  const handles = new Map<string, ReturnType<typeof open>>();
  const raw = async (name: string, into?: Uint8Array): Promise<Uint8Array> => {
    const t = byName.get(name);
    if (!t) throw inputError(`no tensor ${name}`);
    let pending = handles.get(t.file);
    if (!pending) {
      pending = open(t.file, 'r');
      handles.set(t.file, pending);
    }
    const fh = await pending;
    const n = t.end - t.start;
    const buf = into && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, t.start + got);
      if (bytesRead === 0) throw inputError(`${t.file} is shorter than its header says`);
      got += bytesRead;
    }
    return buf;
  };
  return {
    format: 'safetensors',
    files: isIndex ? [path, ...files] : files,
    tensors: [...byName.values()].map((t) => t.entry),
    raw,
    ...floatAccess((name) => byName.get(name)?.entry, raw),
    async close() {
      for (const pending of handles.values()) await (await pending).close();
      handles.clear();
    },
  };
}
