/**
 * A zip reader written for security rather than convenience. Hand-written because general zip libraries
 * resolve ambiguity silently (they pick one of two disagreeing headers, skip prepended bytes, stop at the
 * first end record) and so hide exactly what an attacker uses to show one loader a different archive than
 * another. This reader:
 *   - reads like the loaders do: the end record is found from the end (python zipfile, miniz), the central
 *     directory is authoritative for names and sizes (miniz / PyTorchStreamReader), prepended bytes are
 *     allowed as python's zipfile allows them, bad CRCs, odd flag bits and data descriptors are tolerated;
 *   - reports, as facts for the rules in ./rules, every place where readers could disagree: local vs central
 *     header differences, duplicate or case-colliding names, `..`/absolute names, overlapping entries, bytes
 *     outside any entry, several end records, zip64 records, the encryption flag, unknown methods;
 *   - reads only what is asked for: the directory and each local header (a few hundred bytes per entry),
 *     never tensor data, so the cost follows the number of entries, not the archive's size;
 *   - bounds every read and every inflate (core/limits).
 */
import { zlib } from '../../core/builtins.js';
import { LIMITS } from '../../core/limits.js';
import { isPickleOpcode } from '../detect.js';
import type { ByteSource } from '../source.js';
import { DecompressError, inflateRawBounded } from './compression.js';
import { hasReadSync, MemorySource, readAt, type SyncByteSource } from './sync-source.js';

export interface ZipEntry {
  index: number;
  /** Name from the central directory (what PyTorch and numpy look entries up by). */
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Offset of the entry's data, from its local header; -1 when the local header is unreadable. */
  dataOffset: number;
  /** Name in the local header, when it could be read. */
  localName?: string;
  /** Flag bit 0 (traditional encryption) or bit 6 (strong encryption), or the AES method 99. */
  encryptedFlag: boolean;
  hasDescriptor: boolean;
  /** First two bytes of the entry's raw (possibly compressed) data, read with the local header (-1: none). */
  rawHead16: number;
}

export type ZipIssueKind =
  | 'malformed'
  | 'header-mismatch'
  | 'duplicate-name'
  | 'case-collision'
  | 'unsafe-path'
  | 'overlap'
  | 'unaccounted-data'
  | 'ambiguous-end'
  | 'zip64'
  | 'limit';

export interface ZipIssue {
  kind: ZipIssueKind;
  message: string;
  entry?: string;
  offset?: number;
  evidence?: Record<string, unknown>;
}

export interface ZipArchive {
  source: ByteSource;
  entries: ZipEntry[];
  issues: ZipIssue[];
  zip64: boolean;
  comment: Uint8Array;
  /** Bytes before the first structure that python's zipfile skips and miniz does not. */
  prefix: number;
  /** Set when the archive cannot be read at all (no end record, unreadable directory). */
  fatal?: string;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const LOCAL_WINDOW = 30 + 512;
const HEAD_KEEP = 64;

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) =>
  (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;

function decodeName(bytes: Uint8Array, flags: number): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return flags & 0x800 ? b.toString('utf8') : b.toString('latin1');
}

/** a[ao, ao+n) equals b[bo, bo+n); `aEnd` bounds the readable part of `a`. */
function sameBytesAt(a: Uint8Array, ao: number, aEnd: number, b: Uint8Array, bo: number, n: number): boolean {
  if (ao + n > aEnd || bo + n > b.length) return false;
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

function isAscii(b: Uint8Array, start: number, n: number): boolean {
  for (let i = start; i < start + n; i++) if (b[i] > 0x7f) return false;
  return true;
}

/** Length of the name whose bytes start at `at` in the central directory (its length field precedes it). */
function nameLength(cd: Uint8Array, at: number): number {
  return u16(cd, at - 46 + 28);
}

/** Parse the zip64 extended-information extra field: replaces the 0xFFFFFFFF fields, in spec order. */
function applyZip64Extra(
  extra: Uint8Array,
  vals: { usize: number; csize: number; lho: number },
): { usize: number; csize: number; lho: number; found: boolean } {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = u16(extra, p);
    const len = u16(extra, p + 2);
    const body = extra.subarray(p + 4, p + 4 + len);
    if (id === 0x0001) {
      let q = 0;
      const out = { ...vals, found: true };
      if (vals.usize === 0xffffffff && q + 8 <= body.length) {
        out.usize = u64(body, q);
        q += 8;
      }
      if (vals.csize === 0xffffffff && q + 8 <= body.length) {
        out.csize = u64(body, q);
        q += 8;
      }
      if (vals.lho === 0xffffffff && q + 8 <= body.length) out.lho = u64(body, q);
      return out;
    }
    p += 4 + len;
  }
  return { ...vals, found: false };
}

