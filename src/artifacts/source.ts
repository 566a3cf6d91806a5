/**
 * Random-access byte sources. Scanners read only the ranges they need (headers, pickles, central
 * directories) and never whole tensors: a 2 GB checkpoint costs what its pickle costs.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { inputError } from '../core/errors.js';

export interface ByteSource {
  /** Name for messages: the file path, or `archive.zip!entry/name`. */
  readonly name: string;
  readonly size: number;
  /** Read exactly `length` bytes at `offset` (fewer only at end of data). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export class FileSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  /** Only a regular file is opened (non-blocking, checked on the descriptor): never a FIFO or a device. */
  static async open(path: string, name = path): Promise<FileSource> {
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw inputError(`${path}: is not a regular file`, 'give a regular file');
    }
    return new FileSource(name, st.size, fh);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fh.read(buf, got, len - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === len ? buf : buf.subarray(0, got);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export class BufferSource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.bytes.subarray(Math.max(0, offset), Math.min(this.bytes.length, offset + length));
  }
  /** Synchronous access for in-memory parsers. */
  all(): Uint8Array {
    return this.bytes;
  }
  async close(): Promise<void> {}
}
