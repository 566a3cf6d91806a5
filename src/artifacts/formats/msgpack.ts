/**
 * MessagePack files as Flax writes them (`flax_model.msgpack`: a map of parameter names to nested maps whose
 * leaves are ext-type arrays). Loading msgpack builds maps, arrays, strings, numbers and ext payloads; it
 * imports nothing and calls nothing, so the risk is a parser disagreement, not code. The whole file is walked
 * value by value (headers read, payloads skipped by length): claimed only when it parses to exactly its last
 * byte. Hand-written because the check is structural (lengths against the file) and must never materialise
 * multi-gigabyte payloads; a msgpack library would decode them.
 *
 * Detection matters as much as the scan: a fixmap's first byte (0x80-0x8f) is also a pickle opcode, so a
 * Flax checkpoint used to be sniffed as a pickle and blocked as malformed.
 */
import { hasReadSync, readAt } from '../containers/sync-source.js';
import type { ByteSource } from '../source.js';
import * as limit from './rules/limit-exceeded.js';
import * as unanalysable from './rules/unanalysable.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

const MAX_DEPTH = 64;
const MAX_VALUES = 10_000_000;
const MAX_IN_MEMORY = 256 * 1024 * 1024;

class MsgpackError extends Error {}

/** Reads headers through a small window; payloads are skipped by offset. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private bufAt = 0;
  values = 0;
  constructor(
    private readonly read: (at: number, len: number) => Uint8Array,
    readonly size: number,
    /** The file's size when `size` is only a head of it: payloads may be skipped up to here. */
    readonly fileSize = size,
    public pos = 0,
  ) {}

  private bytes(n: number): Uint8Array {
    if (this.pos + n > this.size)
      throw new MsgpackError(
        `a value at ${this.pos} runs past the ${this.size < this.fileSize ? 'head' : 'end of the file'}`,
      );
    if (this.pos < this.bufAt || this.pos + n > this.bufAt + this.buf.length) {
      this.bufAt = this.pos;
      this.buf = this.read(this.pos, Math.max(n, 64 * 1024));
    }
    const out = this.buf.subarray(this.pos - this.bufAt, this.pos - this.bufAt + n);
    this.pos += n;
    return out;
  }

  private uint(n: 1 | 2 | 4 | 8): number {
    const b = this.bytes(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[i];
    return v;
  }

  private skip(n: number): void {
    if (this.pos + n > this.fileSize)
      throw new MsgpackError(`a payload at ${this.pos} runs past the end of the file`);
    if (this.pos + n > this.size) throw new MsgpackError(`a payload at ${this.pos} runs past the head`);
    this.pos += n;
  }

  /** Walk one value; returns its kind (and string keys' text for the caller's summary). */
  value(depth: number): string {
    if (depth > MAX_DEPTH) throw new MsgpackError(`values nest deeper than ${MAX_DEPTH}`);
    if (++this.values > MAX_VALUES) throw new MsgpackError(`more than ${MAX_VALUES} values`);
    const t = this.bytes(1)[0];
    if (t <= 0x7f || t >= 0xe0) return 'int';
    if (t >= 0x80 && t <= 0x8f) return this.map(t & 0x0f, depth);
    if (t >= 0x90 && t <= 0x9f) return this.array(t & 0x0f, depth);
    if (t >= 0xa0 && t <= 0xbf) {
      this.skip(t & 0x1f);
      return 'str';
    }
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        return 'const';
      case 0xc4:
      case 0xd9:
        this.skip(this.uint(1));
        return t === 0xc4 ? 'bin' : 'str';
      case 0xc5:
      case 0xda:
        this.skip(this.uint(2));
        return t === 0xc5 ? 'bin' : 'str';
      case 0xc6:
      case 0xdb:
        this.skip(this.uint(4));
        return t === 0xc6 ? 'bin' : 'str';
      case 0xc7:
      case 0xc8:
      case 0xc9: {
        const len = this.uint(t === 0xc7 ? 1 : t === 0xc8 ? 2 : 4);
        this.skip(1 + len); // type byte, payload
        return 'ext';
      }
      case 0xca:
        this.skip(4);
        return 'float';
      case 0xcb:
        this.skip(8);
        return 'float';
      case 0xcc:
      case 0xd0:
        this.skip(1);
        return 'int';
      case 0xcd:
      case 0xd1:
        this.skip(2);
        return 'int';
      case 0xce:
      case 0xd2:
        this.skip(4);
        return 'int';
      case 0xcf:
      case 0xd3:
        this.skip(8);
        return 'int';
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        this.skip(1 + (1 << (t - 0xd4)));
        return 'ext';
      case 0xdc:
        return this.array(this.uint(2), depth);
      case 0xdd:
        return this.array(this.uint(4), depth);
      case 0xde:
        return this.map(this.uint(2), depth);
      case 0xdf:
        return this.map(this.uint(4), depth);
      default:
        throw new MsgpackError(`byte 0x${t.toString(16)} at ${this.pos - 1} is not a MessagePack type`);
    }
  }

  private array(n: number, depth: number): string {
    for (let i = 0; i < n; i++) this.value(depth + 1);
    return 'array';
  }

  private map(n: number, depth: number): string {
    for (let i = 0; i < n; i++) {
      this.value(depth + 1);
      this.value(depth + 1);
    }
    return 'map';
  }
}

