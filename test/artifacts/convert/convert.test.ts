/**
 * `antidote convert`: byte-exact against the digests torch itself recorded at fixture generation
 * (test/fixtures/convert/make_convert.py), refusals that name the offending entries, and the pre-scan.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertCheckpoint, gather } from '../../../src/artifacts/convert/index.js';
import { validateSafetensors } from '../../../src/artifacts/formats/safetensors.js';
import { FileSource } from '../../../src/artifacts/source.js';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const F = join(import.meta.dirname, '..', '..', 'fixtures', 'convert');
const expected = JSON.parse(readFileSync(join(F, 'expected.json'), 'utf8')) as Record<
  string,
  {
    tensors?: Record<string, { dtype: string; shape: number[]; sha256: string }>;
    refused?: string[];
    blocked?: boolean;
    metadata_keys?: string[];
  }
>;
const out = tempDir('antidote-convert-');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('conversion is byte-exact', () => {
  const convertible = Object.entries(expected).filter(([, e]) => e.tensors);
  it.each(convertible)('%s', async (name, e) => {
    const input = join(F, name);
    const before = sha(input);
    const dest = join(out, `${name}.safetensors`);
    const r = await convertCheckpoint(input, dest, { force: true });
    expect(sha(input)).toBe(before); // the input is never modified
    // Re-read the output independently of the converter's own bookkeeping.
    const src = await FileSource.open(dest);
    const v = await validateSafetensors(src);
    expect(v.problems).toEqual([]);
    const got: Record<string, { dtype: string; shape: number[]; sha256: string }> = {};
    for (const t of v.header?.tensors ?? []) {
      const bytes = await src.read((v.header?.dataStart ?? 0) + t.begin, t.end - t.begin);
      got[t.name] = {
        dtype: t.dtype,
        shape: t.shape,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
    }
    await src.close();
    expect(got).toEqual(e.tensors);
    expect(r.verified).toBe(true);
    if (e.metadata_keys)
      expect(Object.keys(JSON.parse(v.header?.metadata._metadata ?? '{}'))).toEqual(
        expect.arrayContaining(e.metadata_keys),
      );
  });

  it('materialises non-contiguous views and duplicates shared storages', async () => {
    const r = await convertCheckpoint(join(F, 'mixed_zip.pt'), join(out, 'views.safetensors'), {
      force: true,
    });
    const byName = new Map(r.tensors.map((t) => [t.name, t]));
    expect(byName.get('view.transposed')?.materialised).toBe(true);
    expect(byName.get('view.row')?.materialised).toBe(false);
    expect(byName.get('tied.a')?.crc32).toBe(byName.get('tied.b')?.crc32);
  });

  it('gather matches a direct index computation for random strided views', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(1, 2, 4, 8),
        (shape, strides, offset, es) => {
          const stride = shape.map((_, i) => strides[i]);
          let last = offset;
          for (let i = 0; i < shape.length; i++) last += Math.max(0, shape[i] - 1) * stride[i];
          const src = Uint8Array.from({ length: (last + 1) * es }, (_, i) => (i * 37 + 11) & 0xff);
          const t = {
            name: 't',
            storage: { key: 'k', dtype: 'U8', elemSize: es, numel: last + 1, viewOffset: 0 },
            offset,
            shape,
            stride,
          };
          const got = gather(src, 0, t, es);
          const n = shape.reduce((a, b) => a * b, 1);
          const want = new Uint8Array(n * es);
          for (let o = 0; o < n; o++) {
            let rem = o;
            let p = offset;
            for (let d = shape.length - 1; d >= 0; d--) {
              p += (rem % shape[d]) * stride[d];
              rem = Math.floor(rem / shape[d]);
            }
            want.set(src.subarray(p * es, p * es + es), o * es);
          }
          expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("A2's real torch fixtures (test/fixtures/real/tensors.json)", () => {
  const REAL = join(F, '..', 'real');
  const recorded = JSON.parse(readFileSync(join(REAL, 'tensors.json'), 'utf8')).files as Record<
    string,
    Array<{ name: string; sha256: string; shape: number[] }>
  >;
  it.each([
    'state_dict_dtypes.pt',
    'legacy_state_dict.pt',
  ])('%s converts to the recorded bytes', async (name) => {
    const r = await convertCheckpoint(join(REAL, name), join(out, `real-${name}.safetensors`), {
      force: true,
    });
    const dest = join(out, `real-${name}.safetensors`);
    const src = await FileSource.open(dest);
    const v = await validateSafetensors(src);
    const got: Record<string, { sha256: string; shape: number[] }> = {};
    for (const t of v.header?.tensors ?? []) {
      const bytes = await src.read((v.header?.dataStart ?? 0) + t.begin, t.end - t.begin);
      got[t.name] = { sha256: createHash('sha256').update(bytes).digest('hex'), shape: t.shape };
    }
    await src.close();
    expect(r.tensors.length).toBe(recorded[name].length);
    const want = Object.fromEntries(
      recorded[name].map((t) => [t.name, { sha256: t.sha256, shape: t.shape }]),
    );
    expect(got).toEqual(want);
  });
});

describe('refusals', () => {
  it.each(
    Object.entries(expected).filter(([, e]) => e.refused),
  )('%s names the entries that are not tensors', async (name, e) => {
    const dest = join(out, `${name}.safetensors`);
    const err = await convertCheckpoint(join(F, name), dest, { force: true }).catch((x: Error) => x);
    expect(err).toBeInstanceOf(Error);
    for (const entry of e.refused ?? []) expect((err as Error).message).toContain(entry);
    expect(existsSync(dest)).toBe(false);
  });

  it('CLI: a checkpoint the scan blocks is refused with exit 1 and nothing is written', () => {
    const dest = join(out, 'payload.safetensors');
    const r = runCli(['convert', join(F, 'malicious_payload.pt'), '-o', dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused: .*blocked by the scan/);
    expect(r.stderr).toMatch(/system/);
    expect(existsSync(dest)).toBe(false);
  });

  it('CLI: converts, refuses to overwrite without --force, and explains a non-plain checkpoint with exit 2', () => {
    const dest = join(out, 'cli.safetensors');
    const ok = runCli(['convert', join(F, 'mixed_legacy.pt'), '-o', dest]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/converted 22 tensors .* verified/);
    const again = runCli(['convert', join(F, 'mixed_legacy.pt'), '-o', dest]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    // A training checkpoint converts from its one state-dict entry; naming another entry is refused with why.
    const nested = runCli(['convert', join(F, 'training_checkpoint.pt'), '-o', join(out, 'x.safetensors')]);
    expect(nested.code).toBe(0);
    expect(nested.stdout).toContain('(entry model)');
    const bad = runCli([
      'convert',
      join(F, 'training_checkpoint.pt'),
      '-o',
      join(out, 'y.safetensors'),
      '--key',
      'optimizer',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lr is a float, not a tensor/);
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
