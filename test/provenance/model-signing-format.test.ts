/**
 * Antidote's model signatures checked against the OpenSSF model-signing format rules, computed here
 * independently from the files (not through Antidote's serializer): the bundle's shape and key order,
 * the public-key hint, the DSSE envelope, the in-toto statement, resource names and order, digests,
 * root digest, recorded ignore paths, shard naming and the Python float for shard_size, and an ECDSA
 * signature with the digest matching the curve.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeySigner } from '../../src/provenance/model-signing/bundle.js';
import { pyBytesRepr, pyFloat, pyJsonDumps } from '../../src/provenance/model-signing/pyjson.js';
import { keySigner, signModel } from '../../src/provenance/model-signing/sign.js';
import { verifyModelSignature } from '../../src/provenance/model-signing/verify.js';
import { bytes, makeModel, tempDir, writeKeys } from './helpers.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Every regular file under `root`, relative POSIX paths, minus the ignored top-level names. */
function listFiles(root: string, ignoredTop: string[]): string[] {
  const out: string[] = [];
  const rec = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const rel = relative(root, p).split(sep).join('/');
      if (ignoredTop.includes(rel.split('/')[0])) continue;
      if (statSync(p).isDirectory()) rec(p);
      else out.push(rel);
    }
  };
  rec(root);
  return out;
}

