/**
 * Models exported for a fixed batch size. torch.onnx.export without dynamic axes writes every input with a
 * leading dimension of exactly the example's size (often 1); onnxruntime then refuses any other number of rows.
 * Such a model is run in windows of that size: the rows are cut into consecutive windows, the last one padded
 * by repeating the final row, and each output's rows are put back in order (padding dropped).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelError } from './types.js';

type Ort = typeof import('onnxruntime-node');
type Outputs = InferenceSession.OnnxValueMapType;

/** onnxruntime's error on one line: its message spreads what went wrong over several (which index, got, expected). */
export function ortMessage(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const text = lines.join('; ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** The batch size every input fixes, or undefined when the leading dimension is free (or inputs disagree). */
export function fixedBatch(inputs: readonly InferenceSession.ValueMetadata[]): number | undefined {
  let b: number | undefined;
  for (const meta of inputs) {
    if (!meta.isTensor) return undefined;
    const d = meta.shape[0];
    if (typeof d !== 'number' || !(d > 0)) return undefined;
    if (b !== undefined && b !== d) return undefined;
    b = d;
  }
  return b;
}

/** Rows [rows[0], ...] of a tensor whose leading dimension holds the instances. */
function takeRows(ort: Ort, t: Tensor, rows: number[]): Tensor {
  const width = t.dims.slice(1).reduce((a, d) => a * Number(d), 1);
  const dims = [rows.length, ...t.dims.slice(1).map(Number)];
  if (t.type === 'string') {
    const src = t.data as string[];
    const out: string[] = [];
    for (const r of rows) for (let j = 0; j < width; j++) out.push(src[r * width + j]);
    return new ort.Tensor('string', out, dims);
  }
  const src = t.data as Float32Array;
  const Ctor = src.constructor as new (n: number) => Float32Array;
  const out = new Ctor(rows.length * width);
  for (let k = 0; k < rows.length; k++)
    out.set(src.subarray(rows[k] * width, (rows[k] + 1) * width), k * width);
  return new ort.Tensor(t.type as 'float32', out, dims);
}

/**
 * session.run for `n` instances fed as `feeds` (leading dimension n): directly when the model takes any batch
 * size, else window by window of `fixed` rows. Every requested output must hold one entry per instance.
 */
export async function runRows(
  ort: Ort,
  session: InferenceSession,
  feeds: Record<string, Tensor>,
  names: string[],
  n: number,
  fixed: number | undefined,
  what: string,
): Promise<Outputs> {
  if (fixed === undefined || fixed === n) return await session.run(feeds, names);
  // Each output's windows, with how many of their leading rows are real (the rest repeat the last row).
  const parts = new Map<string, Array<{ t: Tensor; real: number }>>(names.map((k) => [k, []]));
  for (let lo = 0; lo < n; lo += fixed) {
    const rows = Array.from({ length: fixed }, (_, k) => Math.min(n - 1, lo + k));
    const window: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) window[k] = takeRows(ort, t, rows);
    const res = await session.run(window, names);
    const real = Math.min(fixed, n - lo);
    for (const k of names) {
      const t = res[k] as Tensor;
      if (Number(t.dims[0]) !== fixed)
        throw new ModelError(
          `${what} takes batches of exactly ${fixed} rows, but its output "${k}" has shape [${t.dims.join(', ')}], not one entry per row`,
          'export the model with a dynamic batch dimension',
        );
      parts.get(k)?.push({ t, real });
    }
  }
  const out: Record<string, Tensor> = {};
  for (const [k, ts] of parts) out[k] = concatRows(ort, ts);
  return out as Outputs;
}

/** The real leading rows of each window's output, in order, as one tensor. */
function concatRows(ort: Ort, parts: Array<{ t: Tensor; real: number }>): Tensor {
  const first = parts[0].t;
  const width = first.dims.slice(1).reduce((a, d) => a * Number(d), 1);
  const rows = parts.reduce((a, p) => a + p.real, 0);
  const dims = [rows, ...first.dims.slice(1).map(Number)];
  if (first.type === 'string')
    return new ort.Tensor(
      'string',
      parts.flatMap((p) => (p.t.data as string[]).slice(0, p.real * width)),
      dims,
    );
  const Ctor = (first.data as Float32Array).constructor as new (n: number) => Float32Array;
  const out = new Ctor(rows * width);
  let o = 0;
  for (const p of parts) {
    out.set((p.t.data as Float32Array).subarray(0, p.real * width), o);
    o += p.real * width;
  }
  return new ort.Tensor(first.type as 'float32', out, dims);
}
