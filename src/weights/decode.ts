/**
 * Tensor bytes to Float32Array: F32, F16, BF16 and F64 little-endian (ggml's block formats: ggml-quants.ts).
 * Every decoder checks the byte length against the element count.
 */
import { inputError } from '../core/errors.js';

export const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Bytes per element of the plain float dtypes. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? Number.NaN : s * Number.POSITIVE_INFINITY;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return t;
})();

/** The value of F16 bits. */
export const halfToFloat = (bits: number): number => F16_TABLE[bits];

function aligned(bytes: Uint8Array, unit: number): Uint8Array {
  // Typed-array views need aligned offsets; copy the rare unaligned slice.
  return bytes.byteOffset % unit === 0 ? bytes : bytes.slice();
}

/** Decode to float32. F32 returns a view of `bytes` (no copy): the caller owns the bytes it read. */
export function decodeFloat(dtype: string, bytes: Uint8Array, numel: number): Float32Array {
  const es = DTYPE_BYTES[dtype];
  if (es === undefined) throw inputError(`dtype ${dtype} is not a floating-point type that can be compared`);
  if (bytes.length !== numel * es)
    throw inputError(`a ${dtype} tensor of ${numel} elements has ${bytes.length} bytes, not ${numel * es}`);
  if (dtype === 'F32') {
    const b = aligned(bytes, 4);
    return new Float32Array(b.buffer, b.byteOffset, numel);
  }
  const out = new Float32Array(numel);
  switch (dtype) {
    case 'F64': {
      const b = aligned(bytes, 8);
      const src = new Float64Array(b.buffer, b.byteOffset, numel);
      for (let i = 0; i < numel; i++) out[i] = src[i];
      return out;
    }
    case 'F16': {
      const b = aligned(bytes, 2);
      const src = new Uint16Array(b.buffer, b.byteOffset, numel);
      for (let i = 0; i < numel; i++) out[i] = F16_TABLE[src[i]];
      return out;
    }
    default: {
      // BF16: the high half of an F32.
      const b = aligned(bytes, 2);
      const src = new Uint16Array(b.buffer, b.byteOffset, numel);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) u[i] = src[i] << 16;
      return out;
    }
  }
}

/** Stored mantissa bits of the plain float dtypes: a conversion to fewer bits rounds every value. */
const MANTISSA_BITS: Readonly<Record<string, number>> = { F64: 52, F32: 23, F16: 10, BF16: 7 };

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** x rounded to the nearest BF16 value (ties to even), as PyTorch's `.to(torch.bfloat16)` rounds. */
function toBF16(x: number): number {
  scratch[0] = x;
  const u = scratchBits[0];
  if ((u & 0x7f800000) === 0x7f800000) return scratch[0];
  scratchBits[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return scratch[0];
}

/** x rounded to the nearest F16 value (ties to even; beyond the largest, infinity), as IEEE 754 converts. */
function toF16(x: number): number {
  scratch[0] = x;
  const u = scratchBits[0];
  const exp = (u >>> 23) & 0xff;
  if (exp === 0xff) return scratch[0];
  if (exp >= 113) {
    // F16's normal range (2^-14 and up): keep 10 of F32's 23 mantissa bits; a carry moves the exponent.
    scratchBits[0] = ((u + 0xfff + ((u >>> 13) & 1)) >>> 13) << 13;
    const v = scratch[0];
    return v >= 65520 ? Number.POSITIVE_INFINITY : v <= -65520 ? Number.NEGATIVE_INFINITY : v;
  }
  // Below it, F16 holds multiples of 2^-24 (subnormals).
  const t = Math.abs(scratch[0]) * 2 ** 24;
  const f = Math.floor(t);
  const d = t - f;
  const m = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  return (u >>> 31 ? -m : m) * 2 ** -24;
}

/**
 * The rounding a conversion from `from` to `to` applies to each value, or undefined when `to` keeps every
 * value of `from` (same dtype, or more mantissa bits): a base compared with a converted copy is first
 * rounded the same way, so the conversion itself is not a change.
 */
export function conversionRounding(from: string, to: string): ((x: number) => number) | undefined {
  const a = MANTISSA_BITS[from];
  const b = MANTISSA_BITS[to];
  if (a === undefined || b === undefined || b >= a) return undefined;
  if (to === 'F16') return toF16;
  if (to === 'BF16') return toBF16;
  return Math.fround;
}

/** `decode` and `read` for a store whose tensors are plain float dtypes (safetensors, PyTorch). */
export function floatAccess(
  entryOf: (name: string) => { dtype: string; numel: number } | undefined,
  raw: (name: string) => Promise<Uint8Array>,
): {
  decode(name: string, bytes: Uint8Array): Float32Array | undefined;
  read(name: string): Promise<Float32Array | undefined>;
} {
  const floatEntry = (name: string) => {
    const e = entryOf(name);
    return e && FLOAT_DTYPES.has(e.dtype) ? e : undefined;
  };
  return {
    decode(name, bytes) {
      const e = floatEntry(name);
      return e ? decodeFloat(e.dtype, bytes, e.numel) : undefined;
    },
    async read(name) {
      const e = floatEntry(name);
      return e ? decodeFloat(e.dtype, await raw(name), e.numel) : undefined;
    },
  };
}
