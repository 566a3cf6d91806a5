/**
 * A model's tensors, read one at a time: the reader shared by `diff` and adapter forensics. Formats:
 * safetensors (single files and shards listed in `model.safetensors.index.json`), PyTorch checkpoints (zip
 * and legacy, through the execution-free pickle reader; a checkpoint the scan blocks is refused), and GGUF
 * (F32, F16, BF16, and ggml's block formats dequantised). Only headers are read up front; a tensor's bytes
 * are read when it is asked for, so memory follows the largest tensor, not the model.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describeFsError, inputError } from '../core/errors.js';

export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
  /** The file the tensor lives in (a shard, for sharded models). */
  file: string;
}

export interface TensorStore {
  format: 'safetensors' | 'pytorch' | 'gguf';
  /** The model files read. */
  files: string[];
  tensors: TensorEntry[];
  /** The tensor's values as float32, or undefined for dtypes that are not floating point (ints, bools). */
  read(name: string): Promise<Float32Array | undefined>;
  /**
   * The tensor's raw bytes as stored (to tell identical tensors apart without decoding). With `into` large
   * enough, stores that read files read into it and return a view of it (no allocation per tensor); the
   * view is only valid until the caller reuses `into`.
   */
  raw(name: string, into?: Uint8Array): Promise<Uint8Array>;
  /** Bytes from `raw` as float32 (F32 returns a view of them), or undefined for dtypes without float values. */
  decode(name: string, bytes: Uint8Array): Float32Array | undefined;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Pre-scan policy for PyTorch checkpoints (allowed globals). */
  allow?: string[];
  policyFile?: string;
}

/** Weight files a folder is looked up for, in order of preference (the first kind present wins). */
const FOLDER_CANDIDATES: Array<[RegExp, string]> = [
  [/^model\.safetensors\.index\.json$/, 'safetensors-index'],
  [/^model\.safetensors$/, 'safetensors'],
  [/^adapter_model\.safetensors$/, 'safetensors'],
  [/^pytorch_model\.bin\.index\.json$/, 'pytorch-index'],
  [/^pytorch_model\.bin$/, 'pytorch'],
  [/^adapter_model\.bin$/, 'pytorch'],
  [/\.safetensors$/, 'safetensors'],
  [/\.gguf$/, 'gguf'],
  [/\.(bin|pt|pth)$/, 'pytorch'],
];

async function pickInFolder(dir: string): Promise<{ path: string; kind: string }> {
  const names = (await readdir(dir)).sort();
  for (const [re, kind] of FOLDER_CANDIDATES) {
    const hit = names.filter((n) => re.test(n));
    if (hit.length === 1) return { path: join(dir, hit[0]), kind };
    if (hit.length > 1 && (kind === 'safetensors' || kind === 'gguf' || kind === 'pytorch'))
      throw inputError(
        `${dir} holds several weight files (${hit.slice(0, 4).join(', ')}) and no index naming them`,
        'name the file to compare',
      );
  }
  throw inputError(
    `${dir} holds no model weights (safetensors, PyTorch or GGUF)`,
    'name a model file or folder',
  );
}

async function kindOfFile(path: string): Promise<string> {
  const name = basename(path);
  if (name.endsWith('.index.json'))
    return name.includes('safetensors') ? 'safetensors-index' : 'pytorch-index';
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(16);
    await fh.read(head, 0, 16, 0);
    const size = (await fh.stat()).size;
    // safetensors first: its 8-byte header length may begin with any byte, pickle opcodes included.
    const headerLen = Number(Buffer.from(head.buffer).readBigUInt64LE(0));
    if (head[8] === 0x7b && headerLen >= 2 && 8 + headerLen <= size) return 'safetensors';
    if (head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) return 'gguf';
    if (head[0] === 0x50 && head[1] === 0x4b) return 'pytorch';
    if (head[0] === 0x80) return 'pytorch';
  } finally {
    await fh.close();
  }
  throw inputError(`${path} is not a safetensors, PyTorch or GGUF model file`, 'name a model file or folder');
}

/** Open a model file or folder. The caller closes the store. */
export async function openModel(path: string, opts: OpenOptions = {}): Promise<TensorStore> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (err) {
    throw describeFsError(path, err);
  }
  const { path: file, kind } = st.isDirectory()
    ? await pickInFolder(path)
    : { path, kind: await kindOfFile(path) };
  switch (kind) {
    case 'safetensors':
    case 'safetensors-index': {
      const { openSafetensors } = await import('./stores/safetensors.js');
      return openSafetensors(file, kind === 'safetensors-index');
    }
    case 'gguf': {
      const { openGguf } = await import('./stores/gguf.js');
      return openGguf(file);
    }
    default: {
      const { openPytorch } = await import('./stores/pytorch.js');
      return openPytorch(file, kind === 'pytorch-index', opts);
    }
  }
}
