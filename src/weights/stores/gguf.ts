/** GGUF files as a TensorStore: the scanner's bounds-checked header parser, then tensors dequantised on read. */
import { open } from 'node:fs/promises';
import { checkTensors, GGML_TYPES, GgufError, parseGguf } from '../../artifacts/formats/gguf.js';
import { FileSource } from '../../artifacts/source.js';
import { inputError } from '../../core/errors.js';
import { decodeFloat, FLOAT_DTYPES } from '../decode.js';
import { dequantize, GGML_QUANTS } from '../ggml-quants.js';
import type { TensorEntry, TensorStore } from '../store.js';

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
    if (!t) return undefined;
    if (GGML_QUANTS.has(t.entry.dtype)) return dequantize(t.entry.dtype, bytes, t.entry.numel);
    return FLOAT_DTYPES.has(t.entry.dtype) ? decodeFloat(t.entry.dtype, bytes, t.entry.numel) : undefined;
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
