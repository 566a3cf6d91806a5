/**
 * A file ByteSource that also reads synchronously. Archive readers visit tens of thousands of small
 * headers (a 20,000-tensor checkpoint has 20,000 local headers); a positional `readSync` costs a
 * microsecond where an async read costs a thread-pool round trip, so readers use `readSync` when offered.
 */
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from '../../core/paths.js';
import type { ByteSource } from '../source.js';

export interface SyncByteSource extends ByteSource {
  readSync(offset: number, length: number): Uint8Array;
}

export function hasReadSync(s: ByteSource): s is SyncByteSource {
  return typeof (s as Partial<SyncByteSource>).readSync === 'function';
}

/** Read through `readSync` when the source offers it. */
export function readAt(s: ByteSource, offset: number, length: number): Promise<Uint8Array> | Uint8Array {
  return hasReadSync(s) ? s.readSync(offset, length) : s.read(offset, length);
}

export class SyncFileSource implements SyncByteSource {
  private closed = false;
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fd: number,
  ) {}

  /** Only a regular file is opened (non-blocking, checked on the descriptor): never a FIFO or a device. */
  static open(path: string, name = path): SyncFileSource {
    const { fd, size } = openRegularFile(path);
    return new SyncFileSource(name, size, fd);
  }

  readSync(offset: number, length: number): Uint8Array {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return got === len ? buf : buf.subarray(0, got);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readSync(offset, length);
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
  }
}

/** A window [start, start+size) of another source (a stored archive member), without copying. */
export class SliceSource implements ByteSource {
  constructor(
    readonly name: string,
    protected readonly parent: ByteSource,
    protected readonly start: number,
    readonly size: number,
  ) {}
  protected clamp(offset: number, length: number): [number, number] {
    const o = Math.max(0, offset);
    return [o, Math.max(0, Math.min(length, this.size - o))];
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const [o, len] = this.clamp(offset, length);
    return readAt(this.parent, this.start + o, len);
  }
  async close(): Promise<void> {}
}

class SyncSliceSource extends SliceSource implements SyncByteSource {
  readSync(offset: number, length: number): Uint8Array {
    const [o, len] = this.clamp(offset, length);
    return (this.parent as SyncByteSource).readSync(this.start + o, len);
  }
}

export function sliceSource(name: string, parent: ByteSource, start: number, size: number): ByteSource {
  return hasReadSync(parent)
    ? new SyncSliceSource(name, parent, start, size)
    : new SliceSource(name, parent, start, size);
}

/** Bytes in memory (a decompressed member, a test input). */
export class MemorySource implements SyncByteSource {
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {}
  get size(): number {
    return this.bytes.length;
  }
  readSync(offset: number, length: number): Uint8Array {
    const o = Math.max(0, offset);
    return this.bytes.subarray(o, Math.min(this.bytes.length, o + Math.max(0, length)));
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readSync(offset, length);
  }
  all(): Uint8Array {
    return this.bytes;
  }
  async close(): Promise<void> {}
}