function isUnsafePath(name: string): boolean {
  if (!name.includes('..') && !name.includes(':') && name[0] !== '/' && name[0] !== '\\') return false;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return true;
  return name.split(/[\\/]/).some((seg) => seg === '..');
}

/**
 * Serves the many small reads of local headers from large blocks: consecutive small entries (a checkpoint
 * of thousands of small tensors) cost one read per block instead of one per entry, while a large tensor
 * between two headers is skipped, never read.
 */
class BlockReader {
  /** The current block; `get` returns positions in it (no view object per header). */
  buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  /** End (exclusive, in `buf`) of the window the last `get` returned: at most `length` bytes from it. */
  end = 0;
  constructor(private readonly source: SyncByteSource) {}
  /** Make [offset, offset+length) available (reading up to `readUpTo` ahead); returns its start in `buf`. */
  get(offset: number, length: number, readUpTo: number): number {
    const rel = offset - this.start;
    if (rel >= 0 && rel + length <= this.buf.length) {
      this.end = rel + length;
      return rel;
    }
    const want = Math.max(length, Math.min(readUpTo, offset + BLOCK) - offset);
    this.buf = this.source.readSync(offset, want);
    this.start = offset;
    this.end = Math.min(length, this.buf.length);
    return 0;
  }
  /** Start in `buf` of [offset, offset+length) when the current block holds it all, else -1; never reads. */
  peek(offset: number, length: number): number {
    const rel = offset - this.start;
    return rel >= 0 && rel + length <= this.buf.length ? rel : -1;
  }
}
const BLOCK = 256 * 1024;

/**
 * The first bytes of stored entries that start with a pickle opcode, copied while their block is in
 * memory: the pickle sniff of a checkpoint's tensors (thousands start with such a byte by chance) then
 * costs no read. Only bytes the block already holds are kept, within a total cap; others are read.
 */
const HEAD_CACHE_BYTES = 4096;
const HEAD_CACHE_TOTAL = 16 * 1024 * 1024;
const HEAD_CACHE_CHUNK = 64 * 1024;
class HeadCache {
  // Copies go into 64 KiB chunks (a new chunk when one is full, never a copy of the old ones). Each
  // entry's copy is found by chunk number, offset and length: no view object per entry until asked for.
  private readonly chunks: Uint8Array[] = [];
  private chunk = new Uint8Array(0);
  private used = 0;
  private total = 0;
  private readonly chunkOf: Int32Array;
  private readonly offsetOf: Int32Array;
  private readonly lengthOf: Int32Array;
  constructor(n: number) {
    this.chunkOf = new Int32Array(n).fill(-1);
    this.offsetOf = new Int32Array(n);
    this.lengthOf = new Int32Array(n);
  }
  keep(en: ZipEntry, reader: BlockReader): void {
    if (en.method !== 0 || en.rawHead16 < 0 || !isPickleOpcode(en.rawHead16 & 0xff)) return;
    const n = Math.min(en.compressedSize, HEAD_CACHE_BYTES);
    if (this.total + n > HEAD_CACHE_TOTAL) return;
    const at = reader.peek(en.dataOffset, n);
    if (at < 0) return;
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(HEAD_CACHE_CHUNK);
      this.chunks.push(this.chunk);
      this.used = 0;
    }
    this.chunk.set(reader.buf.subarray(at, at + n), this.used);
    this.chunkOf[en.index] = this.chunks.length - 1;
    this.offsetOf[en.index] = this.used;
    this.lengthOf[en.index] = n;
    this.used += n;
    this.total += n;
  }
  /** The entry's first `n` stored bytes when cached. */
  get(en: ZipEntry, n: number): Uint8Array | undefined {
    const c = en.index < this.chunkOf.length ? this.chunkOf[en.index] : -1;
    if (c < 0 || this.lengthOf[en.index] < n) return undefined;
    const o = this.offsetOf[en.index];
    return this.chunks[c].subarray(o, o + n);
  }
}
const headCaches = new WeakMap<ZipArchive, HeadCache>();

interface Span {
  start: number;
  end: number;
  /** What the bytes are: a fixed label, or an entry (its data, or its data descriptor). */
  what: string;
  entry?: ZipEntry;
}

function describe(s: Span): string {
  return s.entry ? `${s.what} "${s.entry.name}"` : s.what;
}

/**
 * Read the archive's structure (end record, central directory, every local header). Never throws on bad
 * data. Reads synchronously (tens of thousands of small header reads); a source without `readSync` is
 * read into memory first, within the entry limit.
 */
export async function openZip(source: ByteSource): Promise<ZipArchive> {
  if (hasReadSync(source)) return openZipSync(source);
  if (source.size > LIMITS.archive.maxEntryBytes) {
    return {
      source,
      entries: [],
      issues: [],
      zip64: false,
      comment: new Uint8Array(0),
      prefix: 0,
      fatal: 'the archive is too large to read from this source',
    };
  }
  const z = openZipSync(new MemorySource(source.name, await source.read(0, source.size)));
  z.source = source;
  return z;
}

