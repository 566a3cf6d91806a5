/**
 * GGUF (llama.cpp) v1-v3: magic `GGUF`, u32 version, tensor count, metadata key/value pairs of 13 typed
 * kinds (arrays nest), tensor infos (name, dims, ggml type, offset), then alignment padding and the
 * tensor data. Hand-written because the point is to check every count, length and offset against the
 * file before trusting it (the class of bug behind llama.cpp's GGUF heap overflows); the reader streams
 * the metadata through a bounded window and never reads tensor data. `tokenizer.chat_template*` values
 * go through the Jinja inspector.
 */

import { pushAll } from '../../core/arrays.js';
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { templateFindings } from './jinja/index.js';
import { ggufMalformed, ggufMetadata } from './rules-meta.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

/** ggml type id -> [block size (elements), bytes per block]; ids removed from ggml are absent. */
export const GGML_TYPES: Readonly<Record<number, readonly [string, number, number]>> = {
  0: ['F32', 1, 4],
  1: ['F16', 1, 2],
  2: ['Q4_0', 32, 18],
  3: ['Q4_1', 32, 20],
  6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34],
  9: ['Q8_1', 32, 36],
  10: ['Q2_K', 256, 84],
  11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176],
  14: ['Q6_K', 256, 210],
  15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS', 256, 66],
  17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98],
  19: ['IQ1_S', 256, 50],
  20: ['IQ4_NL', 32, 18],
  21: ['IQ3_S', 256, 110],
  22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1],
  25: ['I16', 1, 2],
  26: ['I32', 1, 4],
  27: ['I64', 1, 8],
  28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56],
  30: ['BF16', 1, 2],
  34: ['TQ1_0', 256, 54],
  35: ['TQ2_0', 256, 66],
  39: ['MXFP4', 32, 17],
};

const VT = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
const FIXED_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};
const MAX_DIMS = 4;
const MAX_NAME = 64;
const MAX_ARRAY_NESTING = 8;

export class GgufError extends Error {}

