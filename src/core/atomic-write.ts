/**
 * Outputs are written to a temporary name in the destination folder and renamed into place, so a
 * crash or an error never leaves a half-written file under the real name.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioError } from './errors.js';

export function tempNameFor(path: string): string {
  return join(dirname(path), `.antidote-tmp-${basename(path)}-${randomBytes(4).toString('hex')}`);
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempNameFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw ioError(`cannot write ${path}: ${(err as Error).message}`, err);
  }
}

/** Several files that appear together or not at all: write all to temp names, then rename each. */
export class AtomicBatch {
  private readonly pending: Array<{ tmp: string; final: string }> = [];

  /** Reserve a temp path for `finalPath`; write to the returned path by any means. */
  async reserve(finalPath: string): Promise<string> {
    await mkdir(dirname(finalPath), { recursive: true });
    const tmp = tempNameFor(finalPath);
    this.pending.push({ tmp, final: finalPath });
    return tmp;
  }

  async write(finalPath: string, data: string | Uint8Array): Promise<void> {
    const tmp = await this.reserve(finalPath);
    await writeFile(tmp, data);
  }

  stream(tmpPath: string): WriteStream {
    return createWriteStream(tmpPath);
  }

  async commit(): Promise<void> {
    for (const p of this.pending) await rename(p.tmp, p.final);
    this.pending.length = 0;
  }

  async abort(): Promise<void> {
    await Promise.all(this.pending.map((p) => rm(p.tmp, { force: true, recursive: true })));
    this.pending.length = 0;
  }
}
