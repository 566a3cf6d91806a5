/** Writers for the small model files the weight-forensics tests build (safetensors, GGUF). */
import { writeFileSync } from 'node:fs';

export function writeSafetensors(
  path: string,
  tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>,
): void {
  const header: Record<string, unknown> = {};
  const blobs: Buffer[] = [];
  let pos = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const b = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
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

function f16(x: number): number {
  // Round-to-nearest half precision for the small, normal values the tests use.
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const man = u & 0x7fffff;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | Math.round(man / 8192);
}

/** A GGUF v3 file with F32, F16, Q8_0 and Q4_0 tensors (2-D, rows x 32 columns). */
export function writeGguf(
  path: string,
  tensors: Array<{ name: string; type: 'F32' | 'F16' | 'Q8_0' | 'Q4_0'; rows: number; values: Float32Array }>,
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
  const TYPE = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8 } as const;
  const datas: Buffer[] = [];
  for (const t of tensors) {
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
    parts.push(str(t.name), u32(2), u64(32), u64(t.rows), u32(TYPE[t.type]), u64(off));
    off += Math.ceil(datas[i].length / 32) * 32;
  });
  let head = Buffer.concat(parts);
  head = Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32)]);
  const body = datas.map((d) => Buffer.concat([d, Buffer.alloc((32 - (d.length % 32)) % 32)]));
  writeFileSync(path, Buffer.concat([head, ...body]));
}
