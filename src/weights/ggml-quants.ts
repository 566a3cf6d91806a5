/**
 * ggml's block quantisation formats (GGUF tensors) dequantised to float32 as ggml's reference
 * `dequantize_row_*` functions define them: the legacy formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (blocks of 32) and
 * the k-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (super-blocks of 256) that most published GGUF models use
 * (Q4_K_M mixes Q4_K and Q6_K). Written here because no maintained JavaScript library decodes them; every
 * decoder checks the byte length against the element count first, and reads only inside each block.
 */
import { inputError } from '../core/errors.js';
import { halfToFloat as h } from './decode.js';

interface Layout {
  block: number;
  bytes: number;
  /** Decodes block `b` (at byte `o`) into out[b*block ...]. */
  run: (x: Uint8Array, o: number, out: Float32Array, y: number) => void;
}

const f16 = (x: Uint8Array, o: number) => h(x[o] | (x[o + 1] << 8));
const u32 = (x: Uint8Array, o: number) =>
  (x[o] | (x[o + 1] << 8) | (x[o + 2] << 16) | (x[o + 3] << 24)) >>> 0;
const i8 = (v: number) => (v << 24) >> 24;

/** The 6-bit scale of sub-block j packed in Q4_K / Q5_K's 12 scale bytes at `s`. */
function scaleK(x: Uint8Array, s: number, j: number): number {
  return j < 4 ? x[s + j] & 63 : (x[s + j + 4] & 0xf) | ((x[s + j - 4] >> 6) << 4);
}

/** The 6-bit min of sub-block j, packed beside the scales. */
function minK(x: Uint8Array, s: number, j: number): number {
  return j < 4 ? x[s + j + 4] & 63 : (x[s + j + 4] >> 4) | ((x[s + j] >> 6) << 4);
}

/** Q3_K's sixteen signed scales of the block being read (one buffer: no allocation per block). */
const q3Scales = new Int8Array(16);

