/** Content detection: what a file is from its bytes, never its name. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isTar,
  isZip,
  looksLikePickle,
  pickleEvidence,
  sniffPickle,
  walkPickle,
  wrapperKind,
} from '../../src/artifacts/detect.js';
import { parseStrictJson } from '../../src/artifacts/formats/strict-json.js';
import { detectFormat } from '../../src/artifacts/scan.js';
import { CORPUS, FIXTURES } from '../helpers/cli.js';
import { benignPickle, bytes, callPickle0 } from './helpers/pickles.js';

const real = (n: string) => new Uint8Array(readFileSync(join(FIXTURES, 'real', n)));

describe('pickle sniffing', () => {
  it('recognises every protocol, 0 to 5, including text pickles without PROTO', () => {
    for (let p = 0; p <= 5; p++) {
      const b = real(`plain_protocol${p}.pkl`);
      expect(sniffPickle(b), `protocol ${p}`).toBe('pickle');
      expect(looksLikePickle(b, { complete: true })).toBe(true);
    }
    expect(b0(callPickle0('os', 'system', 'ls'))).toBe('pickle');
  });

  it('does not take text, JSON, Python source or random bytes for a pickle', () => {
    const texts = [
      '{"architectures": ["BertModel"]}',
      '# Model card\nThis model ...\n',
      'import torch\nimport torch.nn as nn\n\nclass Net(nn.Module):\n    pass\n',
      'coverage report\n=====\nsome words\n',
      'See the docs.\n',
      'hello world',
    ];
    for (const t of texts)
      expect(looksLikePickle(new TextEncoder().encode(t), { complete: true }), t).toBe(false);
    // tensor-like bytes with a PROTO-looking start are not a pickle unless the structure holds
    let seed = 7;
    let fooled = 0;
    for (let i = 0; i < 2000; i++) {
      const r = new Uint8Array(64);
      for (let k = 0; k < r.length; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        r[k] = seed & 0xff;
      }
      r[0] = 0x80;
      r[1] = 2 + (i % 4);
      if (sniffPickle(r, 0, { requireProto: true, minPrefixOpcodes: 16 }) !== 'no') fooled++;
    }
    expect(fooled).toBeLessThan(5);
    // and random bytes never "import a name written out as text" (the protocol 0 test for unnamed entries)
    let named = 0;
    for (let i = 0; i < 20000; i++) {
      const r = new Uint8Array(512);
      for (let k = 0; k < r.length; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        r[k] = seed >> 8;
      }
      if (walkPickle(r).namedImports) named++;
    }
    expect(named).toBe(0);
    expect(walkPickle(callPickle0('os', 'system', 'id')).namedImports).toBe(true);
  });

  it('treats a broken stream that imports a name as a pickle: CPython imports before it fails', () => {
    const p = callPickle0('os', 'system', 'ls');
    const broken = bytes(p.subarray(0, p.length - 2), 0xff);
    expect(sniffPickle(broken)).toBe('no');
    expect(walkPickle(broken).imports).toBe(true);
    expect(looksLikePickle(broken, { complete: true })).toBe(true);
    // a text line starting with "c" is not a Python name: no import, no pickle
    expect(
      looksLikePickle(new TextEncoder().encode('chapter one\nthe start\n\xff'), { complete: true }),
    ).toBe(false);
  });

  it('sees a long pickle whose head is well formed as a pickle only when the head is not the whole file', () => {
    const head = benignPickle.subarray(0, benignPickle.length - 1);
    expect(looksLikePickle(head, { complete: false })).toBe(true);
    expect(looksLikePickle(head, { complete: true })).toBe(false);
  });
});

function b0(b: Uint8Array) {
  return sniffPickle(b);
}

describe('container and wrapper magic', () => {
  it('recognises zip, tar and compressed wrappers', () => {
    expect(isZip(real('state_dict_dtypes.pt'))).toBe(true);
    expect(isZip(real('arrays.npz'))).toBe(true);
    expect(isZip(real('plain_protocol2.pkl'))).toBe(false);
    expect(wrapperKind(new Uint8Array(readFileSync(join(CORPUS, 'data', 'malicious1.7z'))))).toBe('7z');
    expect(wrapperKind(real('sklearn_pipeline_gzip.joblib'))).toBe('gzip');
    expect(wrapperKind(real('sklearn_pipeline_bz2.joblib'))).toBe('bzip2');
    expect(wrapperKind(real('sklearn_pipeline_xz.joblib'))).toBe('xz');
    expect(wrapperKind(real('sklearn_pipeline_lzma.joblib'))).toBe('lzma');
    expect(isTar(new Uint8Array(512))).toBe(false);
  });

  it('does not call any real fixture a tar or a wrapper unless it is one', () => {
    for (const n of readdirSync(join(FIXTURES, 'real'))) {
      expect(isTar(real(n)), n).toBe(false);
      if (!n.includes('joblib')) expect(wrapperKind(real(n)), n).toBe(null);
    }
  });
});

describe('structure first, pickle last', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  const claim = (b: Uint8Array, name: string) => detectFormat({ head: b, size: b.length, name }).id;

  it('does not read ordinary project text as a text pickle, whatever its first characters', () => {
    const files: Record<string, string> = {
      LICENSE:
        'Copyright 2024 The Example Authors. All rights reserved.\n\nLicensed under the Apache License.\n',
      CHANGELOG: '0.2.0 (2024-05-01)\n- Added the ONNX export.\n\n0.1.0 (2024-03-10)\n- First release.\n',
      'CMakeLists.txt': 'set(CMAKE_CXX_STANDARD 17)\nproject(detector CXX)\n',
      'requirements.txt': 'torch>=2.0\ntransformers==4.41.2\nnumpy\n',
      'coco.names': 'person\nbicycle\ncar\nmotorcycle\n',
      VERSION: '1.2.3\n',
    };
    for (const [name, body] of Object.entries(files)) {
      expect(pickleEvidence(text(body), body.length), name).not.toBe('genuine');
      expect(claim(text(body), name), name).toBe('unknown');
    }
  });

  it('reads a genuine pickle as one whatever its name; a mere prefix only under a pickle-loader name', () => {
    for (let p = 0; p <= 5; p++)
      expect(claim(real(`plain_protocol${p}.pkl`), 'notes.txt'), `protocol ${p}`).toBe('pickle');
    expect(claim(callPickle0('os', 'system', 'id'), 'README.md')).toBe('pickle');
    // A payload followed by garbage still runs in CPython: it imports a name, so it is genuine.
    const p = callPickle0('os', 'system', 'ls');
    expect(pickleEvidence(bytes(p.subarray(0, p.length - 2), 0xff), p.length - 1)).toBe('genuine');
    // STACK_GLOBAL imports two strings pushed earlier, even when other values were pushed and popped between.
    const u = (x: string) => bytes(0x58, [x.length, 0, 0, 0], x);
    const hidden = bytes(u('os'), u('system'), u('junk'), 0x30, 0x93, u('id'), 0x85, 0x52, 0xff);
    expect(pickleEvidence(hidden, hidden.length)).toBe('genuine');
    expect(claim(hidden, 'notes.txt')).toBe('pickle');
    // "0." is a STOP after one opcode: loose, so only a file named for pickle.load is read as a pickle.
    const loose = text('0.1.0\n');
    expect(pickleEvidence(loose, loose.length)).toBe('loose');
    expect(claim(loose, 'VERSION')).toBe('unknown');
  });

  it('reads a safetensors file whose header length starts with pickle opcodes as safetensors', () => {
    for (const len of [0x280, 0x193, 0x128]) {
      const json = '{"__metadata__":{"format":"pt"}}';
      const h = new Uint8Array(8 + len);
      new DataView(h.buffer).setBigUint64(0, BigInt(len), true);
      h.set(text(json.padEnd(len, ' ')), 8);
      expect(claim(h, 'model.safetensors'), len.toString(16)).toBe('safetensors');
      expect(pickleEvidence(h, h.length)).not.toBe('genuine');
    }
  });

  it('keeps big integers in configs a Python loader reads, and still rejects them in strict headers', () => {
    const cfg = '{"model_max_length": 1000000000000000019884624838656, "chat_template": "{{ x }}"}';
    const doc = parseStrictJson(cfg, { bigIntegers: 'keep' }) as Record<string, unknown>;
    expect(doc.model_max_length).toBe(1000000000000000019884624838656n);
    expect(doc.chat_template).toBe('{{ x }}');
    expect(() => parseStrictJson(cfg)).toThrow(/above 2\^53/);
  });
});