/** Python's PurePosixPath ordering: tuples of components, each compared by code point. */
function pyPathSort(paths: string[]): string[] {
  const cmpStr = (a: string, b: string) => {
    const x = [...a].map((c) => c.codePointAt(0)!);
    const y = [...b].map((c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
    return x.length - y.length;
  };
  return [...paths].sort((a, b) => {
    const x = a.split('/');
    const y = b.split('/');
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = cmpStr(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  });
}

const CURVES = [
  ['prime256v1', 'sha256'],
  ['secp384r1', 'sha384'],
  ['secp521r1', 'sha512'],
] as const;

describe('model-signing bundle format (key signatures)', () => {
  for (const [curve, hash] of CURVES) {
    it(`${curve}: bundle, envelope, statement and resources follow the reference format`, async () => {
      const base = tempDir();
      const model = makeModel(join(base, 'my-model'));
      const keys = writeKeys(base, curve, curve);
      const sigPath = join(model, 'model.sig');
      const { bundle } = await signModel(model, {
        signer: await keySigner(keys.priv),
        signaturePath: sigPath,
      });

      // Compact JSON, keys in the reference's order, no trailing newline.
      expect(bundle).not.toMatch(/\s/);
      const b = JSON.parse(bundle);
      expect(Object.keys(b)).toEqual(['mediaType', 'verificationMaterial', 'dsseEnvelope']);
      expect(b.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
      expect(b.verificationMaterial).toEqual({
        publicKey: {
          hint: sha256(createPublicKey(readFileSync(keys.pub)).export({ type: 'spki', format: 'pem' })),
        },
        tlogEntries: [],
      });
      expect(Object.keys(b.dsseEnvelope)).toEqual(['payload', 'payloadType', 'signatures']);
      expect(b.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
      expect(b.dsseEnvelope.signatures).toHaveLength(1);
      expect(b.dsseEnvelope.signatures[0].keyid).toBe('');

      // The signature: DER ECDSA over PAE with the curve's digest.
      const payload = Buffer.from(b.dsseEnvelope.payload, 'base64');
      const paeBytes = Buffer.concat([
        Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${payload.length} `),
        payload,
      ]);
      const sig = Buffer.from(b.dsseEnvelope.signatures[0].sig, 'base64');
      expect(sig[0]).toBe(0x30); // DER SEQUENCE
      expect(verify(hash, paeBytes, readFileSync(keys.pub, 'utf8'), sig)).toBe(true);

      // Payload text as protobuf's MessageToJson writes it: two-space indent, ": " separators.
      const text = payload.toString('utf8');
      expect(text.startsWith('{\n  "_type": "https://in-toto.io/Statement/v1",\n')).toBe(true);
      expect(text).not.toMatch(/[^\x00-\x7f]/); // ensure_ascii
      const st = JSON.parse(text);
      expect(st.predicateType).toBe('https://model_signing/signature/v1.0');
      expect(st.subject).toHaveLength(1);
      expect(st.subject[0].name).toBe('my-model');

      const ignored = ['model.sig', '.git', '.gitattributes', '.github', '.gitignore'];
      expect(st.predicate.serialization).toMatchObject({
        method: 'files',
        hash_type: 'sha256',
        allow_symlinks: false,
      });
      expect([...st.predicate.serialization.ignore_paths].sort()).toEqual([...ignored].sort());

      const expectedNames = pyPathSort(listFiles(model, ignored));
      expect(expectedNames).toContain('empty.bin');
      expect(expectedNames).toContain('.hidden');
      expect(expectedNames.indexOf('a/b')).toBeLessThan(expectedNames.indexOf('a.txt'));
      const res = st.predicate.resources as Array<{ name: string; algorithm: string; digest: string }>;
      expect(res.map((r) => r.name)).toEqual(expectedNames);
      for (const r of res) {
        expect(r.algorithm).toBe('sha256');
        expect(r.digest).toBe(sha256(readFileSync(join(model, r.name))));
      }
      const root = createHash('sha256');
      for (const r of res) root.update(Buffer.from(r.digest, 'hex'));
      expect(st.subject[0].digest).toEqual({ sha256: root.digest('hex') });
    });
  }

  it('a single-file model is one resource named "."', async () => {
    const base = tempDir();
    const model = makeModel(join(base, 'm'), { 'w.bin': bytes(1000, 3) });
    const keys = writeKeys(base, 'k', 'prime256v1');
    const { bundle } = await signModel(join(model, 'w.bin'), {
      signer: await keySigner(keys.priv),
      signaturePath: join(base, 'w.sig'),
    });
    const st = JSON.parse(Buffer.from(JSON.parse(bundle).dsseEnvelope.payload, 'base64').toString());
    expect(st.subject[0].name).toBe('w.bin');
    expect(st.predicate.resources).toEqual([
      { name: '.', algorithm: 'sha256', digest: sha256(bytes(1000, 3)) },
    ]);
  });

  it('shards: names path:start:end, algorithm <hash>-sharded-<size>, shard_size written as a Python float', async () => {
    const base = tempDir();
    const model = makeModel(join(base, 'm'), { 'big.bin': bytes(2500, 5), 'empty.bin': '' });
    const keys = writeKeys(base, 'k', 'prime256v1');
    const { bundle } = await signModel(model, {
      signer: await keySigner(keys.priv),
      signaturePath: join(base, 'm.sig'),
      method: 'shards',
      shardSize: 1000,
    });
    writeFileSync(join(base, 'm.sig'), bundle);
    const text = Buffer.from(JSON.parse(bundle).dsseEnvelope.payload, 'base64').toString();
    expect(text).toContain('"shard_size": 1000.0');
    const st = JSON.parse(text);
    expect(st.predicate.serialization).toMatchObject({
      method: 'shards',
      hash_type: 'sha256',
      shard_size: 1000,
    });
    const data = bytes(2500, 5);
    expect(st.predicate.resources).toEqual(
      [
        [0, 1000],
        [1000, 2000],
        [2000, 2500],
      ].map(([s, e]) => ({
        name: `big.bin:${s}:${e}`,
        algorithm: 'sha256-sharded-1000',
        digest: sha256(data.subarray(s, e)),
      })),
    );
    // ...and Antidote verifies its own shard signature.
    const r = await verifyModelSignature(model, { sigFile: join(base, 'm.sig'), keyFile: keys.pub });
    expect(r.findings).toEqual([]);
  });

  it('refuses non-EC keys with a one-line error', async () => {
    const base = tempDir();
    const { generateKeyPairSync } = await import('node:crypto');
    const k = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(join(base, 'ed.key'), k.privateKey);
    await expect(keySigner(join(base, 'ed.key'))).rejects.toThrow(/elliptic-curve keys/);
    expect(KeySigner).toBeTypeOf('function');
  });
});

describe('Python-compatible JSON pieces', () => {
  it('floats, strings and indentation as json.dumps(indent=2, ensure_ascii=True)', () => {
    expect(pyFloat(1000000000)).toBe('1000000000.0');
    expect(pyFloat(8)).toBe('8.0');
    expect(pyJsonDumps({ a: [1, 'é"\n'], b: {}, c: [] })).toBe(
      '{\n  "a": [\n    1.0,\n    "\\u00e9\\"\\n"\n  ],\n  "b": {},\n  "c": []\n}',
    );
    expect(pyJsonDumps('\u{1F600}')).toBe('"\\ud83d\\ude00"');
  });
  it('bytes repr as Python writes it', () => {
    expect(pyBytesRepr(Buffer.from([0x61, 0x27, 0x62, 0x0a, 0x00, 0xff]))).toBe('b"a\'b\\n\\x00\\xff"');
    expect(pyBytesRepr(Buffer.from('{"x": 1}'))).toBe('b\'{"x": 1}\'');
    expect(pyBytesRepr(Buffer.from('\'"'))).toBe("b'\\'\"'");
  });
});
