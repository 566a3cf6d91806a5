/**
 * `antidote convert`: a PyTorch checkpoint (zip or legacy format) to safetensors, without running it.
 *
 *  1. The input is scanned with the pickle policy first; a blocked file is refused.
 *  2. The state dict is rebuilt from the pickle's symbolic value (checkpoint.ts, state-dict.ts); anything
 *     that is not a plain mapping of names to tensors is refused, naming the entries.
 *  3. Each tensor's bytes are copied from its storage (zip entry or legacy storage record): contiguous
 *     tensors stream straight from the input; views with other strides are materialised in C order.
 *     Views of a shared storage each get their own bytes (safetensors does not alias).
 *  4. Output goes to a temporary file in the destination folder, then is validated with the safetensors
 *     validator and every tensor's digest re-read and compared with what was written, then renamed. The
 *     digest is CRC-32 (zlib's, several times faster than SHA-256 here): it guards the converter's own
 *     offsets and the write path, which no attacker controls; cryptographic digests of the result are
 *     `antidote hash`'s job.
 */

import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { commitTemp, createTemp, discardTemp } from '../../core/atomic-write.js';
import { zlib } from '../../core/builtins.js';
import { AntidoteError, inputError, ioError } from '../../core/errors.js';
import type { Finding } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { checkIo } from '../../core/paths.js';
import { SyncFileSource } from '../containers/sync-source.js';
import { SAFETENSORS_DTYPE_BITS, validateSafetensors } from '../formats/safetensors.js';
import { loadPolicy } from '../pickle/api.js';
import { FileSource } from '../source.js';
import { type Checkpoint, openCheckpoint, type StorageBytes } from './checkpoint.js';
import type { TensorRef } from './state-dict.js';

export interface ConvertOptions {
  allow?: string[];
  policyFile?: string;
  /** Overwrite an existing output file. */
  force?: boolean;
  /** The entry of a training checkpoint that holds the state dict (dotted for deeper nesting). */
  key?: string;
  /** Skip the pre-scan (tests of the converter alone); the CLI never sets it. */
  skipScan?: boolean;
}

export interface ConvertedTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
  /** CRC-32 of the tensor's bytes as written (hex), re-checked on the written file. */
  crc32: string;
  /** True when the tensor was a view with non-contiguous strides (materialised). */
  materialised: boolean;
}

export interface ConvertResult {
  input: string;
  output: string;
  format: Checkpoint['format'];
  /** The checkpoint entry the state dict was taken from, when it was nested. */
  key?: string;
  tensors: ConvertedTensor[];
  bytes: number;
  metadata: Record<string, string>;
  verified: true;
}

/** The scan refused the input: carries the blocking findings for the command to print. */
export class ConvertBlockedError extends AntidoteError {
  constructor(
    message: string,
    readonly findings: Finding[],
  ) {
    super('E_INPUT', message, { hint: 'scan it with `antidote scan` to see why; nothing was written' });
  }
}

const CHUNK = 16 << 20;
const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

export function isContiguous(t: TensorRef): boolean {
  let expected = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class StorageReader {
  constructor(private readonly fh: FileHandle) {}
  /** Bytes [start, start+len) of a storage, into `dst` at `at`. */
  async read(s: StorageBytes, start: number, len: number, dst: Uint8Array, at = 0): Promise<void> {
    if (start + len > s.byteLength)
      throw inputError(`a tensor reads past the end of its storage (${start + len} > ${s.byteLength})`);
    if (s.memory) {
      dst.set(s.memory.subarray(start, start + len), at);
      return;
    }
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(dst, at + got, len - got, (s.fileOffset ?? 0) + start + got);
      if (bytesRead === 0) throw inputError('the checkpoint is shorter than its storages say');
      got += bytesRead;
    }
  }
}

/** Gather a strided view into C-contiguous bytes (elements copied as 1/2/4/8-byte units, bit-exact). */
export function gather(src: Uint8Array, srcBase: number, t: TensorRef, es: number): Uint8Array {
  const n = numelOf(t.shape);
  const out = new Uint8Array(n * es);
  if (n === 0) return out;
  const nd = t.shape.length;
  const idx = new Array<number>(nd).fill(0);
  const lastDim = nd ? t.shape[nd - 1] : 1;
  const lastStride = nd ? t.stride[nd - 1] : 1;
  let rowStart = t.offset - srcBase;
  for (let o = 0; o < n; ) {
    // One innermost row at a time.
    let p = rowStart;
    if (lastStride === 1) {
      out.set(src.subarray(p * es, (p + lastDim) * es), o * es);
      o += lastDim;
    } else {
      for (let j = 0; j < lastDim; j++, p += lastStride, o++) {
        const sb = p * es;
        const ob = o * es;
        for (let b = 0; b < es; b++) out[ob + b] = src[sb + b];
      }
    }
    // Advance the outer indices.
    let d = nd - 2;
    while (d >= 0) {
      idx[d]++;
      rowStart += t.stride[d];
      if (idx[d] < t.shape[d]) break;
      rowStart -= t.stride[d] * t.shape[d];
      idx[d] = 0;
      d--;
    }
    if (d < 0 && o < n) throw new Error('stride walk ended early');
  }
  return out;
}