const LAYOUTS: Readonly<Record<string, Layout>> = {
  Q4_0: {
    block: 32,
    bytes: 18,
    run(x, o, out, y) {
      const d = f16(x, o);
      for (let j = 0; j < 16; j++) {
        const q = x[o + 2 + j];
        out[y + j] = d * ((q & 0x0f) - 8);
        out[y + j + 16] = d * ((q >> 4) - 8);
      }
    },
  },
  Q4_1: {
    block: 32,
    bytes: 20,
    run(x, o, out, y) {
      const d = f16(x, o);
      const m = f16(x, o + 2);
      for (let j = 0; j < 16; j++) {
        const q = x[o + 4 + j];
        out[y + j] = (q & 0x0f) * d + m;
        out[y + j + 16] = (q >> 4) * d + m;
      }
    },
  },
  Q5_0: {
    block: 32,
    bytes: 22,
    run(x, o, out, y) {
      const d = f16(x, o);
      const qh = u32(x, o + 2);
      for (let j = 0; j < 16; j++) {
        const q = x[o + 6 + j];
        out[y + j] = (((q & 0x0f) | (((qh >>> j) << 4) & 0x10)) - 16) * d;
        out[y + j + 16] = (((q >> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d;
      }
    },
  },
  Q5_1: {
    block: 32,
    bytes: 24,
    run(x, o, out, y) {
      const d = f16(x, o);
      const m = f16(x, o + 2);
      const qh = u32(x, o + 4);
      for (let j = 0; j < 16; j++) {
        const q = x[o + 8 + j];
        out[y + j] = ((q & 0x0f) | (((qh >>> j) << 4) & 0x10)) * d + m;
        out[y + j + 16] = ((q >> 4) | ((qh >>> (j + 12)) & 0x10)) * d + m;
      }
    },
  },
  Q8_0: {
    block: 32,
    bytes: 34,
    run(x, o, out, y) {
      const d = f16(x, o);
      for (let j = 0; j < 32; j++) out[y + j] = d * i8(x[o + 2 + j]);
    },
  },
  // { scales[16], qs[64], d, dmin }: 16 sub-blocks of 16, a 4-bit scale and min each.
  Q2_K: {
    block: 256,
    bytes: 84,
    run(x, o, out, y) {
      const d = f16(x, o + 80);
      const dmin = f16(x, o + 82);
      let is = 0;
      for (let n = 0, q = o + 16; n < 256; n += 128, q += 32) {
        for (let shift = 0; shift < 8; shift += 2) {
          for (let half = 0; half <= 16; half += 16) {
            const sc = x[o + is++];
            const dl = d * (sc & 0xf);
            const ml = dmin * (sc >> 4);
            for (let l = 0; l < 16; l++) out[y++] = dl * ((x[q + half + l] >> shift) & 3) - ml;
          }
        }
      }
    },
  },
  // { hmask[32], qs[64], scales[12], d }: 16 sub-blocks of 16, 6-bit signed scales.
  Q3_K: {
    block: 256,
    bytes: 110,
    run(x, o, out, y) {
      const d = f16(x, o + 108);
      const s = o + 96;
      const sc = q3Scales;
      for (let j = 0; j < 16; j++) {
        const low = j < 8 ? x[s + j] & 0xf : x[s + j - 8] >> 4;
        const high = (x[s + 8 + (j & 3)] >> (2 * (j >> 2))) & 3;
        sc[j] = (low | (high << 4)) - 32;
      }
      let is = 0;
      let m = 1;
      for (let n = 0, q = o + 32; n < 256; n += 128, q += 32) {
        for (let shift = 0; shift < 8; shift += 2, m <<= 1) {
          for (let half = 0; half <= 16; half += 16) {
            const dl = d * sc[is++];
            for (let l = 0; l < 16; l++) {
              const hm = x[o + half + l] & m ? 0 : 4;
              out[y++] = dl * (((x[q + half + l] >> shift) & 3) - hm);
            }
          }
        }
      }
    },
  },
  // { d, dmin, scales[12], qs[128] }: 8 sub-blocks of 32, 6-bit scale and min each.
  Q4_K: {
    block: 256,
    bytes: 144,
    run(x, o, out, y) {
      const d = f16(x, o);
      const dmin = f16(x, o + 2);
      for (let j = 0, q = o + 16, is = 0; j < 256; j += 64, q += 32, is += 2) {
        const d1 = d * scaleK(x, o + 4, is);
        const d2 = d * scaleK(x, o + 4, is + 1);
        const m1 = minK(x, o + 4, is);
        const m2 = minK(x, o + 4, is + 1);
        for (let l = 0; l < 32; l++) out[y++] = d1 * (x[q + l] & 0xf) - dmin * m1;
        for (let l = 0; l < 32; l++) out[y++] = d2 * (x[q + l] >> 4) - dmin * m2;
      }
    },
  },
  // { d, dmin, scales[12], qh[32], qs[128] }: Q4_K with a fifth bit per value.
  Q5_K: {
    block: 256,
    bytes: 176,
    run(x, o, out, y) {
      const d = f16(x, o);
      const dmin = f16(x, o + 2);
      const qh = o + 16;
      let u1 = 1;
      let u2 = 2;
      for (let j = 0, q = o + 48, is = 0; j < 256; j += 64, q += 32, is += 2, u1 <<= 2, u2 <<= 2) {
        const d1 = d * scaleK(x, o + 4, is);
        const d2 = d * scaleK(x, o + 4, is + 1);
        const m1 = minK(x, o + 4, is);
        const m2 = minK(x, o + 4, is + 1);
        for (let l = 0; l < 32; l++)
          out[y++] = d1 * ((x[q + l] & 0xf) + (x[qh + l] & u1 ? 16 : 0)) - dmin * m1;
        for (let l = 0; l < 32; l++)
          out[y++] = d2 * ((x[q + l] >> 4) + (x[qh + l] & u2 ? 16 : 0)) - dmin * m2;
      }
    },
  },
  // { ql[128], qh[64], scales[16] (int8), d }: 16 sub-blocks of 16, 6-bit values.
  Q6_K: {
    block: 256,
    bytes: 210,
    run(x, o, out, y) {
      const d = f16(x, o + 208);
      for (let n = 0, ql = o, qh = o + 128, sc = o + 192; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const q1 = ((x[ql + l] & 0xf) | (((x[qh + l] >> 0) & 3) << 4)) - 32;
          const q2 = ((x[ql + l + 32] & 0xf) | (((x[qh + l] >> 2) & 3) << 4)) - 32;
          const q3 = ((x[ql + l] >> 4) | (((x[qh + l] >> 4) & 3) << 4)) - 32;
          const q4 = ((x[ql + l + 32] >> 4) | (((x[qh + l] >> 6) & 3) << 4)) - 32;
          out[y + n + l] = d * i8(x[sc + is]) * q1;
          out[y + n + l + 32] = d * i8(x[sc + is + 2]) * q2;
          out[y + n + l + 64] = d * i8(x[sc + is + 4]) * q3;
          out[y + n + l + 96] = d * i8(x[sc + is + 6]) * q4;
        }
      }
    },
  },
};

/** The ggml block formats this module decodes. */
export const GGML_QUANTS: ReadonlySet<string> = new Set(Object.keys(LAYOUTS));

/** A tensor of `numel` values in ggml block format `dtype`, as float32. */
export function dequantize(dtype: string, bytes: Uint8Array, numel: number): Float32Array {
  const L = LAYOUTS[dtype];
  if (!L) throw inputError(`dtype ${dtype} is not a ggml block format that can be dequantised`);
  const blocks = numel / L.block;
  if (!Number.isInteger(blocks) || bytes.length !== blocks * L.bytes)
    throw inputError(`a ${dtype} tensor of ${numel} elements has ${bytes.length} bytes`);
  const out = new Float32Array(numel);
  for (let b = 0; b < blocks; b++) L.run(bytes, b * L.bytes, out, b * L.block);
  return out;
}
