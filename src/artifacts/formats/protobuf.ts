/**
 * A bounded protobuf wire-format walker over a ByteSource (ONNX models, TensorFlow saved_model.pb).
 *
 * Hand-written instead of protobufjs + .proto files because the scanners need three things a decoder
 * does not give: (1) tensor bytes (`raw_data`, `tensor_content`) are skipped by offset and never read, so
 * a 2 GB model costs what its graph costs; (2) every length, nesting level and field count is checked
 * against the enclosing message and the limits before it is followed; (3) only the handful of fields
 * that matter for security are decoded, by number (facts from onnx.proto / tensorflow's graph.proto).
 */
import { LIMITS } from '../../core/limits.js';
import type { ByteSource } from '../source.js';

export class ProtoError extends Error {}

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

export interface ProtoField {
  no: number;
  wire: number;
  /** Offset of the field's value (after tag, and after the length for LEN). */
  start: number;
  /** End of the value. */
  end: number;
  /** VARINT value (as a double; exact below 2^53), or the fixed value's low 32 bits. */
  value: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

export class ProtoReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private fieldsLeft = 200_000_000;
  readonly maxDepth = LIMITS.headers.maxProtobufDepth;

  constructor(
    readonly src: ByteSource,
    private readonly chunk = 1 << 20,
  ) {
    if (src.size > LIMITS.headers.maxProtobuf) {
      throw new ProtoError(
        `protobuf of ${src.size} bytes exceeds the ${LIMITS.headers.maxProtobuf}-byte limit`,
      );
    }
  }

  get size(): number {
    return this.src.size;
  }

  private async window(pos: number, n: number): Promise<void> {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.buf.length) return;
    this.buf = await this.src.read(pos, Math.max(n, this.chunk));
    this.bufStart = pos;
  }

  /** Read `end - start` bytes (only for small fields: names, strings, headers). */
  async bytes(start: number, end: number, max = 16 << 20): Promise<Uint8Array> {
    if (end - start > max)
      throw new ProtoError(`field of ${end - start} bytes at ${start} is larger than ${max}`);
    await this.window(start, end - start);
    const off = start - this.bufStart;
    return this.buf.subarray(off, off + (end - start));
  }

  async string(f: ProtoField, max = 1 << 20): Promise<string> {
    if (f.wire !== WIRE.LEN) throw new ProtoError(`field ${f.no} at ${f.start} should be a string`);
    return utf8.decode(await this.bytes(f.start, f.end, max));
  }

  private async varint(pos: number, end: number): Promise<[number, number]> {
    await this.window(pos, Math.min(10, end - pos));
    let off = pos - this.bufStart;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos + i >= end) throw new ProtoError(`varint at ${pos} runs past the end of its message`);
      const b = this.buf[off++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return [v, pos + i + 1];
    }
    throw new ProtoError(`varint at ${pos} is longer than 10 bytes`);
  }

  /**
   * Visit every field of the message in [start, end). The callback may recurse (with depth + 1).
   * Throws ProtoError on any structural problem.
   */
  async walk(
    start: number,
    end: number,
    depth: number,
    visit: (f: ProtoField) => Promise<void> | void,
  ): Promise<void> {
    if (depth > this.maxDepth) throw new ProtoError(`messages nested deeper than ${this.maxDepth}`);
    if (end > this.src.size) throw new ProtoError(`message [${start}, ${end}) runs past the end of the file`);
    let pos = start;
    while (pos < end) {
      if (--this.fieldsLeft < 0) throw new ProtoError('more than 200 million protobuf fields');
      const [tag, p1] = await this.varint(pos, end);
      const no = Math.floor(tag / 8);
      const wire = tag % 8;
      if (no === 0) throw new ProtoError(`field number 0 at ${pos}`);
      let f: ProtoField;
      switch (wire) {
        case WIRE.VARINT: {
          const [v, p2] = await this.varint(p1, end);
          f = { no, wire, start: p1, end: p2, value: v };
          break;
        }
        case WIRE.I64:
          f = { no, wire, start: p1, end: p1 + 8, value: 0 };
          break;
        case WIRE.I32:
          f = { no, wire, start: p1, end: p1 + 4, value: 0 };
          break;
        case WIRE.LEN: {
          const [len, p2] = await this.varint(p1, end);
          f = { no, wire, start: p2, end: p2 + len, value: len };
          break;
        }
        default:
          throw new ProtoError(`unsupported wire type ${wire} (field ${no}) at ${pos}`);
      }
      if (f.end > end)
        throw new ProtoError(`field ${no} at ${pos} runs past the end of its message (${f.end} > ${end})`);
      await visit(f);
      pos = f.end;
    }
  }

  /** Decode a packed or unpacked repeated varint field value into numbers. */
  async varints(f: ProtoField, max = 1 << 16): Promise<number[]> {
    if (f.wire === WIRE.VARINT) return [f.value];
    if (f.wire !== WIRE.LEN) throw new ProtoError(`field ${f.no} at ${f.start} should hold varints`);
    const out: number[] = [];
    let pos = f.start;
    while (pos < f.end) {
      if (out.length >= max) throw new ProtoError(`more than ${max} packed values at ${f.start}`);
      const [v, p] = await this.varint(pos, f.end);
      out.push(v);
      pos = p;
    }
    return out;
  }
}

export function expectWire(f: ProtoField, wire: number, what: string): void {
  if (f.wire !== wire)
    throw new ProtoError(`${what} (field ${f.no}) at ${f.start} has wire type ${f.wire}, expected ${wire}`);
}

/** Synchronous head walk for detection: returns the top-level fields it could read from `head`. */
export function headFields(
  head: Uint8Array,
  max = 64,
): Array<{ no: number; wire: number; start: number; len: number; value: number }> {
  const out: Array<{ no: number; wire: number; start: number; len: number; value: number }> = [];
  let pos = 0;
  const varint = (): number | undefined => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10 && pos < head.length; i++) {
      const b = head[pos++];
      v += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return v;
    }
    return undefined;
  };
  while (pos < head.length && out.length < max) {
    const tag = varint();
    if (tag === undefined) break;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no === 0) return [];
    if (wire === 0) {
      const v = varint();
      if (v === undefined) break;
      out.push({ no, wire, start: pos, len: 0, value: v });
    } else if (wire === 2) {
      const len = varint();
      if (len === undefined) break;
      out.push({ no, wire, start: pos, len, value: len });
      pos += len;
    } else if (wire === 1 || wire === 5) {
      out.push({ no, wire, start: pos, len: wire === 1 ? 8 : 4, value: 0 });
      pos += wire === 1 ? 8 : 4;
    } else return out.length ? out : [];
  }
  return out;
}
