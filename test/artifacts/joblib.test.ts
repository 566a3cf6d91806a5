import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decompressJoblib,
  detectJoblib,
  joblibFormat,
  scanJoblibStream,
} from '../../src/artifacts/formats/joblib.js';
import type { FormatResult, ScanContext } from '../../src/artifacts/formats/types.js';
import { defaultPolicy } from '../../src/artifacts/pickle/api.js';
import type { PyInlineArray, PyValue } from '../../src/artifacts/pickle/value.js';
import { BufferSource } from '../../src/artifacts/source.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'pickle');
const read = (...p: string[]) => new Uint8Array(readFileSync(join(DIR, ...p)));
const policy = defaultPolicy();
const nested: Array<{ entry?: string }> = [];
const ctx: ScanContext = {
  policy,
  failOn: 'high',
  displayPath: 'model.joblib',
  depth: 0,
  async scanNested(_s, location): Promise<FormatResult> {
    nested.push(location);
    return { format: 'nested', complete: true, findings: [] };
  },
};
const scan = (bytes: Uint8Array) => joblibFormat.scan(new BufferSource('model.joblib', bytes), ctx);
const blocks = (r: FormatResult) =>
  r.findings.some((f) => f.severity === 'high' || f.severity === 'critical');

describe('joblib: benign files made by joblib.dump pass', () => {
  const files = readdirSync(join(DIR, 'benign')).filter((f) => f.includes('.joblib'));
  it('covers plain, protocol 2 and every compressor', () => {
    expect(files.sort()).toEqual(
      [
        'model-p2.joblib',
        'model.joblib',
        'model.joblib.bz2',
        'model.joblib.gz',
        'model.joblib.lzma',
        'model.joblib.xz',
        'model.joblib.z',
      ].sort(),
    );
  });
  for (const f of files) {
    it(f, async () => {
      const bytes = read('benign', f);
      expect(detectJoblib(bytes.subarray(0, 65536), bytes.length)).toBe(true);
      const r = await scan(bytes);
      expect(r.findings.filter((x) => x.severity !== 'info')).toEqual([]);
      expect(r.complete).toBe(true);
      // The pipeline's coefficient/scaler arrays plus the three arrays in the list.
      expect(r.details?.arrays).toBe(10);
      expect(r.format).toMatch(/^joblib/);
    });
  }

  it('skips the inline bytes exactly and exposes each array', async () => {
    const bytes = read('benign', 'model.joblib');
    const s = await scanJoblibStream(bytes, policy, {});
    const arrays = (
      (s.value as { keys: PyValue[]; values: PyValue[] }).values[1] as { items: PyInlineArray[] }
    ).items;
    expect(arrays.map((a) => a.kind)).toEqual(['inline-array', 'inline-array', 'inline-array']);
    expect(arrays[0].byteLength).toBe(32); // rand(4) float64
    expect(arrays[0].dataOffset % 16).toBe(0); // joblib aligns array data
    expect(arrays[1].byteLength).toBe(24); // arange(3) int64
    expect(arrays[2].objects).toBeDefined(); // object array: a nested pickle
  });
});

describe('joblib: attacks', () => {
  const cases = [
    'joblib-array-then-payload.joblib',
    'joblib-array-then-payload-zlib.joblib',
    'joblib-array-then-payload.joblib.gz',
    'joblib-array-then-payload.joblib.bz2',
    'joblib-array-then-payload.joblib.xz',
    'joblib-array-then-payload.joblib.lzma',
    'joblib-short-shape.joblib',
    'joblib-object-array-payload.joblib',
  ];
  for (const f of cases) {
    it(`${f} blocks on the payload placed after the array`, async () => {
      const r = await scan(read('attacks', f));
      expect(blocks(r)).toBe(true);
      const hit = r.findings.find((x) => x.rule === 'pickle/dangerous-global');
      expect(hit?.message).toContain('os.system');
    });
  }

  it('a decompression bomb stops at the bound with a blocking finding', async () => {
    const bytes = read('attacks', 'joblib-bomb.joblib.bz2');
    expect(bytes.length).toBeLessThan(2000);
    const r = await scan(bytes);
    expect(blocks(r)).toBe(true);
    expect(r.findings[0].message).toMatch(/more than \d+ bytes/);
  });

  it('every codec stops at the bound', async () => {
    const payload = read('benign', 'model.joblib');
    for (const f of [
      'model.joblib.z',
      'model.joblib.gz',
      'model.joblib.bz2',
      'model.joblib.xz',
      'model.joblib.lzma',
    ]) {
      const data = read('benign', f);
      const codec = f.endsWith('.z')
        ? 'zlib'
        : f.endsWith('.gz')
          ? 'gzip'
          : f.endsWith('.bz2')
            ? 'bz2'
            : f.endsWith('.xz')
              ? 'xz'
              : 'lzma';
      await expect(decompressJoblib(codec, data, 100), f).rejects.toThrow(/more than 100 bytes/);
      expect((await decompressJoblib(codec, data, 1 << 20)).length, f).toBeGreaterThan(payload.length / 2);
    }
  });

  it('corrupt compressed data is unanalysable, not a pass', async () => {
    const bytes = read('benign', 'model.joblib.xz').slice(0, 200);
    const r = await scan(bytes);
    expect(blocks(r)).toBe(true);
  });
});

describe('joblib: detection by content', () => {
  it('claims wrapper pickles and compressed pickles, not plain pickles', () => {
    const plain = read('benign', 'numpy-p4.pkl');
    expect(detectJoblib(plain.subarray(0, 65536), plain.length)).toBe(false);
    const gzNotPickle = new Uint8Array([
      0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x4b, 0x4c, 0x4a, 6, 0, 0xc2, 0x41, 0x24, 0x35, 3, 0, 0, 0,
    ]);
    expect(detectJoblib(gzNotPickle, gzNotPickle.length)).toBe(false);
  });

  it('hands a compressed non-pickle payload back to full detection', async () => {
    nested.length = 0;
    const r = await scan(read('attacks', 'not-a-pickle.txt.bz2'));
    expect(nested).toEqual([{ entry: '(bz2)' }]);
    expect(r.format).toBe('bz2+nested');
  });
});
