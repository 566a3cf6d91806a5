/** Unit behaviour of the format helpers: strict JSON, chat-template inspection, TorchScript code, repositories. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplate } from '../../../src/artifacts/formats/jinja/check.js';
import { parseStrictJson } from '../../../src/artifacts/formats/strict-json.js';
import { analyzeTorchScriptCode } from '../../../src/artifacts/formats/torchscript-code.js';
import { scanPaths } from '../../../src/artifacts/scan.js';

const F = join(import.meta.dirname, '..', '..', 'fixtures', 'formats');

describe('strict JSON', () => {
  it('rejects what JSON.parse silently accepts', () => {
    expect(JSON.parse('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('{"x":{"k":1,"k":1}}')).toThrow(/duplicate key/);
    expect(() => parseStrictJson('[9007199254740993]')).toThrow(/not exactly representable/);
    expect(() => parseStrictJson('{"a":1} x')).toThrow(/after the JSON value/);
    expect(() => parseStrictJson(new Uint8Array([0x22, 0xff, 0x22]))).toThrow(/UTF-8/);
    expect(() => parseStrictJson('"\\ud800"')).toThrow(/surrogate/);
  });
  it('reads valid JSON like JSON.parse, with __proto__ as a plain key', () => {
    const text = '{"a":[1,2.5,-3e2,true,null,"\\u00e9\\ud83d\\ude00"],"b":{"c":"d"},"__proto__":{"x":1}}';
    const v = parseStrictJson(text) as Record<string, unknown>;
    expect(JSON.stringify(v)).toBe(JSON.stringify(JSON.parse(text)));
    expect(Object.keys(v)).toContain('__proto__');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('chat template inspection', () => {
  const script = readFileSync(join(F, 'make_formats.py'), 'utf8');
  it('passes the benign Llama 3 and ChatML templates', () => {
    for (const name of ['LLAMA3_TEMPLATE', 'CHATML_TEMPLATE']) {
      const m = new RegExp(`${name} = \\(([\\s\\S]*?)\\n\\)`).exec(script);
      const tpl = (m?.[1] ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .map((l) => JSON.parse(l.replace(/^"|"$/g, (q) => q).replace(/\\'/g, "'")))
        .join('');
      expect(tpl.length).toBeGreaterThan(100);
      expect(checkTemplate(tpl)).toEqual([]);
    }
  });
  it.each([
    ["{{ cycler.__init__.__globals__.os.popen('id').read() }}", 'template/unsafe-global', 'cycler'],
    ["{{ ''.__class__.__mro__[1].__subclasses__() }}", 'template/private-name', '.__subclasses__'],
    ['{{ self._TemplateReference__context.joiner }}', 'template/unsafe-global', 'self'],
    ["{{ lipsum|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}", 'template/computed-name', "filter 'attr'"],
    ["{{ lipsum|attr('__glo' ~ 'bals__') }}", 'template/computed-name', "filter 'attr'"],
    ["{% set x = request|attr('application') %}", 'template/unsafe-global', 'request'],
    [
      "{{ namespace.__init__.__globals__['__builtins__']['eval']('1') }}",
      'template/function-access',
      'namespace',
    ],
    [
      "{{ x['__im' + 'port__']('os') }}",
      'template/computed-name',
      'the key "__im" + "port__" built by the template',
    ],
  ])('%s -> %s', (tpl, rule, construct) => {
    const v = checkTemplate(tpl);
    expect(v.map((h) => h.rule.meta.id)).toContain(rule);
    expect(v.find((h) => h.rule.meta.id === rule)?.construct).toContain(construct);
  });
});

describe('TorchScript code', () => {
  it('reports each file with what it calls, and flags I/O and custom namespaces', () => {
    const benign = analyzeTorchScriptCode([
      {
        name: 'code/__torch__.py',
        text: 'def forward(self, x: Tensor) -> Tensor:\n  return torch.relu(torch.linear(x, self.weight, None))\n',
      },
    ]);
    expect(benign.map((f) => f.severity)).toEqual(['info']);
    expect(benign[0].evidence?.calls).toEqual(['torch.linear', 'torch.relu']);
    const bad = analyzeTorchScriptCode([
      {
        name: 'code/__torch__/m.py',
        text: 'def forward(self, x):\n  torch.save(x, "/tmp/x")\n  y = ops.my_ext.exfil(x)\n  z = torch.ops.aten.add(x, 1)\n  return torch.classes.evil.Thing\n',
      },
    ]);
    const io = bad.find((f) => f.rule === 'torchscript/io-op');
    expect(io?.severity).toBe('critical');
    expect(io?.message).toMatch(/torch\.save/);
    expect(io?.location?.line).toBe(2);
    const custom = bad.find((f) => f.rule === 'torchscript/custom-op');
    expect(custom?.evidence?.operators).toEqual(
      expect.arrayContaining(['my_ext::exfil', 'torch.classes.evil.Thing']),
    );
    expect(JSON.stringify(custom)).not.toMatch(/aten::add/);
  });
});

describe('model repositories', () => {
  const summary = async (dir: string) => {
    const report = await scanPaths([join(F, dir)], { failOn: 'high', allow: [] });
    return report.results.find((r) => r.format === 'model-repository');
  };
  it('a benign hub folder gets a passing summary', async () => {
    const s = await summary('benign/repo');
    expect(s?.verdict).toBe('pass');
    expect(s?.details).toMatchObject({ files: 5, formats: { safetensors: 1 }, blocked: [] });
  });
  it('describes a PEFT adapter with its weights', async () => {
    const s = await summary('benign/adapter');
    expect(s?.verdict).toBe('pass');
    expect(s?.details?.adapter).toMatchObject({
      peftType: 'LORA',
      baseModel: 'meta-llama/Llama-3.2-1B',
      rank: 8,
      targetModules: ['q_proj', 'v_proj'],
      weights: [{ file: 'adapter_model.safetensors', format: 'safetensors', verdict: 'pass' }],
    });
  });
  it('auto_map code, cross-repository code and Python files block the folder', async () => {
    const s = await summary('malicious/repo-remote-code');
    expect(s?.verdict).toBe('block');
    const msgs = s?.findings.map((f) => `${f.rule} ${f.message}`).join('\n');
    expect(msgs).toMatch(/repo\/remote-code .*modeling_evil\.py under trust_remote_code/);
    expect(msgs).toMatch(/another repository \(other-org\/tokenizers\)/);
    expect(msgs).toMatch(/repo\/python-file 2 Python file/);
  });
  it('a tokenizer chat template with an injection blocks the folder', async () => {
    const s = await summary('malicious/repo-chat-template');
    expect(s?.verdict).toBe('block');
    expect(
      s?.findings.some(
        (f) => f.rule.startsWith('template/') && /__globals__|lipsum|cycler|self/.test(f.message),
      ),
    ).toBe(true);
  });
});