/** A map (fix, 16 or 32) whose first key is a string: how Flax and most msgpack checkpoints start. */
export function detectMsgpack({ head, size }: DetectInput): boolean {
  if (head.length < 3) return false;
  const t = head[0];
  let k: number;
  if (t >= 0x81 && t <= 0x8f) k = 1;
  else if (t === 0xde) k = 3;
  else if (t === 0xdf) k = 5;
  else return false;
  const key = head[k];
  let keyLen: number;
  let keyAt: number;
  if (key >= 0xa1 && key <= 0xbf) [keyLen, keyAt] = [key & 0x1f, k + 1];
  else if (key === 0xd9 && head.length > k + 1) [keyLen, keyAt] = [head[k + 1], k + 2];
  else return false;
  // Parameter names: printable ASCII (random bytes rarely are).
  if (keyLen === 0 || keyAt + keyLen > head.length) return false;
  for (let i = keyAt; i < keyAt + keyLen; i++) if (head[i] < 0x20 || head[i] > 0x7e) return false;
  // The head must parse up to where it ends (or the whole file, when the head is the file).
  const c = new Cursor((at, len) => head.subarray(at, at + len), head.length, size);
  try {
    walkSync(c, size);
    return true;
  } catch {
    return false;
  }
}

/** Detection's walk over the head: a value that runs past the head is fine only if the file goes on. */
function walkSync(c: Cursor, size: number): void {
  try {
    c.value(0);
  } catch (err) {
    if (size > c.size && err instanceof MsgpackError && /runs past the head/.test(err.message)) return;
    throw err;
  }
  if (c.pos !== size) throw new MsgpackError('trailing bytes');
}

export async function scanMsgpack(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  let read: (at: number, len: number) => Uint8Array;
  if (hasReadSync(source)) read = (at, len) => source.readSync(at, Math.min(len, source.size - at));
  else if (source.size <= MAX_IN_MEMORY) {
    const all = await readAt(source, 0, source.size);
    read = (at, len) => all.subarray(at, at + len);
  } else {
    return {
      format: 'msgpack',
      complete: false,
      findings: [limit.check(`the MessagePack member is over ${MAX_IN_MEMORY} bytes`, where)],
    };
  }
  const c = new Cursor(read, source.size);
  try {
    const kind = c.value(0);
    if (c.pos !== source.size)
      throw new MsgpackError(
        `${source.size - c.pos} bytes follow the MessagePack value (a loader stops before them)`,
      );
    return {
      format: 'msgpack',
      complete: true,
      findings: [],
      details: { top: kind, values: c.values },
    };
  } catch (err) {
    if (!(err instanceof MsgpackError)) throw err;
    return {
      format: 'msgpack',
      complete: false,
      findings: [unanalysable.check(`the MessagePack file is malformed: ${err.message}`, where)],
    };
  }
}

export const msgpackFormat: FormatScanner = {
  id: 'msgpack',
  title: 'MessagePack (Flax checkpoints)',
  detect: detectMsgpack,
  scan: scanMsgpack,
};
