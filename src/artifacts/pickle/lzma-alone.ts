/**
 * A bounded decoder for the LZMA "alone" format (`.lzma`, what joblib's `lzma` compressor writes via Python's
 * lzma.FORMAT_ALONE): 13-byte header (properties, dictionary size, uncompressed size or -1) and one LZMA1
 * stream, usually ended by an end marker.
 *
 * Why hand-written: the npm LZMA1 decoders (lzma, lzma1) decompress the whole stream into memory with no
 * output bound and no way to stop early, so a few kilobytes could expand into gigabytes; the xz package in use
 * (xz-decompress) reads only the .xz container. This decoder follows the LZMA specification's reference
 * decoder and stops with an error as soon as the output would exceed `maxOutput`.
 */
import { ResizableArrayBuffer, type ResizableBuffer } from '../containers/compression.js';

export class LzmaError extends Error {
  constructor(
    readonly reason: 'limit' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

const PROB_INIT = 1024;
const corrupt = (what: string): never => {
  throw new LzmaError('corrupt', `corrupt LZMA data (${what})`);
};

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  pos: number;
  constructor(
    private readonly input: Uint8Array,
    start: number,
  ) {
    this.pos = start;
    if (this.byte() !== 0) corrupt('range coder start');
    for (let i = 0; i < 4; i++) this.code = ((this.code << 8) | this.byte()) >>> 0;
    if (this.code === this.range) corrupt('range coder start');
  }
  byte(): number {
    if (this.pos >= this.input.length) corrupt('unexpected end of input');
    return this.input[this.pos++];
  }
  normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.byte()) >>> 0;
    }
  }
  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      probs[i] = p + ((2048 - p) >>> 5);
      this.range = bound;
      b = 0;
    } else {
      probs[i] = p - (p >>> 5);
      this.code -= bound;
      this.range -= bound;
      b = 1;
    }
    this.normalize();
    return b;
  }
  direct(n: number): number {
    let res = 0;
    for (; n > 0; n--) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code -= this.range;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      this.normalize();
    }
    return res;
  }
  finishedOk(): boolean {
    return this.code === 0;
  }
}

function bitTree(rc: RangeDecoder, probs: Uint16Array, base: number, bits: number): number {
  let m = 1;
  for (let i = 0; i < bits; i++) m = (m << 1) + rc.bit(probs, base + m);
  return m - (1 << bits);
}

function bitTreeReverse(rc: RangeDecoder, probs: Uint16Array, base: number, bits: number): number {
  let m = 1;
  let sym = 0;
  for (let i = 0; i < bits; i++) {
    const b = rc.bit(probs, base + m);
    m = (m << 1) + b;
    sym |= b << i;
  }
  return sym;
}

class LenDecoder {
  choice = new Uint16Array(2).fill(PROB_INIT);
  low = new Uint16Array(16 << 3).fill(PROB_INIT);
  mid = new Uint16Array(16 << 3).fill(PROB_INIT);
  high = new Uint16Array(256).fill(PROB_INIT);
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return bitTree(rc, this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + bitTree(rc, this.mid, posState << 3, 3);
    return 16 + bitTree(rc, this.high, 0, 8);
  }
}

