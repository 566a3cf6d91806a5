/** The shared tensor reader: dtype decoding, GGUF dequantisation, and the spectra the diff relies on. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFloat } from '../../src/weights/decode.js';
import { topSingularValues } from '../../src/weights/linalg.js';
import { canonicalName, matchNames, roleOf } from '../../src/weights/names.js';
import { openModel } from '../../src/weights/store.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { writeGguf } from './helpers.js';

const tmp = tempDir('antidote-readers-test-');

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

describe('decoding', () => {
  it('F16, BF16 and F64 decode to the values they hold', () => {
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]); // 1, -2, ~0.3333, smallest subnormal
    const d = decodeFloat('F16', new Uint8Array(f16.buffer), 4);
    expect(Array.from(d.slice(0, 2))).toEqual([1, -2]);
    expect(d[2]).toBeCloseTo(1 / 3, 3);
    expect(d[3]).toBeCloseTo(2 ** -24, 30);
    const bf = new Uint16Array([0x3f80, 0x4049]); // 1, ~3.14
    const b = decodeFloat('BF16', new Uint8Array(bf.buffer), 2);
    expect(b[0]).toBe(1);
    expect(b[1]).toBeCloseTo(3.14, 1);
    const f64 = new Float64Array([0.5, -1e-3]);
    expect(Array.from(decodeFloat('F64', new Uint8Array(f64.buffer), 2))).toEqual([0.5, Math.fround(-1e-3)]);
  });

  it('refuses a byte length that does not match the element count', () => {
    expect(() => decodeFloat('F16', new Uint8Array(5), 3)).toThrow(/has 5 bytes/);
  });
});

describe('GGUF tensors', () => {
  const r = rng(5);
  const values = Float32Array.from({ length: 8 * 32 }, () => r());
  const path = join(tmp, 'm.gguf');
  writeGguf(path, [
    { name: 'a.f32', type: 'F32', rows: 8, values },
    { name: 'b.f16', type: 'F16', rows: 8, values },
    { name: 'c.q8', type: 'Q8_0', rows: 8, values },
    { name: 'd.q4', type: 'Q4_0', rows: 8, values },
  ]);

  it('F32, F16, Q8_0 and Q4_0 read back within their quantisation error, outermost dimension first', async () => {
    const s = await openModel(path);
    try {
      expect(s.format).toBe('gguf');
      expect(s.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['a.f32', 'F32', [8, 32]],
        ['b.f16', 'F16', [8, 32]],
        ['c.q8', 'Q8_0', [8, 32]],
        ['d.q4', 'Q4_0', [8, 32]],
      ]);
      const err = async (name: string) => {
        const v = (await s.read(name)) as Float32Array;
        return Math.max(...Array.from(v, (x, i) => Math.abs(x - values[i])));
      };
      expect(await err('a.f32')).toBe(0);
      expect(await err('b.f16')).toBeLessThan(1e-3);
      expect(await err('c.q8')).toBeLessThan(0.5 / 127 + 1e-3);
      expect(await err('d.q4')).toBeLessThan(0.5 / 8 + 1e-2);
    } finally {
      await s.close();
    }
  });

  it('antidote diff reads GGUF: a rank-one change to one quantised tensor is an edit', () => {
    const edited = Float32Array.from(values);
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 32; j++) edited[i * 32 + j] += 0.3 * Math.sin(i + 1) * Math.cos(j);
    const other = join(tmp, 'edited.gguf');
    writeGguf(other, [
      { name: 'a.f32', type: 'F32', rows: 8, values },
      { name: 'b.f16', type: 'F16', rows: 8, values: edited },
      { name: 'c.q8', type: 'Q8_0', rows: 8, values },
      { name: 'd.q4', type: 'Q4_0', rows: 8, values },
    ]);
    const res = runCli(['diff', path, other, '-f', 'json']);
    const report = JSON.parse(res.stdout);
    const t = report.tensors.find((x: { candidate: string }) => x.candidate === 'b.f16');
    expect(t.status).toBe('changed');
    expect(t.energyTop1).toBeGreaterThan(0.99);
    expect(report.tensors.filter((x: { status: string }) => x.status === 'changed')).toHaveLength(1);
  });
});

describe('spectra', () => {
  it('the randomised range finder recovers the singular values of a known low-rank matrix', () => {
    const m = 120;
    const n = 80;
    const r = rng(9);
    const u = [Float64Array.from({ length: m }, r), Float64Array.from({ length: m }, r)];
    const v = [Float64Array.from({ length: n }, r), Float64Array.from({ length: n }, r)];
    const A = new Float32Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) A[i * n + j] = 5 * u[0][i] * v[0][j] + 1 * u[1][i] * v[1][j];
    const sv = topSingularValues(A, m, n, 4);
    expect(sv[2]).toBeLessThan(1e-5 * sv[0]);
    // Frobenius norm is preserved by the top two.
    let fro = 0;
    for (const x of A) fro += x * x;
    expect(sv[0] ** 2 + sv[1] ** 2).toBeCloseTo(fro, 0);
  });
});

describe('names across schemes', () => {
  it('wrappers are stripped and layers become roles', () => {
    expect(canonicalName('base_model.model.transformer.h.3.attn.c_attn.weight')).toBe(
      'h.3.attn.c_attn.weight',
    );
    expect(roleOf('model.layers.12.mlp.down_proj.weight')).toBe('layers.#.mlp.down_proj.weight');
    const m = matchNames(
      ['transformer.h.0.w', 'transformer.h.1.w', 'lm_head.weight'],
      ['module.transformer.h.0.w', 'h.1.w'],
    );
    expect(m.pairs).toHaveLength(2);
    expect(m.onlyBase).toEqual(['lm_head.weight']);
  });
});
