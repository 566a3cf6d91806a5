/** Byte-level builders of hostile inputs (GGUF, tar, zip, pickle, safetensors, npy), so the suite commits no large fixtures. */
import { crc32, deflateRawSync } from 'node:zlib';

const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const le64 = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const ggufStr = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([le64(b.length), b]);
};

/** A GGUF v3 file with string metadata and no tensors. */
export function gguf(kvs: Array<[string, string]>): Buffer {
  const parts = [Buffer.from('GGUF'), le32(3), le64(0), le64(kvs.length)];
  for (const [k, v] of kvs) parts.push(ggufStr(k), le32(8), ggufStr(v));
  return Buffer.concat(parts);
}

export interface TarMember {
  name: string;
  type?: string;
  data?: Buffer | string;
  linkname?: string;
  pax?: Record<string, string>;
  /** Write the name as a GNU long-name ('L') record. */
  gnuLong?: boolean;
  gnuLongLink?: boolean;
}

function tarHeader(name: string, size: number, type: string, linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'latin1');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname.slice(0, 100), 157, 'latin1');
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}
const pad512 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

export function tar(members: TarMember[], trailer = true): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    const data = Buffer.from(m.data ?? '');
    if (m.pax) {
      const body = Buffer.from(
        Object.entries(m.pax)
          .map(([k, v]) => {
            const rec = ` ${k}=${v}\n`;
            let len = rec.length + 1;
            while (`${len}${rec}`.length !== len) len = `${len}${rec}`.length;
            return `${len}${rec}`;
          })
          .join(''),
      );
      parts.push(tarHeader('././@PaxHeader', body.length, 'x'), pad512(body));
    }
    if (m.gnuLong) {
      const body = Buffer.from(`${m.name}\0`);
      parts.push(tarHeader('././@LongLink', body.length, 'L'), pad512(body));
    }
    if (m.gnuLongLink && m.linkname) {
      const body = Buffer.from(`${m.linkname}\0`);
      parts.push(tarHeader('././@LongLink', body.length, 'K'), pad512(body));
    }
    parts.push(tarHeader(m.name, data.length, m.type ?? '0', m.linkname ?? ''), pad512(data));
  }
  if (trailer) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export interface ZipEntryIn {
  name: string;
  data: Buffer | string;
  method?: 0 | 8;
  /** Override the CRC written (to make a mismatch). */
  crc?: number;
}

export function zip(entries: ZipEntryIn[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let off = 0;
  for (const e of entries) {
    const raw = Buffer.from(e.data);
    const method = e.method ?? 8;
    const body = method === 8 ? deflateRawSync(raw) : raw;
    const crc = e.crc ?? crc32(raw);
    const name = Buffer.from(e.name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(0, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc >>> 0, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(raw.length, 22);
    lh.writeUInt16LE(name.length, 26);
    locals.push(lh, name, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc >>> 0, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(raw.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(off, 42);
    centrals.push(ch, name);
    off += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** Protocol-2 pickle calling `module.name(arg)`. */
export function pickleCall(module: string, name: string, arg: string): Buffer {
  const a = Buffer.from(arg);
  return Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from(`c${module}\n${name}\n`),
    Buffer.from([0x58]),
    le32(a.length),
    a,
    Buffer.from([0x85, 0x52, 0x2e]),
  ]);
}

/** A benign protocol-2 pickle of a dict {"a": 1}. */
export function pickleDict(): Buffer {
  return Buffer.from([0x80, 0x02, 0x7d, 0x58, 1, 0, 0, 0, 0x61, 0x4b, 0x01, 0x73, 0x2e]);
}

/** A safetensors file from a header object (or raw header text) and data bytes. */
export function safetensors(
  header: unknown,
  data: Buffer = Buffer.alloc(0),
  declaredLength?: number,
): Buffer {
  const h = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  return Buffer.concat([le64(declaredLength ?? h.length), h, data]);
}

/** An .npy file with the given header dict text and data. */
export function npy(header: string, data: Buffer = Buffer.alloc(0), version = 1): Buffer {
  let h = header;
  const pre = version === 1 ? 10 : 12;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const len = version === 1 ? Buffer.from([h.length & 0xff, h.length >> 8]) : le32(h.length);
  return Buffer.concat([
    Buffer.from([0x93]),
    Buffer.from('NUMPY'),
    Buffer.from([version, 0]),
    len,
    Buffer.from(h),
    data,
  ]);
}

/** Seeded bytes. */
export function randomBytes(seed: number, n: number): Buffer {
  let s = seed >>> 0;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    b[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return b;
}

/** Flip `k` seeded bytes of a copy (a fuzzed variant of a valid file). */
export function mutate(src: Buffer, seed: number, k: number): Buffer {
  const out = Buffer.from(src);
  const r = randomBytes(seed, k * 5);
  for (let i = 0; i < k; i++) {
    const pos = r.readUInt32LE(i * 5) % out.length;
    out[pos] = r[i * 5 + 4];
  }
  return out;
}

export { le32, le64 };
