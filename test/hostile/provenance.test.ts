/**
 * Hostile inputs for the provenance commands (lock, verify, hash, sign, verify-signature, bom) and convert:
 * malformed, truncated, deeply nested or enormous lock files and bundles, bad keys, traversal in lock
 * entries, hostile checkpoints to convert.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, FIXTURES } from '../helpers/cli.js';
import { pickleCall, pickleDict, tar, zip } from './build.js';
import { type Case, hostileSuite } from './harness.js';

const PKI = join(FIXTURES, 'provenance', 'pki');
const deep = (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`;
const model = (dir: string) => {
  mkdirSync(join(dir, 'm'));
  writeFileSync(join(dir, 'm', 'a.bin'), 'weights');
  writeFileSync(join(dir, 'm', 'config.json'), '{"x": 1}');
};
const lockDoc = (entries: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    lockVersion: 1,
    tool: { name: 'antidote', version: '0' },
    algorithm: 'sha256',
    roots: [{ path: 'm', kind: 'dir', digest: '00', entries }],
    ...extra,
  });
const verifyWith =
  (lock: string | ((dir: string) => string), extra: string[] = []) =>
  (dir: string) => {
    model(dir);
    writeFileSync(join(dir, 'm.lock'), typeof lock === 'string' ? lock : lock(dir));
    return { args: ['verify', '--lock', 'm.lock', ...extra] };
  };

const cases: Case[] = [];
const add = (
  name: string,
  prepare: Case['prepare'],
  code: number | number[],
  extra: Partial<Case> = {},
): void => {
  cases.push({ name, prepare, code, ...extra });
};

// ---- verify -----------------------------------------------------------------------------------------------------
add('verify: lock is not JSON', verifyWith('{"lockVersion": 1, '), 2);
add('verify: lock nested 100,000 deep', verifyWith(`{"lockVersion": 1, "roots": ${deep(100000)}}`), 2);
add('verify: lock of another version', verifyWith(lockDoc([], { lockVersion: 99 })), 2);
add('verify: lock with unknown fields', verifyWith(lockDoc([], { evil: true })), 2);
add(
  'verify: lock file missing',
  (dir) => {
    model(dir);
    return { args: ['verify', '--lock', 'nope.lock'] };
  },
  2,
);
add(
  'verify: lock is a folder',
  (dir) => {
    model(dir);
    mkdirSync(join(dir, 'x.lock'));
    return { args: ['verify', '--lock', 'x.lock'] };
  },
  2,
);
add(
  'verify: 120,000 recorded files missing (exit 1, no stack overflow)',
  verifyWith(
    lockDoc(
      Array.from({ length: 120_000 }, (_, i) => ({ path: `f${i}`, type: 'file', size: 1, digest: 'ab' })),
    ),
  ),
  1,
  { rssMiB: 900, seconds: 60 },
);
add(
  'verify: entries climbing out with ../',
  verifyWith(lockDoc([{ path: '../../../etc/passwd', type: 'file', size: 1, digest: 'ab' }])),
  [1, 2],
);
add(
  'verify: absolute entry path',
  verifyWith(lockDoc([{ path: '/etc/passwd', type: 'file', size: 1, digest: 'ab' }])),
  [1, 2],
);
add(
  'verify: digest that is not hex',
  verifyWith(lockDoc([{ path: 'a.bin', type: 'file', size: 7, digest: 'zz' }])),
  2,
);
add(
  'verify: negative size',
  verifyWith(lockDoc([{ path: 'a.bin', type: 'file', size: -1, digest: 'ab' }])),
  2,
);
add(
  'verify: root path climbing out to a missing folder',
  verifyWith(lockDoc([]).replace('"path":"m"', '"path":"../../no-such-root"')),
  [1, 2],
);
add(
  'verify: a changed file is named',
  (dir) => {
    model(dir);
    // The lock is made by the real command first, then a file changes.
    execFileSync(process.execPath, [CLI, 'lock', 'm', '-o', 'm.lock'], { cwd: dir });
    writeFileSync(join(dir, 'm', 'a.bin'), 'poisoned');
    return { args: ['verify', '--lock', 'm.lock'] };
  },
  1,
  { stdout: /a\.bin/ },
);

// ---- lock / hash / bom ---------------------------------------------------------------------------------------------
add('hash: path that does not exist', () => ({ args: ['hash', 'nope'] }), 2);
add(
  'hash: symlink loop in the folder',
  (dir) => {
    model(dir);
    symlinkSync('.', join(dir, 'm', 'loop'));
    return { args: ['hash', 'm'] };
  },
  [0, 2],
);
add(
  'hash: 3,000 small files',
  (dir) => {
    mkdirSync(join(dir, 'm'));
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir, 'm', `f${i}`), String(i));
    return { args: ['hash', 'm'] };
  },
  0,
);
add(
  'lock: folder with a symlink out of the tree',
  (dir) => {
    model(dir);
    symlinkSync('/etc/passwd', join(dir, 'm', 'out'));
    return { args: ['lock', 'm', '-o', 'out/m.lock'], outDir: 'out' };
  },
  [0, 1, 2],
);
add(
  'bom: folder with a malicious pickle',
  (dir) => {
    model(dir);
    writeFileSync(join(dir, 'm', 'model.pkl'), pickleCall('os', 'system', 'id'));
    return { args: ['bom', 'm', '-o', 'out/bom.json'], outDir: 'out' };
  },
  [0, 1],
);
add(
  'bom: config.json nested 100,000 deep',
  (dir) => {
    model(dir);
    writeFileSync(join(dir, 'm', 'config.json'), `{"a": ${deep(100000)}}`);
    return { args: ['bom', 'm', '-o', 'out/bom.json'], outDir: 'out' };
  },
  [0, 1, 2],
);
add(
  'bom: dataset path missing',
  (dir) => {
    model(dir);
    return { args: ['bom', 'm', '--dataset', 'nope.csv', '-o', 'out/bom.json'], outDir: 'out' };
  },
  2,
);

// ---- sign / verify-signature ------------------------------------------------------------------------------------
add(
  'sign: key that is garbage',
  (dir) => {
    model(dir);
    writeFileSync(join(dir, 'k.pem'), '-----BEGIN EC PRIVATE KEY-----\nnope\n-----END EC PRIVATE KEY-----\n');
    return { args: ['sign', 'm', '-k', 'k.pem', '-o', 'out/m.sig'], outDir: 'out' };
  },
  2,
);
add(
  'sign: key file is a folder',
  (dir) => {
    model(dir);
    mkdirSync(join(dir, 'k.pem'));
    return { args: ['sign', 'm', '-k', 'k.pem', '-o', 'out/m.sig'], outDir: 'out' };
  },
  2,
);
add(
  'sign: certificate that does not match the key',
  (dir) => {
    model(dir);
    copyFileSync(join(PKI, 'leaf.key'), join(dir, 'k.pem'));
    copyFileSync(join(PKI, 'other-root.pem'), join(dir, 'c.pem'));
    return { args: ['sign', 'm', '-k', 'k.pem', '--cert', 'c.pem', '-o', 'out/m.sig'], outDir: 'out' };
  },
  2,
);
const vsig = (bundle: string | Buffer) => (dir: string) => {
  model(dir);
  writeFileSync(join(dir, 'm.sig'), bundle);
  copyFileSync(join(PKI, 'root-ca.pem'), join(dir, 'root.pem'));
  return { args: ['verify-signature', 'm', '-s', 'm.sig', '--cert', 'root.pem'] };
};
add('verify-signature: bundle is not JSON', vsig('{"mediaType": '), [1, 2]);
add('verify-signature: bundle nested 100,000 deep', vsig(`{"mediaType": ${deep(100000)}}`), [1, 2]);
add('verify-signature: empty bundle', vsig(''), [1, 2]);
add(
  'verify-signature: bundle of random bytes',
  vsig(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131) % 256))),
  [1, 2],
);
add(
  'verify-signature: bundle with a forged payload',
  vsig(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { certificate: { rawBytes: 'AAAA' } },
      dsseEnvelope: {
        payload: Buffer.from(`{"_type": ${deep(50000)}}`).toString('base64'),
        payloadType: 'application/vnd.in-toto+json',
        signatures: [{ sig: 'AAAA' }],
      },
    }),
  ),
  [1, 2],
);
add(
  'verify-signature: signature file missing',
  (dir) => {
    model(dir);
    copyFileSync(join(PKI, 'root-ca.pem'), join(dir, 'root.pem'));
    return { args: ['verify-signature', 'm', '-s', 'nope.sig', '--cert', 'root.pem'] };
  },
  2,
);

// ---- convert ----------------------------------------------------------------------------------------------------
const convert = (name: string, bytes: Buffer) => (dir: string) => {
  writeFileSync(join(dir, name), bytes);
  return { args: ['convert', name, '-o', 'out/m.safetensors'], outDir: 'out' };
};
add(
  'convert: checkpoint whose pickle calls os.system is refused',
  convert(
    'm.pt',
    zip([
      { name: 'archive/data.pkl', data: pickleCall('os', 'system', 'id') },
      { name: 'archive/version', data: '3\n' },
    ]),
  ),
  [1, 2],
  {
    check: (_r, dir) => {
      let exists = true;
      try {
        readFileSync(join(dir, 'out', 'm.safetensors'));
      } catch {
        exists = false;
      }
      if (exists) throw new Error('a refused checkpoint was converted');
    },
  },
);
add('convert: random bytes', convert('m.pt', Buffer.from('garbage'.repeat(100))), [1, 2]);
add(
  'convert: truncated zip checkpoint',
  convert('m.pt', zip([{ name: 'archive/data.pkl', data: pickleDict() }]).subarray(0, 40)),
  [1, 2],
);
add(
  'convert: legacy tar with a ../ member',
  convert('m.tar', tar([{ name: '../pickle', data: pickleDict() }])),
  [1, 2],
);
add(
  'convert: pickle with no tensors',
  convert(
    'm.pt',
    zip([
      { name: 'archive/data.pkl', data: pickleDict() },
      { name: 'archive/version', data: '3\n' },
    ]),
  ),
  [0, 1, 2],
);
add(
  'convert: output exists and no --force',
  (dir) => {
    writeFileSync(join(dir, 'm.pt'), zip([{ name: 'archive/data.pkl', data: pickleDict() }]));
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'm.safetensors'), 'precious');
    return { args: ['convert', 'm.pt', '-o', 'out/m.safetensors'], inputs: ['m.pt', 'out/m.safetensors'] };
  },
  [1, 2],
);
add(
  'convert: policy file nested 100,000 deep',
  (dir) => {
    writeFileSync(join(dir, 'm.pt'), zip([{ name: 'archive/data.pkl', data: pickleDict() }]));
    writeFileSync(join(dir, 'p.json'), `{"allow": ${deep(100000)}}`);
    return { args: ['convert', 'm.pt', '--policy', 'p.json', '-o', 'out/m.safetensors'], outDir: 'out' };
  },
  2,
);

// ---- scan flags -----------------------------------------------------------------------------------------------------
add(
  'scan: policy file that is not JSON',
  (dir) => {
    writeFileSync(join(dir, 'p.json'), '{');
    writeFileSync(join(dir, 'm.pkl'), pickleDict());
    return { args: ['scan', 'm.pkl', '--policy', 'p.json'] };
  },
  2,
);
add(
  'scan: policy file nested 100,000 deep',
  (dir) => {
    writeFileSync(join(dir, 'p.json'), `{"allow": ${deep(100000)}}`);
    writeFileSync(join(dir, 'm.pkl'), pickleDict());
    return { args: ['scan', 'm.pkl', '--policy', 'p.json'] };
  },
  2,
);
add(
  'scan: --allow with a wildcard',
  (dir) => {
    writeFileSync(join(dir, 'm.pkl'), pickleCall('os', 'system', 'id'));
    return { args: ['scan', 'm.pkl', '--allow', 'os.*'] };
  },
  2,
);
add(
  'scan: unknown --format',
  (dir) => {
    writeFileSync(join(dir, 'm.pkl'), pickleDict());
    return { args: ['scan', 'm.pkl', '--format', 'xml'] };
  },
  2,
);

hostileSuite('hostile provenance, convert and flags', cases);