function openZipSync(source: SyncByteSource): ZipArchive {
  const zip: ZipArchive = {
    source,
    entries: [],
    issues: [],
    zip64: false,
    comment: new Uint8Array(0),
    prefix: 0,
  };
  const size = source.size;
  const issue = (kind: ZipIssueKind, message: string, extra: Partial<ZipIssue> = {}) =>
    zip.issues.push({ kind, message, ...extra });
  if (size < EOCD_SIZE) {
    zip.fatal = 'the file is too short to hold a zip end record';
    return zip;
  }

  // --- end of central directory: from the end, like python's zipfile and miniz ---------------------------
  const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT + 20);
  const tailStart = size - tailLen;
  const tail = source.readSync(tailStart, tailLen);
  const candidates: number[] = [];
  // The first-byte test ('P') only skips positions where the signature cannot start.
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--)
    if (tail[i] === 0x50 && u32(tail, i) === SIG_EOCD) candidates.push(i);
  if (!candidates.length) {
    zip.fatal = 'no zip end-of-central-directory record';
    return zip;
  }
  // python checks the no-comment position first, then the last signature in the tail: the same record.
  const e = candidates[0];
  const eocdPos = tailStart + e;
  const commentLen = u16(tail, e + 20);
  zip.comment = tail.subarray(e + EOCD_SIZE, Math.min(tail.length, e + EOCD_SIZE + commentLen));
  const recordEnd = eocdPos + EOCD_SIZE + commentLen;
  if (candidates.length > 1) {
    const others = candidates.slice(1).map((c) => tailStart + c);
    issue(
      'ambiguous-end',
      `the archive holds ${candidates.length} end-of-central-directory records; readers that search differently see different archives`,
      {
        offset: eocdPos,
        evidence: { endRecords: [eocdPos, ...others] },
      },
    );
  }
  if (recordEnd !== size) {
    issue(
      recordEnd < size ? 'unaccounted-data' : 'header-mismatch',
      recordEnd < size
        ? `${size - recordEnd} bytes follow the end record and its comment`
        : `the end record's comment length (${commentLen}) runs past the end of the file`,
      { offset: Math.min(recordEnd, size), evidence: { commentLength: commentLen, fileSize: size } },
    );
  }
  const disk = u16(tail, e + 4);
  const cdDisk = u16(tail, e + 6);
  let entriesOnDisk = u16(tail, e + 8);
  let totalEntries = u16(tail, e + 10);
  let cdSize = u32(tail, e + 12);
  let cdOffset = u32(tail, e + 16);
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== totalEntries) {
    issue('malformed', 'the archive claims to span several disks, which the loaders do not support', {
      offset: eocdPos,
    });
  }
  let cdEnd = eocdPos;
  const spans: Span[] = [{ start: eocdPos, end: Math.min(size, recordEnd), what: 'end record' }];

  // --- zip64 ---------------------------------------------------------------------------------------------
  if (eocdPos >= 20 && e >= 20 && u32(tail, e - 20) === SIG_LOC64) {
    zip.zip64 = true;
    const locPos = eocdPos - 20;
    spans.push({ start: locPos, end: eocdPos, what: 'zip64 locator' });
    const eocd64Off = u64(tail, e - 20 + 8);
    const rec = source.readSync(eocd64Off, 56);
    if (rec.length < 56 || u32(rec, 0) !== SIG_EOCD64) {
      zip.fatal = 'the zip64 locator points at no zip64 end record';
      return zip;
    }
    const recSize = u64(rec, 4) + 12;
    entriesOnDisk = u64(rec, 24);
    const total64 = u64(rec, 32);
    const cdSize64 = u64(rec, 40);
    const cdOffset64 = u64(rec, 48);
    const check = (name: string, v32: number, v64: number, max: number) => {
      if (v32 !== max && v32 !== v64) {
        issue(
          'header-mismatch',
          `the end record and the zip64 end record disagree on ${name} (${v32} vs ${v64})`,
          {
            offset: eocd64Off,
            evidence: { field: name, end: v32, zip64: v64 },
          },
        );
      }
    };
    check('the entry count', totalEntries, total64, 0xffff);
    check('the directory size', cdSize, cdSize64, 0xffffffff);
    check('the directory offset', cdOffset, cdOffset64, 0xffffffff);
    totalEntries = total64;
    cdSize = cdSize64;
    cdOffset = cdOffset64;
    cdEnd = eocd64Off;
    spans.push({ start: eocd64Off, end: eocd64Off + recSize, what: 'zip64 end record' });
    if (eocd64Off + recSize !== locPos) {
      issue('unaccounted-data', 'bytes lie between the zip64 end record and its locator', {
        offset: eocd64Off + recSize,
      });
    }
    issue('zip64', 'the archive uses zip64 records (normal for archives over 4 GB)', { offset: eocd64Off });
  }

  // python's zipfile tolerates bytes before the archive (a "concatenated" prefix); miniz does not.
  const prefix = cdEnd - cdSize - cdOffset;
  if (prefix < 0 || cdSize > size) {
    zip.fatal = 'the central directory lies outside the file';
    return zip;
  }
  if (prefix > 0) {
    zip.prefix = prefix;
    issue(
      'unaccounted-data',
      `${prefix} bytes precede the archive: python's zipfile skips them, PyTorch's reader does not`,
      {
        offset: 0,
        evidence: { prefixBytes: prefix },
      },
    );
  }
  if (totalEntries > LIMITS.archive.maxEntries) {
    issue(
      'limit',
      `the archive declares ${totalEntries} entries, over the limit of ${LIMITS.archive.maxEntries}`,
    );
    zip.fatal = 'too many entries';
    return zip;
  }
  const cdStart = cdOffset + prefix;
  spans.push({ start: cdStart, end: cdEnd, what: 'central directory' });

  // --- central directory --------------------------------------------------------------------------------
  const cd = source.readSync(cdStart, cdSize);
  const nameAt: number[] = [];
  const special: number[] = [];
  const entries = zip.entries;
  const p = readCentralDirectory(cd, prefix, cdStart, entries, nameAt, special, issue);
  if (entries.length !== totalEntries) {
    issue(
      'header-mismatch',
      `the end record declares ${totalEntries} entries but the central directory holds ${entries.length}`,
      {
        offset: cdStart,
        evidence: { declared: totalEntries, found: entries.length },
      },
    );
  }
  if (p !== cd.length) {
    issue(
      'unaccounted-data',
      `${cd.length - p} bytes of the central directory are not part of any entry record`,
      {
        offset: cdStart + p,
      },
    );
  }

  // --- names ---------------------------------------------------------------------------------------------
  checkNames(entries, special, issue);

  // --- local headers, in file order -----------------------------------------------------------------------
  // Usually already in file order; sort (stable, so the same result) only when not.
  let order = entries;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].localHeaderOffset < entries[i - 1].localHeaderOffset) {
      order = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
      break;
    }
  }
  const entrySpans = readLocalHeaders(zip, source, order, cd, nameAt, size, cdStart, issue);
  checkCoverage(spans, entrySpans, prefix, issue);
  return zip;
}