/** A forward-only reader over a ByteSource with a bounded window; awaits only when the window runs out. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  pos = 0;
  private dv = new DataView(this.buf.buffer);
  constructor(
    private readonly src: ByteSource,
    private readonly chunk = 1 << 20,
  ) {}

  /** True when the next n bytes are already in the window (no await needed). */
  has(n: number): boolean {
    return this.pos + n <= this.bufStart + this.buf.length;
  }
  async need(n: number): Promise<void> {
    if (this.pos + n <= this.bufStart + this.buf.length) return;
    if (this.pos + n > this.src.size)
      throw new GgufError(`needs ${n} bytes at offset ${this.pos}, past the end of the file`);
    const len = Math.max(n, this.chunk);
    this.buf = await this.src.read(this.pos, len);
    this.bufStart = this.pos;
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    if (this.buf.length < n) throw new GgufError(`short read at offset ${this.pos}`);
  }
  private at(): number {
    return this.pos - this.bufStart;
  }
  u8(): number {
    const v = this.buf[this.at()];
    this.pos += 1;
    return v;
  }
  u32(): number {
    const v = this.dv.getUint32(this.at(), true);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.dv.getBigUint64(this.at(), true);
    this.pos += 8;
    return v;
  }
  i32(): number {
    const v = this.dv.getInt32(this.at(), true);
    this.pos += 4;
    return v;
  }
  f32(): number {
    const v = this.dv.getFloat32(this.at(), true);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    const v = this.buf.subarray(this.at(), this.at() + n);
    this.pos += n;
    return v;
  }
  skip(n: number): void {
    this.pos += n;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface GgufParse {
  version: number;
  metadata: Map<string, unknown>;
  tensors: Array<{ name: string; dims: bigint[]; type: number; offset: bigint }>;
  dataStart: number;
  alignment: number;
}

export function detectGguf({ head }: DetectInput): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

export async function parseGguf(src: ByteSource): Promise<GgufParse> {
  const c = new Cursor(src);
  await c.need(8);
  if (c.u32() !== 0x46554747) throw new GgufError('does not start with the GGUF magic');
  const version = c.u32();
  if (version < 1 || version > 3) throw new GgufError(`unsupported GGUF version ${version} (known: 1 to 3)`);
  const v1 = version === 1;
  const count = async (what: string, max: number): Promise<number> => {
    await c.need(v1 ? 4 : 8);
    const n = v1 ? BigInt(c.u32()) : c.u64();
    if (n > BigInt(max)) throw new GgufError(`${what} ${n} exceeds the limit of ${max}`);
    return Number(n);
  };
  const nTensors = await count('tensor count', LIMITS.headers.maxGgufTensors);
  const nKv = await count('metadata key/value count', LIMITS.headers.maxGgufKv);
  const str = async (what: string, keep = true): Promise<string> => {
    const n = await count(`${what} length`, LIMITS.headers.maxGgufString);
    await c.need(n);
    const b = c.bytes(n);
    if (!keep) return '';
    try {
      return utf8.decode(b);
    } catch {
      throw new GgufError(`${what} at offset ${c.pos - n} is not valid UTF-8`);
    }
  };
  const metadata = new Map<string, unknown>();
  let arrayBudget = LIMITS.headers.maxGgufArray;
  const value = async (type: number, key: string, depth: number, keep: boolean): Promise<unknown> => {
    const fixed = FIXED_SIZE[type];
    if (fixed !== undefined) {
      await c.need(fixed);
      switch (type) {
        case VT.UINT8:
          return c.u8();
        case VT.INT8:
          return (c.u8() << 24) >> 24;
        case VT.BOOL: {
          const b = c.u8();
          if (b > 1) throw new GgufError(`bool value ${b} of ${key} is neither 0 nor 1`);
          return b === 1;
        }
        case VT.UINT32:
          return c.u32();
        case VT.INT32:
          return c.i32();
        case VT.FLOAT32:
          return c.f32();
        case VT.UINT64:
          return c.u64();
        default:
          c.skip(fixed);
          return undefined;
      }
    }
    if (type === VT.STRING) return str(`string value of ${key}`, keep);
    if (type === VT.ARRAY) {
      if (depth >= MAX_ARRAY_NESTING)
        throw new GgufError(`arrays nested deeper than ${MAX_ARRAY_NESTING} in ${key}`);
      await c.need(4);
      const et = c.u32();
      if (et > VT.FLOAT64) throw new GgufError(`unknown array element type ${et} in ${key}`);
      const n = await count(`array length of ${key}`, LIMITS.headers.maxGgufArray);
      arrayBudget -= n;
      if (arrayBudget < 0)
        throw new GgufError(
          `metadata arrays hold more than ${LIMITS.headers.maxGgufArray} elements in total`,
        );
      const es = FIXED_SIZE[et];
      if (es !== undefined) {
        // Fixed-size elements: bounds-check and skip in one step (up to a few for the report).
        const total = n * es;
        if (c.pos + total > src.size)
          throw new GgufError(`array ${key} of ${n} elements runs past the end of the file`);
        const sample: unknown[] = [];
        for (let i = 0; i < Math.min(n, 8); i++) sample.push(await value(et, key, depth + 1, keep));
        c.pos += (n - Math.min(n, 8)) * es;
        return { array: n, sample };
      }
      const sample: unknown[] = [];
      const head = et === VT.STRING ? Math.min(n, 8) : n;
      for (let i = 0; i < head; i++) {
        const v = await value(et, key, depth + 1, keep);
        if (i < 8) sample.push(v);
      }
      // Strings past the sample (a 150k-token vocabulary): bounds-checked and skipped without a call per element.
      const lw = v1 ? 4 : 8;
      for (let i = head; i < n; i++) {
        if (!c.has(lw)) await c.need(lw);
        const len = v1 ? BigInt(c.u32()) : c.u64();
        if (len > BigInt(LIMITS.headers.maxGgufString))
          throw new GgufError(`string in array ${key} is ${len} bytes, over the limit`);
        const k = Number(len);
        if (!c.has(k)) await c.need(k);
        c.skip(k);
      }
      return { array: n, sample };
    }
    throw new GgufError(`unknown metadata value type ${type} for ${key}`);
  };
  for (let i = 0; i < nKv; i++) {
    const key = await str(`metadata key #${i}`);
    if (metadata.has(key)) throw new GgufError(`duplicate metadata key ${JSON.stringify(key.slice(0, 100))}`);
    await c.need(4);
    const type = c.u32();
    const keepWhole = /chat_template/.test(key) || type !== VT.ARRAY;
    metadata.set(key, await value(type, key, 0, keepWhole));
  }
  let alignment = 32;
  const al = metadata.get('general.alignment');
  if (al !== undefined) {
    if (typeof al !== 'number' || al <= 0 || (al & (al - 1)) !== 0 || al > 1 << 20)
      throw new GgufError(`general.alignment ${String(al)} is not a power of two up to 1 MiB`);
    alignment = al;
  }
  const tensors: GgufParse['tensors'] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = await str(`tensor name #${i}`);
    if (name.length >= MAX_NAME)
      throw new GgufError(
        `tensor name ${JSON.stringify(name.slice(0, 80))} is ${name.length} characters (limit ${MAX_NAME - 1})`,
      );
    if (names.has(name)) throw new GgufError(`duplicate tensor name ${JSON.stringify(name)}`);
    names.add(name);
    await c.need(4);
    const nd = c.u32();
    if (nd < 1 || nd > MAX_DIMS)
      throw new GgufError(`tensor ${name} has ${nd} dimensions (1 to ${MAX_DIMS} allowed)`);
    const dims: bigint[] = [];
    for (let d = 0; d < nd; d++) {
      await c.need(v1 ? 4 : 8);
      dims.push(v1 ? BigInt(c.u32()) : c.u64());
    }
    await c.need(12);
    const type = c.u32();
    const offset = c.u64();
    tensors.push({ name, dims, type, offset });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  return { version, metadata, tensors, dataStart, alignment };
}

export function checkTensors(p: GgufParse, size: number): void {
  const spans: Array<[bigint, bigint, string]> = [];
  const dataLen = BigInt(Math.max(0, size - p.dataStart));
  if (p.tensors.length > 0 && p.dataStart > size)
    throw new GgufError(`tensor data would start at ${p.dataStart}, past the end of the file`);
  for (const t of p.tensors) {
    const ty = GGML_TYPES[t.type];
    if (!ty) throw new GgufError(`tensor ${t.name} has unknown ggml type ${t.type}`);
    const [tname, block, bytes] = ty;
    let n = 1n;
    for (const d of t.dims) {
      if (d === 0n || d > 1n << 53n) throw new GgufError(`tensor ${t.name} has dimension ${d}`);
      n *= d;
    }
    if (n > 1n << 53n) throw new GgufError(`tensor ${t.name} has ${n} elements`);
    if (t.dims[0] % BigInt(block) !== 0n)
      throw new GgufError(
        `tensor ${t.name} first dimension ${t.dims[0]} is not a multiple of the ${tname} block size ${block}`,
      );
    const nbytes = (n / BigInt(block)) * BigInt(bytes);
    if (t.offset % BigInt(p.alignment) !== 0n)
      throw new GgufError(`tensor ${t.name} offset ${t.offset} is not aligned to ${p.alignment}`);
    if (t.offset + nbytes > dataLen)
      throw new GgufError(
        `tensor ${t.name} [${t.offset}, ${t.offset + nbytes}) is outside the ${dataLen}-byte data section`,
      );
    spans.push([t.offset, t.offset + nbytes, t.name]);
  }
  spans.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1])
      throw new GgufError(`tensors ${spans[i - 1][2]} and ${spans[i][2]} overlap`);
  }
}

