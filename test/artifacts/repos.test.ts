/**
 * Folders laid out like real model-hub repositories (test/fixtures/repos, made by make_repos.py with the real
 * libraries): every benign layout passes, and every malicious variant blocks for the problem planted in it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/artifacts/scan.js';
import { atLeast } from '../../src/core/severity.js';
import { renderScanJson } from '../../src/report/json.js';
import { FIXTURES, ROOT as REPO_ROOT } from '../helpers/cli.js';

const ROOT = join(FIXTURES, 'repos');
const layouts = (kind: string) =>
  readdirSync(join(ROOT, kind), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
const benign = layouts('benign');
const malicious = layouts('malicious');
const expected = JSON.parse(readFileSync(join(ROOT, 'malicious', 'EXPECTED.json'), 'utf8')) as Record<
  string,
  string
>;

describe('model repository layouts', () => {
  it('has at least 20 benign layouts and a malicious variant of several', () => {
    expect(benign.length).toBeGreaterThanOrEqual(20);
    expect(malicious.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(expected).sort()).toEqual(malicious);
  });

  it('passes every benign layout', async () => {
    const blocked: string[] = [];
    let files = 0;
    let passed = 0;
    for (const name of benign) {
      const r = await scanPaths([join(ROOT, 'benign', name)], { failOn: 'high', allow: [] });
      files += r.results.length;
      const blocks = r.results.filter((x) => x.verdict === 'block');
      if (!blocks.length) passed++;
      for (const x of blocks)
        blocked.push(`${x.path}: ${x.findings.map((f) => `${f.rule} ${f.message}`).join('; ')}`);
    }
    console.log(`benign layouts: ${passed}/${benign.length} pass (${files} results)`);
    expect(blocked).toEqual([]);
  }, 60_000);

  it('blocks every malicious variant for its planted problem', async () => {
    const missed: string[] = [];
    for (const name of malicious) {
      const r = await scanPaths([join(ROOT, 'malicious', name)], { failOn: 'high', allow: [] });
      const hit = r.results.some(
        (x) =>
          x.verdict === 'block' &&
          x.findings.some((f) => f.rule === expected[name] && atLeast(f.severity, 'high')),
      );
      if (!hit) missed.push(`${name} (expected ${expected[name]})`);
    }
    console.log(
      `malicious variants: ${malicious.length - missed.length}/${malicious.length} block for their planted problem`,
    );
    expect(missed).toEqual([]);
  }, 60_000);

  it('does not call an excluded shard missing, and lists it as skipped', async () => {
    const dir = join(ROOT, 'benign', 'llama-2-sharded');
    const r = await scanPaths([dir], { failOn: 'high', allow: [], exclude: ['pytorch_model-*.bin'] });
    expect(r.results.filter((x) => x.verdict === 'block')).toEqual([]);
    expect((r.skipped ?? []).map((s) => s.path.slice(dir.length + 1)).sort()).toEqual([
      'pytorch_model-00001-of-00002.bin',
      'pytorch_model-00002-of-00002.bin',
    ]);
  });

  it('writes JSON that matches the versioned schema, skipped list included', async () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schemas', 'scan-report.v1.json'), 'utf8'));
    const validate = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    const r = await scanPaths([join(ROOT, 'benign'), join(ROOT, 'malicious')], {
      failOn: 'high',
      allow: [],
      exclude: ['*.gguf'],
    });
    const json = JSON.parse(renderScanJson(r));
    expect(json.skipped.length).toBe(3);
    validate(json);
    expect(validate.errors ?? []).toEqual([]);
  }, 60_000);

  it('reads the files by their structure, not as pickles or unknown files', async () => {
    const formatOf = async (dir: string) => {
      const r = await scanPaths([join(ROOT, 'benign', dir)], { failOn: 'high', allow: [] });
      return new Map(r.results.map((x) => [x.path.slice(join(ROOT, 'benign', dir).length + 1), x.format]));
    };
    const bert = await formatOf('bert-base-uncased');
    expect(bert.get('flax_model.msgpack')).toBe('msgpack');
    expect(bert.get('LICENSE')).toBe('unknown');
    const llama = await formatOf('llama-2-sharded');
    expect(llama.get('tokenizer.model')).toBe('sentencepiece');
    expect(llama.get('model.safetensors.index.json')).toBe('weights-index');
    expect((await formatOf('mistral-proto-header')).get('model-00001-of-00002.safetensors')).toBe(
      'safetensors',
    );
    const perTensor = await formatOf('onnx-external-per-tensor');
    const data = [...perTensor].filter(([k]) => k.startsWith('onnx__'));
    expect(data.length).toBe(6);
    for (const [, f] of data) expect(f).toBe('onnx-external-data');
    expect((await formatOf('onnx-external-one-file')).get('weights.bin')).toBe('onnx-external-data');
    expect((await formatOf('sentence-transformers')).get('openvino/openvino_model.bin')).toBe(
      'openvino-weights',
    );
    expect((await formatOf('tiktoken')).get('tokenizer.model')).toBe('tiktoken');
    const project = await formatOf('project-files');
    for (const f of [
      'LICENSE',
      'CHANGELOG',
      'CHANGELOG.md',
      'CMakeLists.txt',
      'coco.names',
      'requirements.txt',
    ])
      expect(project.get(f), f).toBe('unknown');
  }, 60_000);
});

describe('the new structural readers under mutation', () => {
  it('never fail unexpectedly, and never pass a file they did not read completely', async () => {
    const { scanSource } = await import('../../src/artifacts/scan.js');
    const { MemorySource } = await import('../../src/artifacts/containers/sync-source.js');
    const { loadScanPolicy } = await import('../../src/artifacts/formats/pickle-stream.js');
    const policy = await loadScanPolicy(undefined, []);
    const files = [
      ['bert-base-uncased', 'flax_model.msgpack'],
      ['llama-2-sharded', 'tokenizer.model'],
      ['tiktoken', 'tokenizer.model'],
      ['llama-2-sharded', 'model.safetensors.index.json'],
    ];
    let seed = 99;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    let cases = 0;
    for (const [dir, name] of files) {
      const orig = new Uint8Array(readFileSync(join(ROOT, 'benign', dir, name)));
      for (let i = 0; i < 150; i++) {
        const b = orig.slice(0, i % 3 === 0 ? next() % orig.length : orig.length);
        for (let k = 0; k < 1 + (i % 4); k++) if (b.length) b[next() % b.length] ^= 1 << (next() % 8);
        const r = await scanSource(new MemorySource(name, b), { policy, failOn: 'high', displayPath: name });
        cases++;
        expect(
          r.findings.map((f) => f.rule),
          `${name} #${i}`,
        ).not.toContain('scan/internal-error');
        if (['msgpack', 'sentencepiece', 'tiktoken'].includes(r.format) && r.complete)
          expect(
            r.findings.filter((f) => atLeast(f.severity, 'high')),
            `${name} #${i}`,
          ).toEqual([]);
      }
    }
    expect(cases).toBe(600);
  }, 60_000);
});