const bySpan = (a: Span, b: Span) => a.start - b.start || a.end - b.end;

/**
 * Every byte belongs to exactly one structure: the spans in (start, end) order, as a stable sort of the
 * fixed structures followed by the entries would give them. The entries' spans are nearly always already
 * in that order (file order); they are then merged with the few fixed ones instead of made into objects
 * and sorted.
 */
function checkCoverage(
  fixedSpans: Span[],
  es: EntrySpans,
  prefix: number,
  issue: (kind: ZipIssueKind, message: string, extra?: Partial<ZipIssue>) => void,
): void {
  const n = es.order.length;
  let inOrder = true;
  let ps = -1;
  let pe = -1;
  for (let k = 0; k < n; k++) {
    if (es.has[k] === 0) continue;
    const s = es.start[k];
    const e = es.end[k];
    if (s < ps || (s === ps && e < pe)) {
      inOrder = false;
      break;
    }
    ps = s;
    pe = e;
  }
  const entrySpan = (k: number): Span => ({
    start: es.start[k],
    end: es.end[k],
    what: 'entry',
    entry: es.order[k],
  });
  let fixed = fixedSpans;
  let entries = n;
  if (!inOrder) {
    fixed = [...fixedSpans];
    for (let k = 0; k < n; k++) if (es.has[k] === 1) fixed.push(entrySpan(k));
    entries = 0;
  }
  fixed.sort(bySpan);

  let covered = prefix;
  // The last span that reached furthest: a fixed span, or an entry by its file-order position.
  let lastFixed: Span | undefined;
  let lastK = -1;
  let lastEnd = 0;
  let any = false;
  const describeOne = (f: Span | undefined, k: number) => (f ? describe(f) : describe(entrySpan(k)));
  let i = 0;
  let k = 0;
  while (k < entries && es.has[k] === 0) k++;
  for (;;) {
    let sFixed: Span | undefined;
    let sK = -1;
    let start: number;
    let end: number;
    // bySpan(fixed[i], entry k) <= 0: on a tie the fixed span comes first, as in the stable sort.
    const f = i < fixed.length ? fixed[i] : undefined;
    if (f && (k >= entries || f.start < es.start[k] || (f.start === es.start[k] && f.end <= es.end[k]))) {
      sFixed = f;
      i++;
      start = sFixed.start;
      end = sFixed.end;
    } else if (k < entries) {
      sK = k;
      start = es.start[k];
      end = es.end[k];
      k++;
      while (k < entries && es.has[k] === 0) k++;
    } else break;
    if (any && start < lastEnd) {
      const a = describeOne(lastFixed, lastK);
      const b = describeOne(sFixed, sK);
      issue('overlap', `${b} overlaps ${a} (bytes ${start}-${Math.min(end, lastEnd)})`, {
        offset: start,
        evidence: { a, b },
      });
    } else if (start > covered) {
      issue('unaccounted-data', `${start - covered} bytes at offset ${covered} belong to no entry`, {
        offset: covered,
        evidence: { length: start - covered, before: describeOne(sFixed, sK) },
      });
    }
    if (!any || end > lastEnd) {
      lastFixed = sFixed;
      lastK = sK;
      lastEnd = end;
      any = true;
    }
    covered = Math.max(covered, end);
  }
}

