/**
 * Every non-pickle format (issue 5): benign real files pass, and each hand-built malicious or malformed
 * fixture blocks with a finding that names its hole. Fixtures: test/fixtures/formats/make_formats.py.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPath } from './harness.js';

const F = join(import.meta.dirname, '..', '..', 'fixtures', 'formats');

describe('benign real files pass', () => {
  it.each([
    ['benign/model.safetensors', 'safetensors'],
    ['benign/pickle-like-length.safetensors', 'safetensors'],
    ['benign/adapter/adapter_model.safetensors', 'safetensors'],
    ['benign/tiny.gguf', 'gguf'],
    ['benign/tiny-v1.gguf', 'gguf'],
    ['benign/mlp.onnx', 'onnx'],
    ['benign/cond.onnx', 'onnx'],
    ['benign/subgraph-function.onnx', 'onnx'],
    ['benign/onnx-external/model.onnx', 'onnx'],
    ['benign/dense.keras', 'keras'],
    ['benign/dense.h5', 'keras-h5'],
    ['benign/savedmodel/saved_model.pb', 'tf-savedmodel'],
    ['benign/adapter/adapter_config.json', 'peft-adapter-config'],
  ])('%s', async (file, format) => {
    const r = await scanPath(join(F, file));
    expect(r.format).toBe(format);
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.verdict).toBe('pass');
  });

  it('describes what it read (tensors, metadata, graph facts)', async () => {
    const st = await scanPath(join(F, 'benign/model.safetensors'));
    expect(st.details).toMatchObject({
      tensors: 5,
      dtypes: { F32: 1, F16: 1, BF16: 1, I64: 1, BOOL: 1 },
      metadata: { format: 'pt' },
    });
    const g = await scanPath(join(F, 'benign/tiny.gguf'));
    expect(g.details).toMatchObject({
      version: 3,
      architecture: 'llama',
      tensors: 3,
      tensorTypes: { F32: 1, F16: 1, Q8_0: 1 },
    });
    const o = await scanPath(join(F, 'benign/subgraph-function.onnx'));
    expect(o.details?.functions).toEqual(['local.fns.Double']);
    expect((o.details?.subgraphs as string[]).some((s) => s.includes('then_branch'))).toBe(true);
    const ext = await scanPath(join(F, 'benign/onnx-external/model.onnx'));
    expect(ext.details?.externalDataFiles).toEqual(['model.onnx.data']);
  });
});

describe('each hole blocks with a finding that names it', () => {
  it.each([
    // safetensors
    ['safetensors/duplicate-key.safetensors', 'safetensors/malformed', /duplicate key "a"/],
    ['safetensors/unsafe-integer.safetensors', 'safetensors/malformed', /not exactly representable/],
    ['safetensors/unknown-dtype.safetensors', 'safetensors/malformed', /unknown dtype "F33"/],
    ['safetensors/overlap.safetensors', 'safetensors/malformed', /overlaps/],
    ['safetensors/gap.safetensors', 'safetensors/malformed', /gap of 8/],
    ['safetensors/out-of-bounds.safetensors', 'safetensors/malformed', /past the 24-byte buffer/],
    ['safetensors/trailing-bytes.safetensors', 'safetensors/malformed', /8 trailing bytes/],
    ['safetensors/size-mismatch.safetensors', 'safetensors/malformed', /needs 20 bytes/],
    [
      'safetensors/metadata-not-string.safetensors',
      'safetensors/malformed',
      /__metadata__\["k"\] is not a string/,
    ],
    ['safetensors/negative-shape.safetensors', 'safetensors/malformed', /shape/],
    ['safetensors/header-past-eof.safetensors', 'safetensors/malformed', /runs past the end/],
    ['safetensors/header-too-large.safetensors', 'safetensors/malformed', /exceeds the .*limit/],
    // GGUF
    ['gguf/bad-version.gguf', 'gguf/malformed', /version 7/],
    ['gguf/string-length-overflow.gguf', 'gguf/malformed', /length .* exceeds the limit/],
    ['gguf/array-count-overflow.gguf', 'gguf/malformed', /array length .* exceeds the limit/],
    ['gguf/unknown-value-type.gguf', 'gguf/malformed', /unknown metadata value type 13/],
    ['gguf/tensor-misaligned.gguf', 'gguf/malformed', /not aligned to 32/],
    ['gguf/tensor-out-of-bounds.gguf', 'gguf/malformed', /outside the .*data section/],
    ['gguf/tensor-unknown-type.gguf', 'gguf/malformed', /unknown ggml type 4/],
    ['gguf/tensor-too-many-dims.gguf', 'gguf/malformed', /5 dimensions/],
    ['gguf/tensor-overlap.gguf', 'gguf/malformed', /overlap/],
    ['gguf/tensor-count-huge.gguf', 'gguf/malformed', /tensor count .* exceeds/],
    ['gguf/chat-template-globals.gguf', 'template/private-name', /__globals__/],
    ['gguf/chat-template-subclasses.gguf', 'template/private-name', /__subclasses__/],
    ['gguf/chat-template-obfuscated.gguf', 'template/computed-name', /attr/],
    // ONNX
    ['onnx/external-absolute.onnx', 'onnx/external-data-path', /"\/etc\/hostname".*absolute path/],
    ['onnx/external-traversal.onnx', 'onnx/external-data-path', /climbs out of the model folder/],
    ['onnx/symlink/model.onnx', 'onnx/external-data-path', /symlink resolving outside/],
    ['onnx/external-missing.onnx', 'onnx/external-data-missing', /missing-weights\.bin.*missing/],
    ['onnx/custom-domain.onnx', 'onnx/custom-op-domain', /Exfiltrate of domain "evil\.ops"/],
    ['onnx/custom-domain-in-subgraph.onnx', 'onnx/custom-op-domain', /Exfiltrate of domain "evil\.ops"/],
    ['onnx/truncated.onnx', 'onnx/malformed', /runs past the end/],
    [
      'onnx/raw-data-size.onnx',
      'onnx/malformed',
      /holds 16 bytes but its dims \[1024\] and data type 1 need 4096/,
    ],
    // Keras
    ['keras/lambda.keras', 'keras/lambda-layer', /Lambda layer lambda/],
    ['keras/module-injection.keras', 'keras/module-outside-keras', /import os\.system/],
    ['keras/get-file.keras', 'keras/unsafe-callable', /keras\.utils\.get_file/],
    ['keras/enable-unsafe.keras', 'keras/unsafe-callable', /enable_unsafe_deserialization/],
    ['keras/custom-object.keras', 'keras/custom-object', /MyPackage>Backdoor/],
    ['keras/vocabulary-file.keras', 'keras/unsafe-callable', /reads "\/etc\/passwd"/],
    ['keras/weights-external.keras', 'keras/h5-external-dataset', /external file "\/etc\/hostname"/],
    ['keras/lambda.h5', 'keras/lambda-layer', /Lambda layer lambda in model_config/],
    ['keras/external-dataset.h5', 'keras/h5-external-dataset', /external file "\/etc\/hostname"/],
    [
      'keras/virtual-dataset.h5',
      'keras/h5-virtual-dataset',
      /virtual dataset .* "\/tmp\/antidote-other\.h5"/,
    ],
    ['keras/external-link.h5', 'keras/h5-virtual-dataset', /external link .* "\/etc\/antidote\.h5"/],
    ['keras/truncated.h5', 'keras/malformed', /cannot open it: truncated file/],
    // SavedModel
    ['savedmodel/pyfunc/saved_model.pb', 'savedmodel/python-op', /PyFunc runs Python/],
    [
      'savedmodel/pyfunc-in-function/saved_model.pb',
      'savedmodel/python-op',
      /EagerPyFunc runs Python \(in function __inference_call_7\)/,
    ],
    ['savedmodel/write-file/saved_model.pb', 'savedmodel/file-write-op', /WriteFile writes files/],
    ['savedmodel/read-file/saved_model.pb', 'savedmodel/file-read-op', /ReadFile reads files/],
    [
      'savedmodel/save-const-path/saved_model.pb',
      'savedmodel/file-write-op',
      /SaveV2 writes files: its file name is a constant/,
    ],
    ['savedmodel/unknown-op/saved_model.pb', 'savedmodel/unknown-op', /MyCustomNativeOp/],
    ['savedmodel/truncated/saved_model.pb', 'savedmodel/malformed', /runs past the end/],
    // TorchScript (the torchscript format module hands its code/ files to analyzeTorchScriptCode)
    [
      'torchscript-io.pt',
      'torchscript/io-op',
      /torch\.save .*torch\.from_file|torch\.from_file .*torch\.save/,
    ],
    // adapters
    ['adapter-auto-mapping/adapter_config.json', 'adapter/unusual', /import Backdoor from evil_lib\.models/],
  ])('%s', async (file, rule, pattern) => {
    const r = await scanPath(join(F, 'malicious', file));
    expect(r.verdict).toBe('block');
    const hits = r.findings.filter((f) => f.rule === rule && f.severity !== 'info');
    expect(hits.map((f) => f.message).join('\n')).toMatch(pattern);
  });

  it('Keras Lambda findings carry the serialized code and the names in it', async () => {
    const r = await scanPath(join(F, 'malicious/keras/lambda.keras'));
    const f = r.findings.find((x) => x.rule === 'keras/lambda-layer');
    expect(typeof f?.evidence?.code).toBe('string');
    expect(f?.evidence?.names).toEqual(expect.arrayContaining(['os', 'system']));
  });

  it('benign safetensors checkpoints inside a .keras weights file are scanned as members', async () => {
    const r = await scanPath(join(F, 'benign/dense.keras'));
    expect(r.details?.members).toEqual(['metadata.json', 'config.json', 'model.weights.h5']);
  });
});

describe('through the CLI (built dist/)', () => {
  it('scanning the benign folder passes every file and the folder summaries; a malicious file exits 1', async () => {
    const { runCli } = await import('../../helpers/cli.js');
    const ok = runCli(['scan', join(F, 'benign'), '--format', 'json']);
    const report = JSON.parse(ok.stdout) as {
      results: Array<{ path: string; format: string; verdict: string }>;
    };
    expect(report.results.filter((r) => r.verdict !== 'pass')).toEqual([]);
    expect(report.results.map((r) => r.format)).toEqual(
      expect.arrayContaining(['safetensors', 'gguf', 'onnx', 'keras', 'keras-h5', 'tf-savedmodel']),
    );
    expect(ok.code).toBe(0);
    const bad = runCli(['scan', join(F, 'malicious/onnx/external-absolute.onnx'), '--format', 'json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).results[0].findings.map((f: { rule: string }) => f.rule)).toContain(
      'onnx/external-data-path',
    );
  });
});
