/**
 * ggml block formats, dequantised: each block is packed here from chosen fields (scales, mins, quants) by the
 * layouts of ggml-common.h, and every value must come out as the field formula says (d·scale·q − dmin·min and
 * its variants). The packing is written apart from the decoder, field by field.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dequantize, GGML_QUANTS } from '../../src/weights/ggml-quants.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { writeGguf } from './helpers.js';

let seed = 12345;
const rnd = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
/** F16 bits of a few exactly representable scales, and their values. */
const HALVES: Array<[number, number]> = [
  [0x3c00, 1],
  [0x3800, 0.5],
  [0x2c00, 0.0625],
  [0x4000, 2],
  [0x3400, 0.25],
];
const half = () => HALVES[rnd(HALVES.length)];
const put16 = (b: Uint8Array, o: number, bits: number) => {
  b[o] = bits & 0xff;
  b[o + 1] = bits >> 8;
};

function check(dtype: string, make: () => { bytes: Uint8Array; want: number[] }, blocks = 3) {
  const parts = Array.from({ length: blocks }, make);
  const size = parts[0].bytes.length;
  const bytes = new Uint8Array(size * blocks);
  parts.forEach((p, i) => {
    bytes.set(p.bytes, i * size);
  });
  const want = parts.flatMap((p) => p.want);
  const got = Array.from(dequantize(dtype, bytes, want.length));
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
}