/** Decode an .lzma (alone) stream; throws LzmaError('limit') past `maxOutput` bytes. */
export function decodeLzmaAlone(input: Uint8Array, maxOutput: number): Uint8Array {
  if (input.length < 13) corrupt('header too short');
  let d = input[0];
  if (d >= 9 * 5 * 5) corrupt('properties');
  const lc = d % 9;
  d = Math.floor(d / 9);
  const lp = d % 5;
  const pb = Math.floor(d / 5);
  let dictSize = (input[1] | (input[2] << 8) | (input[3] << 16) | (input[4] << 24)) >>> 0;
  if (dictSize < 4096) dictSize = 4096;
  let sizeKnown = false;
  let remaining = 0;
  let allFF = true;
  for (let i = 5; i < 13; i++) if (input[i] !== 0xff) allFF = false;
  if (!allFF) {
    sizeKnown = true;
    let v = 0;
    for (let i = 12; i >= 5; i--) v = v * 256 + input[i];
    if (v > maxOutput)
      throw new LzmaError('limit', `declares ${v} uncompressed bytes, over the limit of ${maxOutput}`);
    remaining = v;
  }

  const rc = new RangeDecoder(input, 13);
  // Output grows in place (a resizable buffer, never copied) so a bomb stops at the cap without holding twice it.
  let buf: ResizableBuffer;
  try {
    buf = new ResizableArrayBuffer(0, { maxByteLength: Math.max(1, maxOutput) });
  } catch {
    throw new LzmaError(
      'limit',
      `needs an output of up to ${maxOutput} bytes, more than this process may reserve`,
    );
  }
  const out = new Uint8Array(buf);
  let pos = 0;
  const put = (b: number) => {
    if (pos >= out.length) {
      if (pos >= maxOutput) throw new LzmaError('limit', `decompresses to more than ${maxOutput} bytes`);
      buf.resize(Math.min(maxOutput, Math.max(buf.byteLength * 2, 1 << 16)));
    }
    out[pos++] = b;
  };

  const lit = new Uint16Array(0x300 << (lc + lp)).fill(PROB_INIT);
  const posSlot = new Uint16Array(4 << 6).fill(PROB_INIT);
  const posDecoders = new Uint16Array(1 + 128 - 14).fill(PROB_INIT);
  const align = new Uint16Array(1 << 4).fill(PROB_INIT);
  const isMatch = new Uint16Array(12 << 4).fill(PROB_INIT);
  const isRep = new Uint16Array(12).fill(PROB_INIT);
  const isRepG0 = new Uint16Array(12).fill(PROB_INIT);
  const isRepG1 = new Uint16Array(12).fill(PROB_INIT);
  const isRepG2 = new Uint16Array(12).fill(PROB_INIT);
  const isRep0Long = new Uint16Array(12 << 4).fill(PROB_INIT);
  const lenDec = new LenDecoder();
  const repLenDec = new LenDecoder();
  const pbMask = (1 << pb) - 1;
  const lpMask = (1 << lp) - 1;

  let state = 0;
  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;

  const decodeDistance = (len: number): number => {
    const lenState = len > 3 ? 3 : len;
    const slot = bitTree(rc, posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const numDirect = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << numDirect) >>> 0;
    if (slot < 14) dist += bitTreeReverse(rc, posDecoders, dist - slot, numDirect);
    else {
      dist = (dist + ((rc.direct(numDirect - 4) << 4) >>> 0)) >>> 0;
      dist = (dist + bitTreeReverse(rc, align, 0, 4)) >>> 0;
    }
    return dist;
  };

  for (;;) {
    if (sizeKnown && remaining === 0 && rc.finishedOk()) break;
    const posState = pos & pbMask;
    if (rc.bit(isMatch, (state << 4) + posState) === 0) {
      if (sizeKnown && remaining === 0) corrupt('data after the declared size');
      const prev = pos > 0 ? out[pos - 1] : 0;
      const base = 0x300 * (((pos & lpMask) << lc) + (prev >>> (8 - lc)));
      let sym = 1;
      if (state >= 7) {
        if (rep0 + 1 > pos) corrupt('distance');
        let matchByte = out[pos - rep0 - 1];
        do {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const b = rc.bit(lit, base + ((1 + matchBit) << 8) + sym);
          sym = (sym << 1) | b;
          if (matchBit !== b) break;
        } while (sym < 0x100);
      }
      while (sym < 0x100) sym = (sym << 1) | rc.bit(lit, base + sym);
      put(sym - 0x100);
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      if (sizeKnown) remaining--;
      continue;
    }
    let len: number;
    if (rc.bit(isRep, state) !== 0) {
      if (sizeKnown && remaining === 0) corrupt('data after the declared size');
      if (pos === 0) corrupt('repeat before any data');
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
          state = state < 7 ? 9 : 11;
          put(out[pos - rep0 - 1]);
          if (sizeKnown) remaining--;
          continue;
        }
      } else {
        let dist: number;
        if (rc.bit(isRepG1, state) === 0) dist = rep1;
        else {
          if (rc.bit(isRepG2, state) === 0) dist = rep2;
          else {
            dist = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = dist;
      }
      len = repLenDec.decode(rc, posState);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = lenDec.decode(rc, posState);
      state = state < 7 ? 7 : 10;
      rep0 = decodeDistance(len);
      if (rep0 === 0xffffffff) {
        if (rc.finishedOk()) break; // end marker
        corrupt('end marker');
      }
      if (sizeKnown && remaining === 0) corrupt('data after the declared size');
      if (rep0 >= dictSize || rep0 >= pos) corrupt('distance');
    }
    len += 2;
    if (sizeKnown && len > remaining) corrupt('match past the declared size');
    for (let i = 0; i < len; i++) put(out[pos - rep0 - 1]);
    if (sizeKnown) remaining -= len;
  }
  return new Uint8Array(buf, 0, pos);
}
