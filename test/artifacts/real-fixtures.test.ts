/**
 * Benign real artifacts made by Debian's torch, sklearn, joblib, numpy and pandas
 * (test/fixtures/real/make.py) must all pass, each detected as the format its library wrote.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/artifacts/scan.js';
import { FIXTURES } from '../helpers/cli.js';

const DIR = join(FIXTURES, 'real');
const ARTIFACTS = readdirSync(DIR).filter((f) => !['make.py', 'tensors.json'].includes(f));

/** The format each file must be detected as, from how make.py wrote it (by name pattern). */
function expectedFormat(name: string): string {
  if (name.startsWith('torchscript_')) return 'torchscript';
  if (name.startsWith('legacy_')) return 'pytorch-legacy';
  if (name.endsWith('.pt')) return 'pytorch-zip';
  if (name.endsWith('.npz')) return 'npz';
  if (name.endsWith('.npy')) return 'npy';
  if (name.endsWith('.joblib')) return 'joblib';
  return 'pickle';
}

describe('benign real artifacts', async () => {
  const report = await scanPaths([DIR], { failOn: 'high', allow: [] });
  const byName = new Map(report.results.map((r) => [r.path.split('/').pop() as string, r]));

  it('covers every kind the issue names', () => {
    const kinds = ARTIFACTS.join(' ');
    for (const re of [
      /state_dict/,
      /quantized/,
      /full_model/,
      /training_checkpoint/,
      /legacy_/,
      /torchscript_scripted/,
      /torchscript_traced/,
      /sklearn_pipeline\.joblib/,
      /_zlib\.joblib/,
      /_gzip\.joblib/,
      /_bz2\.joblib/,
      /_lzma\.joblib/,
      /_xz\.joblib/,
      /\.npy/,
      /\.npz/,
      /array_object/,
      /pandas_frame/,
    ]) {
      expect(kinds).toMatch(re);
    }
    for (let p = 0; p <= 5; p++) expect(ARTIFACTS).toContain(`plain_protocol${p}.pkl`);
  });

  for (const name of ARTIFACTS) {
    it(`${name} passes, detected as ${expectedFormat(name)}`, () => {
      const r = byName.get(name);
      expect(r, name).toBeDefined();
      const blocking = r?.findings.filter((f) => f.severity === 'high' || f.severity === 'critical') ?? [];
      expect(blocking.map((f) => `${f.rule}: ${f.message}`)).toEqual([]);
      expect(r?.verdict).toBe('pass');
      expect(r?.format.startsWith(expectedFormat(name))).toBe(true);
      expect(r?.details?.complete).toBe(true);
    });
  }

  it('records the tensors of every torch fixture for the converter (tensors.json)', () => {
    const t = JSON.parse(readFileSync(join(DIR, 'tensors.json'), 'utf8')) as {
      files: Record<string, Array<Record<string, unknown>>>;
    };
    const torchFiles = ARTIFACTS.filter(
      (f) => f.endsWith('.pt') && !f.startsWith('torchscript') && f !== 'legacy_full_model.pt',
    );
    for (const f of torchFiles) {
      expect(t.files[f]?.length, f).toBeGreaterThan(0);
      for (const e of t.files[f]) {
        expect(e).toHaveProperty('dtype');
        expect(e).toHaveProperty('shape');
        expect(String(e.sha256)).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    const dtypes = new Set(
      Object.values(t.files)
        .flat()
        .map((e) => e.dtype),
    );
    for (const d of ['bfloat16', 'float16', 'float32', 'int8', 'bool']) expect(dtypes).toContain(d);
    // views sharing one storage keep their own stride and offset
    const views = t.files['state_dict_dtypes.pt'].filter((e) =>
      ['transposed', 'offset_view'].includes(String(e.name)),
    );
    expect(views.map((v) => v.stride)).toEqual([[1, 6], [1]]);
    expect(views.map((v) => v.storage_offset)).toEqual([0, 7]);
  });
});