describe('ggml block formats', () => {
  it('decodes Q4_1, Q5_0 and Q5_1 (blocks of 32)', () => {
    check('Q4_1', () => {
      const b = new Uint8Array(20);
      const [db, d] = half();
      const [mb, m] = half();
      put16(b, 0, db);
      put16(b, 2, mb | 0x8000); // a negative min
      const q = Array.from({ length: 32 }, () => rnd(16));
      for (let j = 0; j < 16; j++) b[4 + j] = q[j] | (q[j + 16] << 4);
      return { bytes: b, want: q.map((v) => v * d - m) };
    });
    for (const withMin of [false, true]) {
      check(withMin ? 'Q5_1' : 'Q5_0', () => {
        const b = new Uint8Array(withMin ? 24 : 22);
        const [db, d] = half();
        const [mb, m] = half();
        put16(b, 0, db);
        if (withMin) put16(b, 2, mb);
        const at = withMin ? 4 : 2;
        const q = Array.from({ length: 32 }, () => rnd(32));
        let qh = 0;
        q.forEach((v, j) => {
          if (v & 16) qh |= 1 << j;
        });
        for (let k = 0; k < 4; k++) b[at + k] = (qh >>> (8 * k)) & 0xff;
        for (let j = 0; j < 16; j++) b[at + 4 + j] = (q[j] & 15) | ((q[j + 16] & 15) << 4);
        return { bytes: b, want: q.map((v) => (withMin ? v * d + m : (v - 16) * d)) };
      });
    }
  });

  it('decodes Q2_K and Q3_K (16 sub-blocks of 16)', () => {
    check('Q2_K', () => {
      const b = new Uint8Array(84);
      const [db, d] = half();
      const [mb, dmin] = half();
      put16(b, 80, db);
      put16(b, 82, mb);
      const sc = Array.from({ length: 16 }, () => rnd(16));
      const mn = Array.from({ length: 16 }, () => rnd(16));
      sc.forEach((s, i) => {
        b[i] = s | (mn[i] << 4);
      });
      // Value i of the 256: half h (128 each), shift group g (4), sub-block side t (2), index l (16).
      const want: number[] = [];
      for (let h = 0; h < 2; h++)
        for (let g = 0; g < 4; g++)
          for (let t = 0; t < 2; t++) {
            const sub = h * 8 + g * 2 + t;
            for (let l = 0; l < 16; l++) {
              const q = rnd(4);
              b[16 + h * 32 + t * 16 + l] |= q << (2 * g);
              want.push(d * sc[sub] * q - dmin * mn[sub]);
            }
          }
      return { bytes: b, want };
    });
    check('Q3_K', () => {
      const b = new Uint8Array(110);
      const [db, d] = half();
      put16(b, 108, db);
      const sc = Array.from({ length: 16 }, () => rnd(64)); // 6-bit, stored +32
      sc.forEach((s, j) => {
        if (j < 8) b[96 + j] |= s & 15;
        else b[96 + j - 8] |= (s & 15) << 4;
        b[96 + 8 + (j % 4)] |= (s >> 4) << (2 * Math.floor(j / 4));
      });
      const want: number[] = [];
      let bit = 0;
      for (let h = 0; h < 2; h++)
        for (let g = 0; g < 4; g++, bit++)
          for (let t = 0; t < 2; t++) {
            const sub = h * 8 + g * 2 + t;
            for (let l = 0; l < 16; l++) {
              const q = rnd(8) - 4; // -4..3: low two bits, and the high bit set when q >= 0
              const low = q & 3;
              b[32 + h * 32 + t * 16 + l] |= low << (2 * g);
              if (q >= 0) b[t * 16 + l] |= 1 << bit;
              want.push(d * (sc[sub] - 32) * q);
            }
          }
      return { bytes: b, want };
    });
  });

  /** Q4_K / Q5_K's 12 scale bytes from eight 6-bit scales and mins. */
  function packScales(b: Uint8Array, at: number, sc: number[], mn: number[]) {
    for (let j = 0; j < 4; j++) {
      b[at + j] = (sc[j] & 63) | ((sc[j + 4] >> 4) << 6);
      b[at + j + 4] = (mn[j] & 63) | ((mn[j + 4] >> 4) << 6);
      b[at + j + 8] = (sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4);
    }
  }

  it('decodes Q4_K and Q5_K (8 sub-blocks of 32, 6-bit scales and mins)', () => {
    for (const bits of [4, 5]) {
      check(bits === 4 ? 'Q4_K' : 'Q5_K', () => {
        const b = new Uint8Array(bits === 4 ? 144 : 176);
        const [db, d] = half();
        const [mb, dmin] = half();
        put16(b, 0, db);
        put16(b, 2, mb);
        const sc = Array.from({ length: 8 }, () => rnd(64));
        const mn = Array.from({ length: 8 }, () => rnd(64));
        packScales(b, 4, sc, mn);
        const qs = bits === 4 ? 16 : 48;
        const want: number[] = [];
        for (let chunk = 0; chunk < 4; chunk++)
          for (let nib = 0; nib < 2; nib++) {
            const sub = chunk * 2 + nib;
            for (let l = 0; l < 32; l++) {
              const q = rnd(bits === 4 ? 16 : 32);
              b[qs + chunk * 32 + l] |= (q & 15) << (4 * nib);
              if (q & 16) b[16 + l] |= 1 << sub;
              want.push(d * sc[sub] * q - dmin * mn[sub]);
            }
          }
        return { bytes: b, want };
      });
    }
  });

  it('decodes Q6_K (16 sub-blocks of 16, signed 8-bit scales)', () => {
    check('Q6_K', () => {
      const b = new Uint8Array(210);
      const [db, d] = half();
      put16(b, 208, db);
      const sc = Array.from({ length: 16 }, () => rnd(256) - 128);
      sc.forEach((s, i) => {
        b[192 + i] = s & 0xff;
      });
      const want = new Array<number>(256);
      for (let h = 0; h < 2; h++)
        for (let part = 0; part < 4; part++)
          for (let l = 0; l < 32; l++) {
            const q = rnd(64); // stored; the value is q - 32
            const idx = h * 128 + part * 32 + l;
            const lowAt = h * 64 + (part & 1) * 32 + l;
            b[lowAt] |= (q & 15) << (part >= 2 ? 4 : 0);
            b[128 + h * 32 + l] |= (q >> 4) << (2 * part);
            want[idx] = d * sc[h * 8 + Math.floor(l / 16) + 2 * part] * (q - 32);
          }
      return { bytes: b, want };
    });
  });

  it('refuses a byte length that does not match the element count, and a format it does not know', () => {
    for (const t of GGML_QUANTS) expect(() => dequantize(t, new Uint8Array(7), 256)).toThrow(/bytes/);
    expect(() => dequantize('IQ2_XXS', new Uint8Array(66), 256)).toThrow(/not a ggml block format/);
  });
});