/** Every entry is made here, so all share one object shape. */
function newEntry(
  index: number,
  name: string,
  method: number,
  flags: number,
  crc: number,
  csize: number,
  usize: number,
  lho: number,
): ZipEntry {
  return {
    index,
    name,
    method,
    flags,
    crc32: crc,
    compressedSize: csize,
    uncompressedSize: usize,
    localHeaderOffset: lho,
    dataOffset: -1,
    encryptedFlag: (flags & 0x41) !== 0 || method === 99,
    hasDescriptor: (flags & 0x08) !== 0,
    rawHead16: -1,
    localName: undefined,
  };
}
// Half of all CRCs do not fit a small integer: shaping the first entry with such a CRC (and a local name)
// spares V8 from migrating every entry already made when the first one turns up mid-archive.
newEntry(0, '', 0, 0, 0xffffffff, 0, 0, 0).localName = '';

/**
 * On a name's latin1 text: any byte over 0x7f, an upper-case letter, ':', '\\' or "..". A name without
 * one is ASCII (latin1 and UTF-8 agree), cannot fold to another name's case and is not an unsafe path
 * unless it starts with '/': one test replaces three per-name checks (most names are `archive/data/N`).
 */
const NAME_NOT_PLAIN = /[A-Z\x80-\xff:\\]|\.\./;

/**
 * Parse the central directory's records into `entries`; returns where the parse stopped. `special`
 * receives the index of every entry whose name needs the full name checks (see NAME_NOT_PLAIN).
 */
function readCentralDirectory(
  cd: Uint8Array,
  prefix: number,
  cdStart: number,
  entries: ZipEntry[],
  nameAt: number[],
  special: number[],
  issue: (kind: ZipIssueKind, message: string, extra?: Partial<ZipIssue>) => void,
): number {
  // Names are cut out of one latin1 string of the directory when they are ASCII (then latin1 and UTF-8
  // agree): tens of thousands of names cost one decode instead of one Buffer and one decode each.
  const cdText = Buffer.from(cd.buffer, cd.byteOffset, cd.length).toString('latin1');
  let p = 0;
  while (p + 46 <= cd.length && u32(cd, p) === SIG_CENTRAL) {
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let csize = u32(cd, p + 20);
    let usize = u32(cd, p + 24);
    const nlen = u16(cd, p + 28);
    const elen = u16(cd, p + 30);
    const clen = u16(cd, p + 32);
    let lho = u32(cd, p + 42);
    if (p + 46 + nlen + elen + clen > cd.length) break;
    if (csize === 0xffffffff || usize === 0xffffffff || lho === 0xffffffff) {
      const extra = cd.subarray(p + 46 + nlen, p + 46 + nlen + elen);
      const z = applyZip64Extra(extra, { usize, csize, lho });
      ({ usize, csize, lho } = z);
      if (!z.found)
        issue('malformed', 'an entry needs a zip64 extra field that is missing', { offset: cdStart + p });
    }
    let name = cdText.substring(p + 46, p + 46 + nlen);
    if (NAME_NOT_PLAIN.test(name) || name.charCodeAt(0) === 0x2f) {
      special.push(entries.length);
      if (!isAscii(cd, p + 46, nlen)) name = decodeName(cd.subarray(p + 46, p + 46 + nlen), flags);
    }
    entries.push(newEntry(entries.length, name, method, flags, crc, csize, usize, lho + prefix));
    nameAt.push(p + 46);
    p += 46 + nlen + elen + clen;
    if (entries.length > LIMITS.archive.maxEntries) break;
  }
  return p;
}

/**
 * Unsafe, duplicate and case-colliding names. `special` lists the entries whose names may be unsafe or
 * hold an upper-case or non-ASCII letter (readCentralDirectory); the others are neither.
 */
