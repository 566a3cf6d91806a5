import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { hfModel, makeModel, tempDir } from '../provenance/helpers.js';

describe('antidote bom', () => {
  it('writes a validated CycloneDX 1.6 BOM with a scan verdict per model', () => {
    const base = tempDir();
    hfModel(join(base, 'bert'));
    makeModel(join(base, 'data'), { 'train.jsonl': '{"t":1}\n' });
    const r = runCli(['bom', 'bert', '--dataset', 'data', '-o', 'bom.cdx.json'], { cwd: base });
    expect(r.stderr).toMatch(/wrote bom\.cdx\.json \(CycloneDX 1\.6, validated\)/);
    expect(r.code).toBe(0);
    expect(readdirSync(base).filter((n) => n.includes('antidote-tmp'))).toEqual([]);
    const bom = JSON.parse(readFileSync(join(base, 'bom.cdx.json'), 'utf8'));
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1 });
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    const model = bom.components.find((c: { type: string }) => c.type === 'machine-learning-model');
    const verdict = model.properties.find((p: { name: string }) => p.name === 'antidote:scan:verdict');
    // The scanner's verdict (pass/block) or not-scanned when it could not run; never absent.
    expect(['pass', 'block', 'not-scanned']).toContain(verdict.value);
    expect(model.properties).toContainEqual({
      name: 'antidote:format',
      value: expect.stringMatching(/safetensors/),
    });
    expect(bom.components.find((c: { type: string }) => c.type === 'data').name).toBe('data');
  });

  it('to stdout, and a missing path is a one-line error', () => {
    const base = tempDir();
    makeModel(join(base, 'm'), { 'w.onnx': 'x' });
    const r = runCli(['bom', 'm/w.onnx', '--no-scan'], { cwd: base });
    expect(r.code).toBe(0);
    const bom = JSON.parse(r.stdout);
    expect(bom.components[0].hashes[0].alg).toBe('SHA-256');
    expect(bom.components[0].properties).toContainEqual({ name: 'antidote:format', value: 'onnx' });
    const e = runCli(['bom', 'nope'], { cwd: base });
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/nope: no such file/);
  });
});
