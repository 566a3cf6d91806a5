/** GGUF files as a TensorStore: the scanner's bounds-checked header parser, then tensors dequantised on read. */
import { open } from 'node:fs/promises';
import { checkTensors, GGML_TYPES, GgufError, parseGguf } from '../../artifacts/formats/gguf.js';
import { FileSource } from '../../artifacts/source.js';
import { inputError } from '../../core/errors.js';
import { decodeFloat, dequantQ4_0, dequantQ8_0 } from '../decode.js';
import type { TensorEntry, TensorStore } from '../store.js';

const DECODABLE = new Set(['F32', 'F16', 'BF16', 'F64', 'Q8_0', 'Q4_0']);

export async function openGguf(path: string): Promise<TensorStore> {
  const src = await FileSource.open(path);
  const where = new Map<string, { entry: TensorEntry; start: number; bytes: number }>();
  try {
    const p = await parseGguf(src);
    checkTensors(p, src.size);
    for (const t of p.tensors) {
      const [dtype, block, bytesPerBlock] = GGML_TYPES[t.type];
      // GGUF lists dimensions innermost first; report them outermost first like the other formats.
      const shape = t.dims.map(Number).reverse();
      const numel = shape.reduce((a, b) => a * b, 1);
      where.set(t.name, {
        entry: { name: t.name, dtype, shape, numel, file: path },
        start: p.dataStart + Number(t.offset),
        bytes: (numel / block) * bytesPerBlock,
      });
    }
  } catch (err) {
    if (err instanceof GgufError) throw inputError(`${path} is not a valid GGUF file: ${err.message}`);
    throw err;
  } finally {
    await src.close();
  }
  const fh = await open(path, 'r');
  const raw = async (name: string) => {
    const t = where.get(name);
    if (!t) throw inputError(`no tensor ${name}`);
    const buf = new Uint8Array(t.bytes);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, t.start + got);
      if (bytesRead === 0) throw inputError(`${path} is shorter than its header says`);
      got += bytesRead;
    }
    return buf;
  };
  const decode = (name: string, bytes: Uint8Array): Float32Array | undefined => {
    const t = where.get(name);
    if (!t || !DECODABLE.has(t.entry.dtype)) return undefined;
    if (t.entry.dtype === 'Q8_0') return dequantQ8_0(bytes, t.entry.numel);
    if (t.entry.dtype === 'Q4_0') return dequantQ4_0(bytes, t.entry.numel);
    return decodeFloat(t.entry.dtype, bytes, t.entry.numel);
  };
  return {
    format: 'gguf',
    files: [path],
    tensors: [...where.values()].map((t) => t.entry),
    raw,
    decode,
    read: async (name) => decode(name, await raw(name)),
    close: () => fh.close(),
  };
}