function checkNames(
  entries: readonly ZipEntry[],
  special: readonly number[],
  issue: (kind: ZipIssueKind, message: string, extra?: Partial<ZipIssue>) => void,
): void {
  const byName = new Map<string, ZipEntry>();
  const byFolded = new Map<string, ZipEntry>();
  const anyUpper = special.some((i) => /[A-Z\u0080-\uffff]/.test(entries[i].name));
  const isSpecial = new Uint8Array(entries.length);
  for (const i of special) isSpecial[i] = 1;
  for (const en of entries) {
    if (isSpecial[en.index] === 1 && isUnsafePath(en.name)) {
      issue('unsafe-path', `entry name "${en.name}" is absolute or climbs out of the archive with ".."`, {
        entry: en.name,
      });
    }
    const prev = byName.get(en.name);
    if (prev) {
      issue('duplicate-name', `two entries are named "${en.name}": loaders disagree on which one they read`, {
        entry: en.name,
        evidence: { indexes: [prev.index, en.index] },
      });
    } else {
      byName.set(en.name, en);
      // With no upper-case or non-ASCII letter in any name, distinct names cannot fold together.
      if (!anyUpper) continue;
      const folded = en.name.toLowerCase();
      const other = byFolded.get(folded);
      if (other) {
        issue('case-collision', `entries "${other.name}" and "${en.name}" differ only in case`, {
          entry: en.name,
        });
      } else byFolded.set(folded, en);
    }
  }
}

/**
 * Length of the data descriptor at `at` (optional signature, CRC, then 4- or 8-byte sizes); 0 if none.
 * `end` bounds the readable bytes.
 */
function dataDescriptorLength(
  en: ZipEntry,
  bytes: Uint8Array,
  at: number,
  end: number,
  zip64: boolean,
): number {
  const withSig = at + 4 <= end && u32(bytes, at) === SIG_DESCRIPTOR ? 4 : 0;
  const q = at + withSig;
  if (q + 12 <= end && u32(bytes, q) === en.crc32) {
    if (
      q + 12 <= end &&
      u32(bytes, q + 4) === en.compressedSize >>> 0 &&
      u32(bytes, q + 8) === en.uncompressedSize >>> 0
    )
      return withSig + 12;
    if (q + 20 <= end && u64(bytes, q + 4) === en.compressedSize) return withSig + 20;
  }
  return withSig ? (zip64 ? 24 : 16) : 0;
}

/**
 * The entries' spans, by position in file order (`order`): one pair of numbers per entry instead of one
 * object (a checkpoint has tens of thousands). An entry without a readable local header has no span.
 */
interface EntrySpans {
  order: readonly ZipEntry[];
  start: Float64Array;
  end: Float64Array;
  has: Uint8Array;
}

/**
 * Read every local header in file order, compare it with its central record and record the entries'
 * spans. A function of its own so V8 optimises this loop (tens of thousands of entries) on its own.
 */
function readLocalHeaders(
  zip: ZipArchive,
  source: SyncByteSource,
  order: readonly ZipEntry[],
  cd: Uint8Array,
  nameAt: readonly number[],
  size: number,
  cdStart: number,
  issue: (kind: ZipIssueKind, message: string, extra?: Partial<ZipIssue>) => void,
): EntrySpans {
  const n = order.length;
  const spans: EntrySpans = {
    order,
    start: new Float64Array(n),
    end: new Float64Array(n),
    has: new Uint8Array(n),
  };
  const spanStart = spans.start;
  const spanEnd = spans.end;
  let prevEnd = -1;
  let prevDescriptor: ZipEntry | undefined;
  /** File-order position of the previous entry's span (-1: none). */
  let prevSpan = -1;
  const zip64 = zip.zip64;
  const reader = new BlockReader(source);
  // Where the read window of each header (in file order) ends.
  const windowEnd = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const en = order[k];
    windowEnd[k] = en.localHeaderOffset + LOCAL_WINDOW + nameLength(cd, nameAt[en.index]) + HEAD_KEEP;
  }
  const heads = new HeadCache(zip.entries.length);
  headCaches.set(zip, heads);
  let ahead = 0;
  for (let k = 0; k < n; k++) {
    const en = order[k];
    const lho = en.localHeaderOffset;
    const nameStart = nameAt[en.index];
    const nameLen = nameLength(cd, nameStart);
    // Read from the previous entry's data end when close, to see its data descriptor in the same read.
    const gap = prevEnd >= 0 ? lho - prevEnd : -1;
    const near = gap > 0 && gap <= 64;
    const from = near ? prevEnd : lho;
    const lead = lho - from;
    // Extend the read over following headers that lie within one block.
    if (ahead < k) ahead = k;
    while (ahead + 1 < n && windowEnd[ahead + 1] - from <= BLOCK) ahead++;
    const at = reader.get(from, lead + LOCAL_WINDOW + nameLen + HEAD_KEEP, windowEnd[ahead]);
    const buf = reader.buf;
    const winEnd = reader.end;
    // A data descriptor belongs to its entry: the entry's span grows over it.
    if (prevDescriptor && prevSpan >= 0 && near)
      spanEnd[prevSpan] += dataDescriptorLength(prevDescriptor, buf, at, winEnd, zip64);
    if (winEnd - at < lead + 30 || u32(buf, at + lead) !== SIG_LOCAL) {
      issue('header-mismatch', `entry "${en.name}" points at offset ${lho}, where there is no local header`, {
        entry: en.name,
        offset: lho,
      });
      prevEnd = -1;
      prevDescriptor = undefined;
      prevSpan = -1;
      continue;
    }
    const dataEnd = inspectLocalHeader(en, reader, at, from, lead, cd, nameStart, nameLen, size, issue);
    heads.keep(en, reader);
    spanStart[k] = lho;
    spanEnd[k] = Math.min(dataEnd, size);
    spans.has[k] = 1;
    prevSpan = k;
    prevEnd = dataEnd;
    prevDescriptor = en.hasDescriptor ? en : undefined;
  }
  // The last entry's descriptor sits just before the central directory.
  if (prevDescriptor && prevEnd >= 0 && cdStart - prevEnd > 0 && cdStart - prevEnd <= 64) {
    const bytes = source.readSync(prevEnd, cdStart - prevEnd);
    if (prevSpan >= 0)
      spanEnd[prevSpan] += dataDescriptorLength(prevDescriptor, bytes, 0, bytes.length, zip64);
  }
  return spans;
}

