/** Builds zip files byte by byte for tests, with every knob an attacker has (mismatched headers, gaps, ...). */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipSpec {
  name: string;
  data: Uint8Array | string;
  method?: 0 | 8;
  flags?: number;
  /** Local header overrides. */
  localName?: string;
  localMethod?: number;
  localFlags?: number;
  /** Central directory overrides. */
  centralSize?: number;
  crc?: number;
  /** Bytes inserted after this entry's data (a gap). */
  gapAfter?: Uint8Array;
  /** Write a data descriptor (flag bit 3) after the data. */
  descriptor?: boolean;
  /** Declared method in both headers (e.g. 12 for bzip2) without compressing. */
  rawMethod?: number;
}

export interface ZipOptions {
  prepend?: Uint8Array;
  append?: Uint8Array;
  comment?: Uint8Array;
  zip64?: boolean;
  /** Extra central records pointing at an existing entry's local header (overlap). */
  aliasOf?: Array<{ index: number; name: string }>;
  /** Override the EOCD entry count. */
  declaredCount?: number;
}

const enc = new TextEncoder();
const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: number) => [...u32(v >>> 0), ...u32(Math.floor(v / 2 ** 32))];

export function buildZip(specs: ZipSpec[], opts: ZipOptions = {}): Uint8Array {
  const parts: number[] = [];
  const push = (b: ArrayLike<number>) => {
    for (let i = 0; i < b.length; i++) parts.push(b[i]);
  };
  if (opts.prepend) push(opts.prepend);
  const base = parts.length;
  const recs: Array<{
    spec: ZipSpec;
    offset: number;
    csize: number;
    usize: number;
    crc: number;
    method: number;
    flags: number;
  }> = [];
  for (const s of specs) {
    const raw = typeof s.data === 'string' ? enc.encode(s.data) : s.data;
    const method = s.rawMethod ?? s.method ?? 0;
    const body = s.method === 8 && s.rawMethod === undefined ? deflateRawSync(raw) : raw;
    const crc = s.crc ?? crc32(raw) >>> 0;
    const flags = (s.flags ?? 0) | (s.descriptor ? 0x08 : 0);
    const lname = enc.encode(s.localName ?? s.name);
    const offset = parts.length - base;
    push(u32(0x04034b50));
    push(u16(20));
    push(u16(s.localFlags ?? flags));
    push(u16(s.localMethod ?? method));
    push(u16(0));
    push(u16(0));
    push(u32(s.descriptor ? 0 : crc));
    push(u32(s.descriptor ? 0 : body.length));
    push(u32(s.descriptor ? 0 : raw.length));
    push(u16(lname.length));
    push(u16(0));
    push(lname);
    push(body);
    if (s.descriptor) {
      push(u32(0x08074b50));
      push(u32(crc));
      push(u32(body.length));
      push(u32(raw.length));
    }
    if (s.gapAfter) push(s.gapAfter);
    recs.push({ spec: s, offset, csize: body.length, usize: raw.length, crc, method, flags });
  }
  const cdStart = parts.length - base;
  const central = (r: (typeof recs)[number], name: string) => {
    const n = enc.encode(name);
    const z64 = opts.zip64;
    const extra = z64 ? [...u16(1), ...u16(24), ...u64(r.usize), ...u64(r.csize), ...u64(r.offset)] : [];
    push(u32(0x02014b50));
    push(u16(20));
    push(u16(z64 ? 45 : 20));
    push(u16(r.flags));
    push(u16(r.method));
    push(u16(0));
    push(u16(0));
    push(u32(r.crc));
    push(u32(z64 ? 0xffffffff : r.csize));
    push(u32(z64 ? 0xffffffff : (r.spec.centralSize ?? r.usize)));
    push(u16(n.length));
    push(u16(extra.length));
    push(u16(0));
    push(u16(0));
    push(u16(0));
    push(u32(0));
    push(u32(z64 ? 0xffffffff : r.offset));
    push(n);
    push(extra);
  };
  for (const r of recs) central(r, r.spec.name);
  for (const a of opts.aliasOf ?? []) central(recs[a.index], a.name);
  const count = recs.length + (opts.aliasOf?.length ?? 0);
  const cdSize = parts.length - base - cdStart;
  if (opts.zip64) {
    const eocd64 = parts.length - base;
    push(u32(0x06064b50));
    push(u64(44));
    push(u16(45));
    push(u16(45));
    push(u32(0));
    push(u32(0));
    push(u64(count));
    push(u64(count));
    push(u64(cdSize));
    push(u64(cdStart));
    push(u32(0x07064b50));
    push(u32(0));
    push(u64(eocd64));
    push(u32(1));
  }
  const comment = opts.comment ?? new Uint8Array(0);
  push(u32(0x06054b50));
  push(u16(0));
  push(u16(0));
  push(u16(opts.zip64 ? 0xffff : (opts.declaredCount ?? count)));
  push(u16(opts.zip64 ? 0xffff : (opts.declaredCount ?? count)));
  push(u32(opts.zip64 ? 0xffffffff : cdSize));
  push(u32(opts.zip64 ? 0xffffffff : cdStart));
  push(u16(comment.length));
  push(comment);
  if (opts.append) push(opts.append);
  return Uint8Array.from(parts);
}
