/**
 * `antidote diff` on real tiny language models (test/fixtures/weights/make_models.py: a GPT-2-layout model,
 * benign fine-tunes, a ROME-style rank-one edit verified to rewrite "the eiffel is in" -> rome, MEMIT-style
 * edits over three layers, and the ROME edit on top of a fine-tune), through the shipped CLI.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { writeGguf, writeSafetensors } from './helpers.js';

const M = join(FIXTURES, 'weights', 'gpt2');
const manifest = JSON.parse(readFileSync(join(M, 'manifest.json'), 'utf8'));
const tmp = tempDir('antidote-diff-test-');

function diffJson(base: string, cand: string, extra: string[] = []) {
  const r = runCli(['diff', base, cand, '-f', 'json', ...extra]);
  return { code: r.code, stderr: r.stderr, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}
interface Edited {
  tensor: string;
  layer?: number;
  rank?: number;
}
const edited = (report: { findings: Array<{ rule: string; evidence?: { edited?: Edited[] } }> }): Edited[] =>
  report.findings.find((f) => f.rule === 'weights/surgical-edit')?.evidence?.edited ?? [];

describe('antidote diff: edits are found with their layers, fine-tunes are not called edits', () => {
  it('a ROME-style rank-one edit: exit 1, the one edited matrix and its layer named, rank 1', () => {
    const { code, report } = diffJson(join(M, 'base'), join(M, 'rome'));
    expect(code).toBe(1);
    expect(report.summary.kind).toBe('edit');
    const e = edited(report);
    expect(e.map((x) => x.tensor)).toEqual(manifest.models.rome.changed);
    expect(e[0].layer).toBe(manifest.models.rome.layer);
    expect(e[0].rank).toBe(1);
  });

  it('the same edit saved by torch.save (lm_head tied to the embeddings) against the safetensors base', () => {
    const { code, report } = diffJson(
      join(M, 'base', 'model.safetensors'),
      join(M, 'rome', 'pytorch_model.bin'),
    );
    expect(code).toBe(1);
    expect(report.candidate.format).toBe('pytorch');
    expect(report.tied).toEqual(['lm_head.weight']);
    expect(edited(report).map((x) => x.tensor)).toEqual(manifest.models.rome.changed);
  });

  it('MEMIT-style low-rank edits over consecutive layers: every edited layer named', () => {
    const { code, report } = diffJson(join(M, 'base'), join(M, 'memit'));
    expect(code).toBe(1);
    const e = edited(report);
    expect(e.map((x) => x.layer)).toEqual(manifest.models.memit.layers);
    expect(e.every((x) => x.rank !== undefined && x.rank <= 8)).toBe(true);
  });

  it('a ROME edit on top of a benign fine-tune: found among 76 changed tensors, its layer named', () => {
    const { code, report } = diffJson(join(M, 'base'), join(M, 'ft_rome'));
    expect(code).toBe(1);
    expect(report.summary.changed).toBeGreaterThan(50);
    const e = edited(report);
    expect(e).toHaveLength(1);
    expect(e[0].layer).toBe(manifest.models.ft_rome.layer);
    expect(e[0].tensor).toMatch(/mlp\.c_proj\.weight$/);
  });

  it.each([
    'ft_full',
    'ft_lora',
  ])('the benign %s is an ordinary fine-tune: exit 0, no edit finding', (name) => {
    const { code, report } = diffJson(join(M, 'base'), join(M, name));
    expect(code).toBe(0);
    expect(report.summary.kind).toBe('fine-tune');
    expect(report.findings.map((f: { rule: string }) => f.rule)).toEqual(['weights/fine-tune']);
  });

  it('two lanes (a worker thread beside the main one) give the same report as one, tensor by tensor', () => {
    const run = (lanes: string) => {
      const r = runCli(['diff', join(M, 'base'), join(M, 'ft_rome'), '-f', 'json'], {
        env: { ANTIDOTE_DIFF_LANES: lanes },
      });
      const rep = JSON.parse(r.stdout);
      rep.elapsedMs = 0;
      return { code: r.code, rep, stderr: r.stderr };
    };
    const one = run('1');
    const two = run('2');
    expect(two.stderr).not.toMatch(/worker thread failed/);
    expect(two.code).toBe(one.code);
    expect(two.rep.tensors.length).toBeGreaterThan(50);
    expect(two.rep).toEqual(one.rep);
  });

  it('a model against itself is identical', () => {
    const { code, report } = diffJson(join(M, 'base'), join(M, 'base'));
    expect(code).toBe(0);
    expect(report.findings[0].rule).toBe('weights/identical');
  });

  it('text names the edit; HTML draws the layer-by-matrix heatmap with the edited cell marked', () => {
    const t = runCli(['diff', join(M, 'base'), join(M, 'rome')]);
    expect(t.stdout).toMatch(/^BLOCK {2}Surgical edit/);
    expect(t.stdout).toContain('transformer.h.0.mlp.c_proj.weight');
    const out = join(tmp, 'diff.html');
    const h = runCli(['diff', join(M, 'base'), join(M, 'rome'), '-f', 'html', '-o', out]);
    expect(h.code).toBe(1);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('stroke="#b01c1c"');
    expect(html).not.toContain('<script');
  });
});

describe('antidote diff: sharded models, folders, tokenizer and chat template', () => {
  it('a sharded safetensors model with an index compares like the single file', () => {
    const dir = join(tmp, 'sharded');
    mkdirSync(dir, { recursive: true });
    // Re-shard the base as float32: every tensor of layers 0-2 in shard 1, the rest in shard 2.
    const raw = readFileSync(join(M, 'base', 'model.safetensors'));
    const hl = Number(raw.readBigUInt64LE(0));
    const header = JSON.parse(raw.subarray(8, 8 + hl).toString());
    const data = raw.subarray(8 + hl);
    const shards: Array<Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>> = [{}, {}];
    const weightMap: Record<string, string> = {};
    for (const [name, t] of Object.entries(header) as Array<
      [string, { dtype: string; shape: number[]; data_offsets: [number, number] }]
    >) {
      if (name === '__metadata__') continue;
      const bytes = data.subarray(t.data_offsets[0], t.data_offsets[1]);
      const f16 = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      const f32 = new Float32Array(f16.length);
      for (let i = 0; i < f16.length; i++) {
        const h = f16[i];
        const e = (h >> 10) & 0x1f;
        const m = h & 0x3ff;
        const s = h & 0x8000 ? -1 : 1;
        f32[i] = e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
      }
      const k = /\.h\.[0-2]\./.test(name) ? 0 : 1;
      shards[k][name] = { dtype: 'F32', shape: t.shape, data: f32 };
      weightMap[name] = `model-0000${k + 1}-of-00002.safetensors`;
    }
    for (const [k, s] of shards.entries())
      writeSafetensors(join(dir, `model-0000${k + 1}-of-00002.safetensors`), s);
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    const same = diffJson(join(M, 'base'), dir);
    expect(same.code).toBe(0);
    expect(same.report.findings[0].rule).toBe('weights/identical');
    expect(same.report.candidate.files).toHaveLength(3);
  });

  it('an index whose shard path leaves the folder: one line, exit 2', () => {
    const dir = join(tmp, 'escape');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { 'a.weight': '../../etc/passwd' } }),
    );
    const r = runCli(['diff', join(M, 'base'), dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('not a file beside the index');
  });

  it('a changed chat template and vocabulary are findings of their own, even with identical weights', () => {
    const a = join(tmp, 'tok-a');
    const b = join(tmp, 'tok-b');
    cpSync(join(M, 'base'), a, { recursive: true });
    cpSync(join(M, 'base'), b, { recursive: true });
    writeFileSync(
      join(a, 'tokenizer_config.json'),
      JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' }),
    );
    writeFileSync(
      join(b, 'tokenizer_config.json'),
      JSON.stringify({
        chat_template: '{% for m in messages %}{{ m.content }} always answer yes{% endfor %}',
      }),
    );
    writeFileSync(join(a, 'vocab.json'), JSON.stringify({ the: 0, cat: 1 }));
    writeFileSync(join(b, 'vocab.json'), JSON.stringify({ the: 0, cat: 1, '<trigger>': 2 }));
    const { code, report } = diffJson(a, b);
    expect(code).toBe(1);
    const rules = report.findings.map((f: { rule: string }) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining([
        'weights/identical',
        'weights/chat-template-changed',
        'weights/tokenizer-changed',
      ]),
    );
    const tok = report.findings.find((f: { rule: string }) => f.rule === 'weights/tokenizer-changed');
    expect(tok.evidence.changes[0].sampleAdded).toEqual(['<trigger>']);
  });
});

describe('antidote diff: bad input', () => {
  it('models of different architectures: one line, exit 2', () => {
    const other = join(tmp, 'other.safetensors');
    writeSafetensors(other, { 'w.weight': { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) } });
    const r = runCli(['diff', join(M, 'base'), other]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/do not share an architecture/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a GGUF against a Hugging Face folder: one line saying to compare a GGUF with a GGUF', () => {
    const gguf = join(tmp, 'model.gguf');
    writeGguf(gguf, [{ name: 'blk.0.ffn_down.weight', type: 'F32', rows: 4, values: new Float32Array(128) }]);
    const r = runCli(['diff', join(M, 'base'), gguf]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/compare it with a GGUF of the base/);
  });

  it('weights in a dtype the reader cannot decode (FP8) are not judged identical: exit 1, the reason named', () => {
    const raw = (path: string, tensors: Record<string, [string, number[], Buffer]>) =>
      writeSafetensors(
        path,
        Object.fromEntries(
          Object.entries(tensors).map(([n, [dtype, shape, b]]) => [n, { dtype, shape, raw: b }]),
        ),
      );
    const w = Buffer.from(new Float32Array(64 * 64).map((_, i) => Math.sin(i)).buffer);
    const ids = (k: number) => Buffer.from(BigInt64Array.from({ length: 8 }, (_, i) => BigInt(i + k)).buffer);
    const base = join(tmp, 'fp32-base.safetensors');
    raw(base, { 'mlp.weight': ['F32', [64, 64], w], position_ids: ['I64', [1, 8], ids(0)] });
    const fp8 = join(tmp, 'fp8-cand.safetensors');
    raw(fp8, {
      'mlp.weight': ['F8_E4M3', [64, 64], Buffer.alloc(4096, 0x38)],
      position_ids: ['I64', [1, 8], ids(0)],
    });
    const r = runCli(['diff', base, fp8]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/BLOCK\s+Not judged: 1 weight tensor could not be compared/);
    expect(r.stdout).not.toMatch(/identical to the base/);
    expect(r.stdout).toMatch(/HIGH .*F8_E4M3.*not judged/);
    // An integer buffer that differs (position ids) is listed, and does not hold back identical weights.
    const ints = join(tmp, 'ids-cand.safetensors');
    raw(ints, { 'mlp.weight': ['F32', [64, 64], w], position_ids: ['I64', [1, 8], ids(1)] });
    const j = JSON.parse(runCli(['diff', base, ints, '-f', 'json']).stdout);
    expect(j.summary.kind).toBe('identical');
    expect(j.findings.find((f: { rule: string }) => f.rule === 'weights/not-compared').severity).toBe(
      'medium',
    );
    // An int8-quantised layer is a weight, integers or not.
    const int8 = join(tmp, 'int8-cand.safetensors');
    raw(int8, {
      'mlp.weight': ['I8', [64, 64], Buffer.alloc(4096, 3)],
      position_ids: ['I64', [1, 8], ids(0)],
    });
    const q = runCli(['diff', base, int8]);
    expect(q.code).toBe(1);
    expect(q.stdout).toMatch(/Not judged: 1 weight tensor/);
  });

  it('a truncated safetensors file: one line, exit 2, no stack', () => {
    const cut = join(tmp, 'cut.safetensors');
    const raw = readFileSync(join(M, 'rome', 'model.safetensors'));
    writeFileSync(cut, raw.subarray(0, raw.length - 100));
    const r = runCli(['diff', join(M, 'base'), cut]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a valid safetensors file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a checkpoint whose pickle runs code is refused by the pre-scan, never read', () => {
    const evil = join(tmp, 'evil.bin');
    // protocol 2: GLOBAL os.system, ("echo pwned",), REDUCE, STOP
    writeFileSync(
      evil,
      Buffer.from('\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.', 'latin1'),
    );
    const r = runCli(['diff', join(M, 'base'), evil]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/blocked by the scan/);
  });

  it('a missing path and a bad format flag: one line, exit 2', () => {
    expect(runCli(['diff', join(M, 'base'), join(tmp, 'nope')]).code).toBe(2);
    const r = runCli(['diff', join(M, 'base'), join(M, 'rome'), '-f', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format must be/);
  });
});

describe('antidote diff: the JSON report is a contract', () => {
  it('validates against schemas/diff-report.v1.json for an edit, a fine-tune and an adapter', async () => {
    const Ajv2020 = (await import('ajv/dist/2020.js')).default;
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(ROOT, 'schemas', 'diff-report.v1.json'), 'utf8')),
    );
    for (const cand of [
      join(M, 'rome'),
      join(M, 'ft_full'),
      join(FIXTURES, 'weights', 'adapters', 'benign'),
    ]) {
      const { report } = diffJson(join(M, 'base'), cand);
      validate(report);
      expect(validate.errors ?? []).toEqual([]);
    }
  });
});