/**
 * Compare one local header with its central record and set the entry's data offset; returns the end of
 * its data. The header is at `at + h` in the reader's block, whose window starts at file offset `from`.
 * A separate function so V8 optimises this per-entry work early (a checkpoint has thousands).
 */
function inspectLocalHeader(
  en: ZipEntry,
  reader: BlockReader,
  at: number,
  from: number,
  h: number,
  cd: Uint8Array,
  nameStart: number,
  nameLen: number,
  size: number,
  issue: (kind: ZipIssueKind, message: string, extra?: Partial<ZipIssue>) => void,
): number {
  let win = reader.buf;
  let o = at + h;
  let winEnd = reader.end;
  const lho = en.localHeaderOffset;
  const lflags = u16(win, o + 6);
  const lmethod = u16(win, o + 8);
  const lcrc = u32(win, o + 14);
  let lcsize = u32(win, o + 18);
  let lusize = u32(win, o + 22);
  const lnlen = u16(win, o + 26);
  const lelen = u16(win, o + 28);
  const dataOffset = lho + 30 + lnlen + lelen;
  if (winEnd - o < 30 + lnlen + lelen + HEAD_KEEP && dataOffset < size) {
    o = reader.get(from, h + 30 + lnlen + lelen + HEAD_KEEP, 0) + h;
    win = reader.buf;
    winEnd = reader.end;
  }
  const sameName = lnlen === nameLen && sameBytesAt(win, o + 30, winEnd, cd, nameStart, nameLen);
  en.localName = sameName
    ? en.name
    : decodeName(win.subarray(o + 30, Math.min(winEnd, o + 30 + lnlen)), lflags);
  en.dataOffset = dataOffset;
  const headStart = o + 30 + lnlen + lelen;
  if (en.compressedSize >= 2 && headStart + 2 <= winEnd)
    en.rawHead16 = win[headStart] | (win[headStart + 1] << 8);
  if (lcsize === 0xffffffff || lusize === 0xffffffff) {
    const ex = o + 30 + lnlen;
    const z = applyZip64Extra(win.subarray(Math.min(winEnd, ex), Math.min(winEnd, ex + lelen)), {
      usize: lusize,
      csize: lcsize,
      lho: 0,
    });
    lcsize = z.csize;
    lusize = z.usize;
  }
  const descriptor = (lflags & 0x08) !== 0;
  if (descriptor) en.hasDescriptor = true;
  const differs =
    !sameName ||
    lmethod !== en.method ||
    (lflags & 0x41) !== (en.flags & 0x41) ||
    (!descriptor && (lcsize !== en.compressedSize || lusize !== en.uncompressedSize || lcrc !== en.crc32));
  if (differs) {
    const diffs: string[] = [];
    if (!sameName) diffs.push(`name "${en.localName}" vs "${en.name}"`);
    if (lmethod !== en.method) diffs.push(`method ${lmethod} vs ${en.method}`);
    if ((lflags & 0x41) !== (en.flags & 0x41))
      diffs.push(`encryption flag ${lflags & 0x41} vs ${en.flags & 0x41}`);
    if (!descriptor) {
      if (lcsize !== en.compressedSize) diffs.push(`compressed size ${lcsize} vs ${en.compressedSize}`);
      if (lusize !== en.uncompressedSize) diffs.push(`size ${lusize} vs ${en.uncompressedSize}`);
      if (lcrc !== en.crc32) diffs.push(`CRC ${lcrc.toString(16)} vs ${en.crc32.toString(16)}`);
    }
    issue('header-mismatch', `the local and central headers of "${en.name}" disagree: ${diffs.join('; ')}`, {
      entry: en.name,
      offset: lho,
      evidence: { differences: diffs },
    });
  }
  if (en.method === 0 && !en.encryptedFlag && en.compressedSize !== en.uncompressedSize) {
    issue('header-mismatch', `stored entry "${en.name}" has different compressed and uncompressed sizes`, {
      entry: en.name,
      offset: lho,
    });
  }
  const dataEnd = dataOffset + en.compressedSize;
  if (dataEnd > size)
    issue('malformed', `entry "${en.name}" runs past the end of the file`, { entry: en.name, offset: lho });
  return dataEnd;
}

