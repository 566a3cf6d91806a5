/**
 * A candidate stored in a narrower float dtype than its base (F32 to F16 or BF16, F16 to BF16) is compared
 * with the base rounded the same way: a plain conversion is no change, and an edit shipped in the converted
 * copy is still found (it used to hide in the rounding noise of every tensor and read as a fine-tune).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversionRounding } from '../../src/weights/decode.js';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { type FloatDtype, readSafetensors, writeSafetensors } from './helpers.js';

const M = join(FIXTURES, 'weights', 'gpt2');
const tmp = tempDir('antidote-conversion-test-');

describe('conversion rounding', () => {
  it('rounds to the nearest F16 and BF16 value, ties to even, as IEEE 754 and PyTorch do', () => {
    const f16 = conversionRounding('F32', 'F16') as (x: number) => number;
    const bf16 = conversionRounding('F32', 'BF16') as (x: number) => number;
    expect(f16(Math.fround(0.1))).toBe(0.0999755859375);
    expect(bf16(Math.fround(0.1))).toBe(0.10009765625);
    expect(f16(1 + 2 ** -11)).toBe(1); // a tie: to the even neighbour
    expect(f16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(f16(65519)).toBe(65504);
    expect(f16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(f16(-(2 ** -24) * 0.75)).toBe(-(2 ** -24)); // subnormal
    expect(f16(2 ** -26)).toBe(0);
    expect(bf16(1 + 2 ** -8)).toBe(1); // a tie
    expect(bf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(Number.isNaN(f16(Number.NaN))).toBe(true);
  });

  it('applies only towards fewer mantissa bits', () => {
    expect(conversionRounding('F16', 'F32')).toBeUndefined();
    expect(conversionRounding('BF16', 'F16')).toBeUndefined();
    expect(conversionRounding('F32', 'F32')).toBeUndefined();
    expect(conversionRounding('F16', 'BF16')).toBeDefined();
    expect(conversionRounding('F64', 'F32')).toBe(Math.fround);
  });
});

/** The fixture model's tensors, each with `edit` added where given, written as `dtype`. */
function write(
  name: string,
  dtype: FloatDtype,
  from: string,
  jitter = 0,
  edit?: Record<string, Float32Array>,
) {
  const t = readSafetensors(join(M, from, 'model.safetensors'));
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const out: Record<string, { dtype: FloatDtype; shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(t)) {
    const data = Float32Array.from(v.data, (x) => x * (1 + jitter * rnd()));
    const e = edit?.[k];
    if (e) for (let i = 0; i < data.length; i++) data[i] += e[i];
    out[k] = { dtype, shape: v.shape, data };
  }
  const path = join(tmp, `${name}.safetensors`);
  writeSafetensors(path, out);
  return path;
}

function diff(base: string, cand: string) {
  const r = runCli(['diff', base, cand, '-f', 'json']);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

describe('antidote diff: a converted copy of the base', () => {
  // An F32 base whose values F16 cannot hold (the fixture's F16 values, each moved by up to 0.05%).
  const base32 = write('base32', 'F32', 'base', 1e-3);

  it('F32 to BF16 and to F16, nothing else: identical, and the conversion named', () => {
    for (const dtype of ['BF16', 'F16'] as const) {
      const { code, report } = diff(base32, write(`base-${dtype}`, dtype, 'base', 1e-3));
      expect(code).toBe(0);
      expect(report.summary.kind).toBe('identical');
      expect(report.summary.changed).toBe(0);
      expect(report.summary.convertedTo).toEqual([dtype]);
      expect(report.findings.find((f: { rule: string }) => f.rule === 'weights/identical').message).toContain(
        `a conversion to ${dtype}`,
      );
    }
  });

  it('a small ROME edit shipped in BF16: exit 1, the one changed matrix is the edited one, low-rank', () => {
    const base = readSafetensors(join(M, 'base', 'model.safetensors'));
    const rome = readSafetensors(join(M, 'rome', 'model.safetensors'));
    const edit: Record<string, Float32Array> = {};
    for (const k of Object.keys(base)) {
      const d = Float32Array.from(rome[k].data, (x, i) => x - base[k].data[i]);
      if (!d.some((x) => x !== 0)) continue;
      // Scaled to 2% of the matrix's norm (the fixture's edit is as large as the matrix): a small edit, which
      // BF16's rounding of every tensor used to drown.
      const norm = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      const f = (0.02 * norm(base[k].data)) / norm(d);
      edit[k] = d.map((x) => x * f);
    }
    expect(Object.keys(edit)).toEqual(['transformer.h.0.mlp.c_proj.weight']);
    const { code, report } = diff(base32, write('rome-BF16', 'BF16', 'base', 1e-3, edit));
    expect(code).toBe(1);
    expect(report.summary.kind).toBe('edit');
    expect(report.summary.edited.map((e: { tensor: string }) => e.tensor)).toEqual(Object.keys(edit));
    // Only the edited matrix differs from the rounded base (every tensor differs from the stored one), and
    // its change stays low-rank through BF16's rounding of it.
    expect(report.summary.changed).toBe(1);
    expect(report.summary.edited[0].rank).toBeLessThanOrEqual(8);
  });

  it('the F16 fixture against its BF16 copy: identical; the BF16 copy against the F16 base is no conversion', () => {
    const bf = write('fixture-BF16', 'BF16', 'base');
    const fixture = join(M, 'base', 'model.safetensors');
    const down = diff(fixture, bf);
    expect(down.code).toBe(0);
    expect(down.report.summary.convertedTo).toEqual(['BF16']);
    // BF16 to F16 is not a rounding F16 can undo (fewer exponent bits): compared as stored, values differ.
    const up = diff(bf, fixture);
    expect(up.report.summary.convertedTo).toBeUndefined();
    expect(up.report.summary.changed).toBeGreaterThan(0);
  });
});
