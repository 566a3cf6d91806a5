/** Writers for the small model files the weight-forensics tests build (safetensors, GGUF). */
import { readFileSync, writeFileSync } from 'node:fs';

export type FloatDtype = 'F32' | 'F16' | 'BF16';

/**
 * F32 values in `dtype`, rounded as PyTorch's `.to()` converts them (ties to even). Written bit by bit here,
 * apart from the reader's own rounding, so a test of it is not the code checking itself.
 */
export function encodeFloats(dtype: FloatDtype, data: Float32Array): Buffer {
  if (dtype === 'F32') return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bits = new Uint32Array(Float32Array.from(data).buffer);
  const out = Buffer.alloc(data.length * 2);
  for (let i = 0; i < data.length; i++)
    out.writeUInt16LE(dtype === 'BF16' ? bf16Bits(bits[i]) : f16Bits(bits[i]), i * 2);
  return out;
}

function bf16Bits(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000) return u >>> 16;
  const hi = u >>> 16;
  const rem = u & 0xffff;
  return rem > 0x8000 || (rem === 0x8000 && hi & 1) ? hi + 1 : hi;
}

function f16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const man = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = man | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

function f16(x: number): number {
  return f16Bits(new Uint32Array(new Float32Array([x]).buffer)[0]);
}

/** An F16 value's bits as a number. */
function fromF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A safetensors file: float tensors from their values, or any dtype from its bytes (`raw`). */
export function writeSafetensors(
  path: string,
  tensors: Record<
    string,
    | { dtype: FloatDtype; shape: number[]; data: Float32Array }
    | { dtype: string; shape: number[]; raw: Buffer }
  >,
): void {
  const header: Record<string, unknown> = {};
  const blobs: Buffer[] = [];
  let pos = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const b = 'raw' in t ? t.raw : encodeFloats(t.dtype, t.data);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + b.length] };
    blobs.push(b);
    pos += b.length;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, ...blobs]));
}

/** The F32 or F16 tensors of a safetensors file, as F32 values with their stored dtype. */
export function readSafetensors(
  path: string,
): Record<string, { dtype: 'F32' | 'F16'; shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: Record<string, { dtype: 'F32' | 'F16'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bytes = Uint8Array.from(buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]));
    if (t.dtype === 'F32') out[name] = { dtype: 'F32', shape: t.shape, data: new Float32Array(bytes.buffer) };
    else if (t.dtype === 'F16')
      out[name] = {
        dtype: 'F16',
        shape: t.shape,
        data: Float32Array.from(new Uint16Array(bytes.buffer), fromF16),
      };
    else throw new Error(`${name}: ${t.dtype}, not F32 or F16`);
  }
  return out;
}

/**
 * A GGUF v3 file with 2-D tensors of rows x `cols` columns (default 32): F32, F16, Q8_0 and Q4_0 quantised
 * here from `values`, or a block format from its bytes (`raw`).
 */
export function writeGguf(
  path: string,
  tensors: Array<
    | {
        name: string;
        type: 'F32' | 'F16' | 'Q8_0' | 'Q4_0';
        rows: number;
        cols?: number;
        values: Float32Array;
      }
    | { name: string; type: 'Q4_K' | 'Q5_K' | 'Q6_K'; rows: number; cols: number; raw: Uint8Array }
  >,
): void {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  const TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, Q4_K: 12, Q5_K: 13, Q6_K: 14 } as const;
  const datas: Buffer[] = [];
  for (const t of tensors) {
    if ('raw' in t) {
      datas.push(Buffer.from(t.raw));
      continue;
    }
    const v = t.values;
    if (t.type === 'F32') datas.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    else if (t.type === 'F16') {
      const b = Buffer.alloc(v.length * 2);
      for (const [i, x] of v.entries()) b.writeUInt16LE(f16(x), i * 2);
      datas.push(b);
    } else if (t.type === 'Q8_0') {
      const b = Buffer.alloc((v.length / 32) * 34);
      for (let k = 0; k < v.length / 32; k++) {
        let amax = 0;
        for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[k * 32 + j]));
        const d = amax / 127;
        b.writeUInt16LE(f16(d), k * 34);
        for (let j = 0; j < 32; j++) b.writeInt8(d ? Math.round(v[k * 32 + j] / d) : 0, k * 34 + 2 + j);
      }
      datas.push(b);
    } else {
      const b = Buffer.alloc((v.length / 32) * 18);
      for (let k = 0; k < v.length / 32; k++) {
        let amax = 0;
        let max = 0;
        for (let j = 0; j < 32; j++) {
          const x = v[k * 32 + j];
          if (Math.abs(x) > amax) {
            amax = Math.abs(x);
            max = x;
          }
        }
        const d = max / -8;
        b.writeUInt16LE(f16(d), k * 18);
        const q = (x: number) => Math.max(0, Math.min(15, Math.round(d ? x / d + 8 : 8)));
        for (let j = 0; j < 16; j++) b[k * 18 + 2 + j] = q(v[k * 32 + j]) | (q(v[k * 32 + j + 16]) << 4);
      }
      datas.push(b);
    }
  }
  parts.push(Buffer.from('GGUF'), u32(3), u64(tensors.length), u64(1));
  parts.push(str('general.architecture'), u32(8), str('llama'));
  let off = 0;
  tensors.forEach((t, i) => {
    parts.push(str(t.name), u32(2), u64(t.cols ?? 32), u64(t.rows), u32(TYPE[t.type]), u64(off));
    off += Math.ceil(datas[i].length / 32) * 32;
  });
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  const body = datas.map((d) => Buffer.concat([d, Buffer.alloc((32 - (d.length % 32)) % 32)]));
  writeFileSync(path, Buffer.concat([head, ...body]));
}
