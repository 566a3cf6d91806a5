/**
 * Bounded decompression with node:zlib (gzip, zlib, raw deflate). Every call caps the output so a
 * compression bomb ends as a limit finding, never as exhausted memory.
 */
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

export class DecompressError extends Error {
  constructor(
    readonly reason: 'limit' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

function bounded(fn: () => Buffer, max: number): Uint8Array {
  try {
    return fn();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || /larger than|maxOutputLength/i.test(e.message)) {
      throw new DecompressError('limit', `decompresses to more than ${max} bytes`);
    }
    throw new DecompressError('corrupt', `cannot be decompressed: ${e.message}`);
  }
}

export function gunzipBounded(data: Uint8Array, max: number): Uint8Array {
  return bounded(() => gunzipSync(data, { maxOutputLength: max }), max);
}

export function inflateBounded(data: Uint8Array, max: number): Uint8Array {
  return bounded(() => inflateSync(data, { maxOutputLength: max }), max);
}

export function inflateRawBounded(data: Uint8Array, max: number): Uint8Array {
  return bounded(() => inflateRawSync(data, { maxOutputLength: max }), max);
}