export class ZipReadError extends Error {
  constructor(
    readonly reason: 'encrypted' | 'method' | 'corrupt' | 'limit',
    message: string,
  ) {
    super(message);
  }
}

export interface EntryBytes {
  bytes: Uint8Array;
  crcMatches: boolean;
  /** The encryption flag is set but the data reads as plain text (readers disagree). */
  plaintextDespiteFlag: boolean;
}

function inflateBounded(data: Uint8Array, max: number, partial = false): Uint8Array {
  try {
    return zlib().inflateRawSync(data, {
      maxOutputLength: Math.max(1, max),
      ...(partial ? { finishFlush: zlib().constants.Z_SYNC_FLUSH } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger/.test((err as Error).message)) {
      throw new ZipReadError('limit', `decompresses to more than ${max} bytes`);
    }
    throw new ZipReadError('corrupt', `does not inflate: ${(err as Error).message}`);
  }
}

/**
 * Read and decompress one entry, bounded by `maxBytes`. An entry with the encryption flag set is read as
 * plain data when its data says it is (a stored entry whose sizes match, a deflate stream that inflates to
 * the declared size and CRC): some loaders ignore the flag, so the scanner must see what they see.
 */
export async function readEntry(
  zip: ZipArchive,
  en: ZipEntry,
  maxBytes = LIMITS.archive.maxEntryBytes,
): Promise<EntryBytes> {
  if (en.dataOffset < 0) throw new ZipReadError('corrupt', 'has no readable local header');
  if (en.method !== 0 && en.method !== 8) {
    throw new ZipReadError(
      en.method === 99 ? 'encrypted' : 'method',
      `uses compression method ${en.method}, which Antidote does not read`,
    );
  }
  if (en.uncompressedSize > maxBytes || (en.method === 0 && en.compressedSize > maxBytes)) {
    throw new ZipReadError('limit', `is ${en.uncompressedSize} bytes, over the limit of ${maxBytes}`);
  }
  const raw = await readAt(zip.source, en.dataOffset, en.compressedSize);
  if (raw.length < en.compressedSize) throw new ZipReadError('corrupt', 'is truncated');
  let bytes: Uint8Array;
  if (en.method === 0) bytes = raw;
  else {
    const ratioCap = Math.max(en.compressedSize * LIMITS.archive.maxCompressionRatio, 1 << 20);
    // Streamed into one growable buffer: the whole-buffer inflate held the output twice (a 2 MB zip reached
    // 4.2 GB against a 2 GiB cap).
    try {
      bytes = await inflateRawBounded(raw, Math.min(maxBytes, ratioCap));
    } catch (err) {
      if (!(err instanceof DecompressError)) throw err;
      throw new ZipReadError(
        err.reason,
        err.reason === 'limit' ? 'decompresses past the size limit' : err.message,
      );
    }
  }
  const crcMatches = zlib().crc32(bytes) >>> 0 === en.crc32;
  let plaintextDespiteFlag = false;
  if (en.encryptedFlag) {
    const plain =
      en.method === 0
        ? en.compressedSize === en.uncompressedSize
        : bytes.length === en.uncompressedSize && crcMatches;
    if (!plain) throw new ZipReadError('encrypted', 'is encrypted');
    plaintextDespiteFlag = true;
  }
  return { bytes, crcMatches, plaintextDespiteFlag };
}

/** The first `n` bytes of an entry's content (inflating only a prefix); empty when unreadable. */
export async function readEntryHead(zip: ZipArchive, en: ZipEntry, n: number): Promise<Uint8Array> {
  if (en.dataOffset < 0) return new Uint8Array(0);
  if (en.method === 0) {
    const want = Math.min(n, en.compressedSize);
    return headCaches.get(zip)?.get(en, want) ?? readAt(zip.source, en.dataOffset, want);
  }
  if (en.method !== 8) return new Uint8Array(0);
  const raw = await readAt(zip.source, en.dataOffset, Math.min(en.compressedSize, Math.max(4096, n * 4)));
  try {
    return inflateBounded(raw, n, true).subarray(0, n);
  } catch {
    return new Uint8Array(0);
  }
}