describe('antidote diff on k-quant GGUF files (as Q4_K_M models are published)', () => {
  /** `rows` x 256 values of a k-quant: random quants, a fixed F16 super-block scale (1/16) in every block. */
  function kquant(type: 'Q4_K' | 'Q6_K', rows: number): Uint8Array {
    const size = type === 'Q4_K' ? 144 : 210;
    const b = new Uint8Array(rows * size);
    for (let k = 0; k < rows; k++) {
      const o = k * size;
      for (let i = 0; i < size; i++) b[o + i] = rnd(256);
      if (type === 'Q4_K') {
        put16(b, o, 0x2c00);
        put16(b, o + 2, 0x2c00);
      } else put16(b, o + 208, 0x2c00);
    }
    return b;
  }

  it('reads every tensor (none left uncompared), names the one that changed, and a copy is identical', () => {
    const dir = tempDir('antidote-kquant-');
    const t0 = kquant('Q4_K', 64);
    const t1 = kquant('Q6_K', 64);
    const t2 = kquant('Q4_K', 64);
    const base = join(dir, 'base.gguf');
    const tensors = (mid: Uint8Array) => [
      { name: 'blk.0.ffn_down.weight', type: 'Q4_K' as const, rows: 64, cols: 256, raw: t0 },
      { name: 'blk.1.ffn_down.weight', type: 'Q6_K' as const, rows: 64, cols: 256, raw: mid },
      { name: 'blk.2.ffn_down.weight', type: 'Q4_K' as const, rows: 64, cols: 256, raw: t2 },
    ];
    writeGguf(base, tensors(t1));
    const copy = join(dir, 'copy.gguf');
    writeGguf(copy, tensors(t1));
    const same = runCli(['diff', base, copy, '-f', 'json']);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout).summary.kind).toBe('identical');
    // Another quant in one block of the middle tensor's first row.
    const edited = Uint8Array.from(t1);
    edited[5] ^= 0x11;
    const cand = join(dir, 'cand.gguf');
    writeGguf(cand, tensors(edited));
    const r = JSON.parse(runCli(['diff', base, cand, '-f', 'json']).stdout);
    expect(r.tensors.filter((t: { status: string }) => t.status === 'not-compared')).toEqual([]);
    expect(r.summary.compared).toBe(3);
    expect(
      r.tensors
        .filter((t: { status: string }) => t.status === 'changed')
        .map((t: { candidate: string }) => t.candidate),
    ).toEqual(['blk.1.ffn_down.weight']);
  });

  it('a rank-one edit re-quantised to 4 bits: one direction over the quantisation noise is still an edit', () => {
    const dir = tempDir('antidote-q4edit-');
    const rows = 128;
    const cols = 64;
    const mk = () => Float32Array.from({ length: rows * cols }, () => (rnd(2001) - 1000) / 10000);
    const W = [mk(), mk(), mk()];
    const u = Array.from({ length: rows }, () => rnd(2001) - 1000);
    const v = Array.from({ length: cols }, () => rnd(2001) - 1000);
    const edit = (share: number) => {
      const e = Float32Array.from(W[1]);
      let en = 0;
      let wn = 0;
      for (let i = 0; i < rows * cols; i++) {
        en += (u[Math.floor(i / cols)] * v[i % cols]) ** 2;
        wn += W[1][i] ** 2;
      }
      const f = share * Math.sqrt(wn / en);
      for (let i = 0; i < rows * cols; i++) e[i] += f * u[Math.floor(i / cols)] * v[i % cols];
      return e;
    };
    const file = (name: string, mid: Float32Array) => {
      const p = join(dir, name);
      writeGguf(
        p,
        W.map((w, k) => ({
          name: `blk.${k}.ffn_down.weight`,
          type: 'Q4_0' as const,
          rows,
          cols,
          values: k === 1 ? mid : w,
        })),
      );
      return p;
    };
    const base = file('base.gguf', W[1]);
    const big = JSON.parse(runCli(['diff', base, file('big.gguf', edit(0.3)), '-f', 'json']).stdout);
    expect(big.summary.kind).toBe('edit');
    expect(big.summary.edited.map((e: { tensor: string }) => e.tensor)).toEqual(['blk.1.ffn_down.weight']);
    // The quantisation residue makes it high-rank by the 99% measure: it is the dominant direction that tells.
    expect(big.summary.edited[0].rank).toBeUndefined();
    expect(big.summary.edited[0].energyTop1).toBeGreaterThan(0.5);
    // An edit of 5% of the matrix is below 4-bit noise: what is said is that one tensor changed.
    const small = JSON.parse(runCli(['diff', base, file('small.gguf', edit(0.05)), '-f', 'json']).stdout);
    expect(small.summary.changed).toBe(1);
  });
});
