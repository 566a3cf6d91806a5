/**
 * Bounded decompression (gzip, zlib, raw deflate through node:zlib; the other codecs write through the same
 * sink). Every call caps the output so a compression bomb ends as a limit finding, never as exhausted memory,
 * and the output is written in place into one growable buffer: node's *Sync functions gather chunks and
 * then concatenate them, which holds the output twice (a 4 MB gzip drove the scanner to 8.3 GB against a
 * 4 GiB cap). Here peak memory is the output itself, and a bomb stops at the cap.
 */
import { readFileSync } from 'node:fs';
import type { Gunzip, Inflate, InflateRaw } from 'node:zlib';
import { zlib } from '../../core/builtins.js';

export class DecompressError extends Error {
  constructor(
    readonly reason: 'limit' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

const MiB = 1024 * 1024;
/** Output chunk of the zlib streams (the default 16 KiB makes large outputs slow). */
const CHUNK = 1 * MiB;

/** A resizable ArrayBuffer (ES2024; Node 20 has it, this project's TypeScript lib does not describe it). */
export interface ResizableBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
export const ResizableArrayBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableBuffer;

/**
 * The address space this process may still map, in bytes, where the system says (Linux: the soft
 * RLIMIT_AS in /proc/self/limits less VmSize in /proc/self/status); `undefined` when there is no limit or
 * it cannot be read. Read rather than found by reserving: a trial reservation stays mapped until the
 * collector frees it, and under a tight limit that is the room V8 needed to finish the run.
 */
export function addressSpaceRoom(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max address space\s+(\S+)/m.exec(limits);
    if (!m || m[1] === 'unlimited') return undefined;
    const status = readFileSync('/proc/self/status', 'utf8');
    const size = /^VmSize:\s+(\d+) kB/m.exec(status);
    if (!size) return undefined;
    return Math.max(0, Number(m[1]) - Number(size[1]) * 1024);
  } catch {
    return undefined;
  }
}

/**
 * Where the room cannot be read: the largest reservation that succeeds, halving from `max`; under a limit,
 * a quarter of it, so the JavaScript heap can still grow (taking it all makes V8 abort instead of reporting
 * the limit).
 */
function probeCapacity(max: number): number {
  let cap = Math.max(1, max);
  for (;;) {
    try {
      new ResizableArrayBuffer(0, { maxByteLength: cap });
      return cap < max ? Math.max(16 * MiB, Math.floor(cap / 4)) : cap;
    } catch (err) {
      if (!(err instanceof RangeError) || cap <= 16 * MiB) throw err;
      cap = Math.floor(cap / 2);
    }
  }
}

/**
 * Output bytes written in place into a resizable ArrayBuffer: growing never copies (the engine reserves the
 * address range once and the kernel commits pages as they are written). Under an address-space limit the
 * reservation is a third of the room left, and output beyond it is a limit, as beyond `max`.
 */
export class BoundedBytes {
  private readonly buf: ResizableBuffer;
  /** A length-tracking view: stays valid as the buffer grows. */
  readonly view: Uint8Array;
  length = 0;
  readonly capacity: number;

  constructor(readonly max: number) {
    const room = addressSpaceRoom();
    const cap = room === undefined ? probeCapacity(max) : Math.min(max, Math.floor(room / 3));
    this.buf = new ResizableArrayBuffer(0, { maxByteLength: Math.max(1, cap) });
    this.capacity = cap;
    this.view = new Uint8Array(this.buf);
  }

  private limit(): never {
    throw new DecompressError(
      'limit',
      this.capacity < this.max
        ? `decompresses to more than ${this.capacity} bytes (the memory this process may use)`
        : `decompresses to more than ${this.max} bytes`,
    );
  }

  /** Make room for `n` more bytes. */
  ensure(n: number) {
    const need = this.length + n;
    if (need > this.max || need > this.capacity) this.limit();
    if (need > this.buf.byteLength)
      this.buf.resize(Math.min(this.capacity, Math.max(need, this.buf.byteLength * 2, 64 * 1024)));
  }

  write(chunk: Uint8Array) {
    this.ensure(chunk.length);
    this.view.set(chunk, this.length);
    this.length += chunk.length;
  }

  writeByte(b: number) {
    if (this.length >= this.buf.byteLength) this.ensure(1);
    this.view[this.length++] = b;
  }

  /** The output (a view of the buffer, no copy). */
  bytes(): Uint8Array {
    return new Uint8Array(this.buf, 0, this.length);
  }
}

function pump(z: Gunzip | Inflate | InflateRaw, data: Uint8Array, max: number): Promise<Uint8Array> {
  const out = new BoundedBytes(max);
  return new Promise((resolve, reject) => {
    z.on('data', (c: Buffer) => {
      try {
        out.write(c);
      } catch (err) {
        z.destroy();
        reject(err);
      }
    });
    z.on('end', () => resolve(out.bytes()));
    z.on('error', (e: Error) =>
      reject(new DecompressError('corrupt', `cannot be decompressed: ${e.message}`)),
    );
    z.end(data);
  });
}

export function gunzipBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  return pump(zlib().createGunzip({ chunkSize: CHUNK }), data, max);
}

export function inflateBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  return pump(zlib().createInflate({ chunkSize: CHUNK }), data, max);
}

export function inflateRawBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  return pump(zlib().createInflateRaw({ chunkSize: CHUNK }), data, max);
}