async function writeAll(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Copy `len` bytes of a storage to the output at `outPos`, with their CRC-32. Three buffers rotate so that the
 * next read and the previous write (thread-pool I/O) overlap with checksumming the current chunk (main thread).
 */
async function copyRange(
  reader: StorageReader,
  s: StorageBytes,
  start: number,
  len: number,
  out: FileHandle,
  outPos: number,
  digest: { crc: number },
  bufs: Uint8Array[],
): Promise<void> {
  const chunks = Math.ceil(len / CHUNK);
  const sizeOf = (i: number) => Math.min(CHUNK, len - i * CHUNK);
  let pendingRead = chunks ? reader.read(s, start, sizeOf(0), bufs[0]) : Promise.resolve();
  let pendingWrite: Promise<void> = Promise.resolve();
  for (let i = 0; i < chunks; i++) {
    await pendingRead;
    const cur = bufs[i % 3].subarray(0, sizeOf(i));
    if (i + 1 < chunks)
      pendingRead = reader.read(s, start + (i + 1) * CHUNK, sizeOf(i + 1), bufs[(i + 1) % 3]);
    digest.crc = zlib().crc32(cur, digest.crc);
    await pendingWrite;
    pendingWrite = writeAll(out, cur, outPos + i * CHUNK);
  }
  await pendingWrite;
}

export async function convertCheckpoint(
  input: string,
  output: string,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  const inPath = resolve(input);
  const outPath = resolve(output);
  // The input must be a regular file, and the output (through links and `..`) must not be it.
  checkIo([{ path: input }], [{ path: output, flag: '-o' }], { force: opts.force });
  if (!opts.skipScan) {
    const { scanPaths } = await import('../scan.js');
    const report = await scanPaths([input], {
      failOn: 'high',
      allow: opts.allow ?? [],
      policyFile: opts.policyFile,
    });
    const blocked = report.results.filter((r) => r.verdict === 'block');
    if (blocked.length) {
      const findings = blocked.flatMap((r) =>
        r.findings.filter((f) => f.severity === 'critical' || f.severity === 'high'),
      );
      throw new ConvertBlockedError(
        `${input} is blocked by the scan (${findings[0]?.message ?? 'see the scan report'}); refusing to convert it`,
        findings,
      );
    }
  }
  const policy = loadPolicy(opts.policyFile, opts.allow ?? []);
  // The zip reader reads headers synchronously from a SyncFileSource (and only what it needs).
  const source = SyncFileSource.open(inPath, input);
  let tmp: string | undefined;
  try {
    const ckpt = await openCheckpoint(source, input, policy, opts.key);
    if (ckpt.state.problems.length) {
      const list = ckpt.state.problems;
      throw inputError(
        `${input} is not a plain mapping of names to tensors: ${list.slice(0, 5).join('; ')}${list.length > 5 ? `; and ${list.length - 5} more` : ''}`,
        ckpt.key === undefined
          ? 'if the state dict is one entry of a training checkpoint, name it with --key (e.g. --key model)'
          : `the entry ${ckpt.key} is not a plain state dict; name another with --key`,
      );
    }
    if (ckpt.state.tensors.length === 0) throw inputError(`${input} holds no tensors`);
    const tensors = [...ckpt.state.tensors].sort(
      (a, b) => b.storage.elemSize - a.storage.elemSize || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    // Header: offsets follow from shapes alone, so it is written first and tensors stream after it.
    const header: Record<string, unknown> = {};
    const metadata: Record<string, string> = {
      format: 'pt',
      ...ckpt.state.metadata,
      'antidote.source_format': ckpt.format,
    };
    header.__metadata__ = metadata;
    let pos = 0;
    for (const t of tensors) {
      if (SAFETENSORS_DTYPE_BITS[t.storage.dtype] === undefined)
        throw inputError(`${t.name}: dtype ${t.storage.dtype} has no safetensors equivalent`);
      const n = numelOf(t.shape) * t.storage.elemSize;
      header[t.name] = { dtype: t.storage.dtype, shape: t.shape, data_offsets: [pos, pos + n] };
      pos += n;
    }
    let headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const pad = (8 - (headerBytes.length % 8)) % 8;
    if (pad) headerBytes = Buffer.concat([headerBytes, Buffer.alloc(pad, 0x20)]);
    if (headerBytes.length > LIMITS.headers.maxSafetensorsHeader)
      throw inputError('the safetensors header would exceed its size limit');
    tmp = await createTemp(outPath);
    const inFh = await open(inPath, 'r');
    const outFh = await open(tmp, constants.O_WRONLY | constants.O_NOFOLLOW);
    const written: ConvertedTensor[] = [];
    try {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(headerBytes.length));
      await writeAll(outFh, len, 0);
      await writeAll(outFh, headerBytes, 8);
      let outPos = 8 + headerBytes.length;
      const reader = new StorageReader(inFh);
      const bufs = [new Uint8Array(CHUNK), new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
      for (const t of tensors) {
        const s = ckpt.storages.get(t.storage.key);
        if (!s) throw inputError(`${t.name}: storage ${t.storage.key} not found in the checkpoint`);
        const es = t.storage.elemSize;
        const n = numelOf(t.shape);
        const digest = { crc: 0 };
        const base = t.storage.viewOffset;
        const contiguous = isContiguous(t);
        if (contiguous) {
          await copyRange(reader, s, (base + t.offset) * es, n * es, outFh, outPos, digest, bufs);
        } else if (n > 0) {
          let lo = t.offset;
          let hi = t.offset;
          for (let i = 0; i < t.shape.length; i++) hi += (t.shape[i] - 1) * t.stride[i];
          lo = Math.min(lo, hi);
          const span = (hi - lo + 1) * es;
          if (span > LIMITS.archive.maxEntryBytes || n * es > LIMITS.archive.maxEntryBytes)
            throw inputError(`${t.name}: a non-contiguous view of ${span} bytes is over the in-memory limit`);
          const region = new Uint8Array(span);
          await reader.read(s, (base + lo) * es, span, region);
          const bytes = gather(region, lo, t, es);
          digest.crc = zlib().crc32(bytes, digest.crc);
          await writeAll(outFh, bytes, outPos);
        }
        outPos += n * es;
        written.push({
          name: t.name,
          dtype: t.storage.dtype,
          shape: t.shape,
          bytes: n * es,
          crc32: hex32(digest.crc),
          materialised: !contiguous,
        });
      }
    } finally {
      await outFh.close();
      await inFh.close();
    }
    await verifyOutput(tmp, written);
    await commitTemp(tmp, outPath);
    tmp = undefined;
    return {
      input,
      output,
      format: ckpt.format,
      key: ckpt.key,
      tensors: written,
      bytes: pos,
      metadata,
      verified: true,
    };
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw ioError(`cannot convert ${input}: ${(err as Error).message}`, err);
  } finally {
    await source.close();
    if (tmp) await discardTemp(tmp);
  }
}

/** Re-parse the written file with the safetensors validator and compare every tensor's CRC-32. */
async function verifyOutput(path: string, expected: ConvertedTensor[]): Promise<void> {
  const src = await FileSource.open(path);
  try {
    const v = await validateSafetensors(src);
    if (!v.header)
      throw ioError(`verification failed: the written file is not valid safetensors (${v.problems[0]})`);
    const byName = new Map(v.header.tensors.map((t) => [t.name, t]));
    if (byName.size !== expected.length) throw ioError('verification failed: tensor count differs');
    for (const e of expected) {
      const t = byName.get(e.name);
      if (!t || t.dtype !== e.dtype || JSON.stringify(t.shape) !== JSON.stringify(e.shape))
        throw ioError(`verification failed: ${e.name} differs`);
      let crc = 0;
      let next =
        t.begin < t.end
          ? src.read(v.header.dataStart + t.begin, Math.min(CHUNK, t.end - t.begin))
          : undefined;
      for (let at = t.begin; at < t.end; ) {
        const k = Math.min(CHUNK, t.end - at);
        const chunk = await (next as Promise<Uint8Array>);
        if (chunk.length !== k) throw ioError(`verification failed: ${e.name} is truncated`);
        at += k;
        next = at < t.end ? src.read(v.header.dataStart + at, Math.min(CHUNK, t.end - at)) : undefined;
        crc = zlib().crc32(chunk, crc);
      }
      if (hex32(crc) !== e.crc32)
        throw ioError(`verification failed: the bytes of ${e.name} differ from the checkpoint's`);
    }
  } finally {
    await src.close();
  }
}
