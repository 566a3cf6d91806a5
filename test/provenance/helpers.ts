/** Small helpers shared by the provenance tests: temporary folders, generated keys, model trees. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir as sharedTempDir } from '../helpers/tmp.js';

export function tempDir(prefix = 'antidote-prov-'): string {
  return sharedTempDir(prefix);
}

export function writeKeys(dir: string, name: string, namedCurve: string): { priv: string; pub: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const priv = join(dir, `${name}.key`);
  const pub = join(dir, `${name}.pub`);
  writeFileSync(priv, privateKey);
  writeFileSync(pub, publicKey);
  return { priv, pub };
}

/** A deterministic pseudo-random byte buffer (xorshift), so fixtures need no committed blobs. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * A small model folder whose names exercise the ordering rules: `a/b` must sort before `a.txt`
 * (component order), an empty file, a nested folder, a non-ASCII name, a hidden file, and git files.
 */
export function makeModel(root: string, files?: Record<string, string | Buffer>): string {
  const spec = files ?? {
    'config.json': '{"model_type":"bert"}',
    'a.txt': 'alpha',
    'a/b': 'nested',
    'weights/model.safetensors': bytes(70_000, 7),
    'empty.bin': '',
    'héllo.txt': 'unicode name',
    '.hidden': 'dotfile',
    '.git/HEAD': 'ref: refs/heads/main',
    '.gitattributes': '* binary',
  };
  for (const [rel, content] of Object.entries(spec)) {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return root;
}

export function link(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(target, at);
}

/** A minimal valid safetensors file: 8-byte header length, JSON header, tensor bytes. */
export function safetensors(): Buffer {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.from(new Float32Array([1, 2]).buffer)]);
}

const README = `---
license: apache-2.0
base_model:
  - google-bert/bert-base-uncased
datasets: [imdb, "sst2"]
pipeline_tag: text-classification
language: en
tags:
  - sentiment
library_name: transformers
---
# My model
`;

export function hfModel(root: string): string {
  return makeModel(root, {
    'config.json': JSON.stringify({ model_type: 'bert', architectures: ['BertForSequenceClassification'] }),
    'README.md': README,
    'model.safetensors': safetensors(),
  });
}
