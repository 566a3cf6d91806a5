/**
 * A minimal tar reader (ustar, GNU long names, pax `path`/`size`). Hand-written because the scanner needs
 * members as byte ranges of the original file (never extracted to disk, never read unless analysed) and
 * every header checked, which extraction libraries do not offer. Used for the old tar form of PyTorch's
 * legacy format and for plain tar wrappers.
 */
import { LIMITS } from '../../core/limits.js';
import type { ByteSource } from '../source.js';
import { readAt } from './sync-source.js';

export interface TarMember {
  name: string;
  /** '0' file, '5' directory, '2' symlink, ... */
  type: string;
  dataOffset: number;
  size: number;
  /** Target of a symbolic ('2') or hard ('1') link. */
  linkName?: string;
}

export interface TarArchive {
  members: TarMember[];
  /** A problem that stops reading (bad checksum, truncated member); members read so far are kept. */
  error?: string;
  /** Bytes after the end-of-archive blocks that are not zero padding. */
  trailing: number;
}

const ascii = new TextDecoder('latin1');

function str(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return ascii.decode(z >= 0 ? s.subarray(0, z) : s);
}

function num(b: Uint8Array, off: number, len: number): number {
  if (b[off] & 0x80) {
    // GNU base-256
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i];
    return v;
  }
  const t = str(b, off, len).trim();
  return t ? Number.parseInt(t, 8) : 0;
}

function checksumOk(h: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return num(h, 148, 8) === sum;
}

function paxRecords(body: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const text = new TextDecoder().decode(body);
  let p = 0;
  while (p < text.length) {
    const sp = text.indexOf(' ', p);
    if (sp < 0) break;
    const len = Number.parseInt(text.slice(p, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, p + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    p += len;
  }
  return out;
}

export async function readTar(source: ByteSource): Promise<TarArchive> {
  const members: TarMember[] = [];
  let off = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  while (off + 512 <= source.size) {
    const h = await readAt(source, off, 512);
    if (h.every((b) => b === 0)) {
      // End of archive: the rest must be zero padding.
      const restLen = Math.min(source.size - off, 1 << 20);
      const rest = await readAt(source, off, restLen);
      const nonZero = rest.findIndex((b) => b !== 0);
      return {
        members,
        trailing:
          nonZero < 0
            ? source.size - off > restLen
              ? source.size - off - restLen
              : 0
            : source.size - off - nonZero,
      };
    }
    if (!checksumOk(h)) return { members, error: `bad tar header checksum at offset ${off}`, trailing: 0 };
    const type = String.fromCharCode(h[156] || 0x30);
    let size = num(h, 124, 12);
    if (pax.has('size')) size = Number(pax.get('size'));
    const dataOffset = off + 512;
    if (dataOffset + size > source.size)
      return { members, error: `tar member at offset ${off} runs past the end of the file`, trailing: 0 };
    const next = dataOffset + Math.ceil(size / 512) * 512;
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (size > 1 << 20) return { members, error: 'oversized tar extended header', trailing: 0 };
      const body = await readAt(source, dataOffset, size);
      if (type === 'L') longName = str(body, 0, body.length);
      else if (type === 'K') longLink = str(body, 0, body.length);
      else if (type === 'x') pax = paxRecords(body);
      off = next;
      continue;
    }
    const prefix = h[257] === 0x75 ? str(h, 345, 155) : '';
    let name = str(h, 0, 100);
    if (prefix) name = `${prefix}/${name}`;
    if (longName !== undefined) name = longName;
    if (pax.has('path')) name = pax.get('path') as string;
    const member: TarMember = { name, type, dataOffset, size };
    if (type === '1' || type === '2') member.linkName = pax.get('linkpath') ?? longLink ?? str(h, 157, 100);
    members.push(member);
    longName = undefined;
    longLink = undefined;
    pax = new Map();
    if (members.length > LIMITS.archive.maxEntries)
      return { members, error: 'too many tar members', trailing: 0 };
    off = next;
  }
  return {
    members,
    error: off === source.size ? 'tar archive has no end-of-archive blocks' : 'truncated tar header',
    trailing: 0,
  };
}