export async function scanGguf(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  let p: GgufParse;
  try {
    p = await parseGguf(source);
    checkTensors(p, source.size);
  } catch (err) {
    if (!(err instanceof GgufError)) throw err;
    findings.push(
      makeFinding(ggufMalformed, `GGUF ${err.message}; do not load this file`, {
        location,
        evidence: { problem: err.message },
      }),
    );
    return { format: 'gguf', complete: false, findings };
  }
  for (const [key, v] of p.metadata) {
    if (!/chat_template/.test(key)) continue;
    const templates = typeof v === 'string' ? [v] : [];
    for (const t of templates) pushAll(findings, templateFindings(t, `GGUF key ${key}`, location, { key }));
  }
  const pick = (k: string) => {
    const v = p.metadata.get(k);
    return typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? undefined : v;
  };
  const types: Record<string, number> = {};
  for (const t of p.tensors) {
    const n = GGML_TYPES[t.type][0];
    types[n] = (types[n] ?? 0) + 1;
  }
  const details = {
    version: p.version,
    architecture: pick('general.architecture'),
    name: pick('general.name'),
    tensors: p.tensors.length,
    metadataKeys: p.metadata.size,
    tensorTypes: types,
    chatTemplate: p.metadata.has('tokenizer.chat_template'),
  };
  findings.push(
    makeFinding(ggufMetadata, `GGUF v${p.version} with ${p.tensors.length} tensors`, {
      location,
      evidence: details,
    }),
  );
  return { format: 'gguf', complete: true, findings, details };
}

export const ggufFormat: FormatScanner = {
  id: 'gguf',
  title: 'GGUF',
  detect: detectGguf,
  scan: (source, ctx) => scanGguf(source, ctx),
};
