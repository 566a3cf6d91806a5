/**
 * Hostile outputs and inputs, against every command that reads paths or writes files. Each case runs the
 * built CLI under `timeout` and `prlimit --as` and asserts the promise it tests:
 *   - the exit code (2 for a refused path, with one line on stderr naming it);
 *   - every input's sha256 (and type) is unchanged;
 *   - no file appears outside the folder the case allows (none for a refused case), and no temporary file
 *     is left anywhere.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURES, ROOT } from '../helpers/cli.js';

const roots: string[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const AS_BYTES = 8 * 1024 ** 3;
const TIMEOUT_S = 30;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI under a wall-clock bound (timeout, then SIGKILL) and an address-space bound (prlimit). */
function cli(args: string[], cwd: string): Run {
  const r = spawnSync(
    'timeout',
    ['-k', '5', String(TIMEOUT_S), 'prlimit', `--as=${AS_BYTES}`, process.execPath, CLI, ...args],
    { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' }, maxBuffer: 1 << 26 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Every entry under `dir`: relative path -> type and, for files, sha256. Links are not followed. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out.set(rel, 'link');
      else if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else if (st.isFile()) out.set(rel, `file:${sha(p)}`);
      else out.set(rel, 'special');
    }
  };
  walk(dir);
  return out;
}

/** A fresh workspace: a model, a model folder, keys, a lock, a signature, audit tables, a checkpoint. */
function workspace() {
  const d = mkdtempSync(join(tmpdir(), 'antidote-hostile-out-'));
  roots.push(d);
  const model = join(d, 'model.safetensors');
  copyFileSync(join(FIXTURES, 'formats', 'benign', 'model.safetensors'), model);
  const folder = join(d, 'repo');
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, 'formats', 'benign', 'model.safetensors'), join(folder, 'w.safetensors'));
  writeFileSync(join(folder, 'config.json'), '{"model_type": "bert"}\n');
  const ckpt = join(d, 'ckpt.pt');
  copyFileSync(join(FIXTURES, 'convert', 'linear_state_dict.pt'), ckpt);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const key = join(d, 'key.pem');
  const pub = join(d, 'key.pub.pem');
  writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  const trustedDir = join(d, 'trusted');
  mkdirSync(trustedDir);
  const lines = readFileSync(join(ROOT, 'examples', 'sst2', 'train.tsv'), 'utf8').split(/\r?\n/);
  const trusted = join(trustedDir, 'accepted.tsv');
  writeFileSync(trusted, `${lines.slice(0, 401).join('\n')}\n`);
  const incoming = join(d, 'incoming.tsv');
  writeFileSync(incoming, `${[lines[0], ...lines.slice(401, 601)].join('\n')}\n`);
  return { d, model, folder, ckpt, key, pub, trustedDir, trusted, incoming };
}
type Ws = ReturnType<typeof workspace>;

function fifo(path: string): string {
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  return path;
}

async function socketAt(path: string): Promise<string> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(path, resolve));
  return path;
}

interface Case {
  name: string;
  /** Build the hostile situation; return the arguments (relative to the workspace) and what to expect. */
  setup: (w: Ws) =>
    | Promise<{ args: string[]; code?: number; stderr?: RegExp; mayWrite?: string[] }>
    | {
        args: string[];
        code?: number;
        stderr?: RegExp;
        mayWrite?: string[];
      };
}

const sig = (w: Ws) => {
  const s = join(w.d, 'model.sig');
  const r = cli(['sign', w.model, '-k', w.key, '-o', s], w.d);
  expect(r.code, r.stderr).toBe(0);
  return s;
};
const lockOf = (w: Ws) => {
  const l = join(w.d, 'antidote.lock');
  const r = cli(['lock', w.folder, '-o', l], w.d);
  expect(r.code, r.stderr).toBe(0);
  return l;
};
const gateArgs = (w: Ws, extra: string[]) => [
  'gate',
  '--trusted',
  w.trusted,
  '--label',
  'label',
  '--incumbent',
  join(FIXTURES, 'gate', 'sst2_incumbent.onnx'),
  '--candidate',
  join(FIXTURES, 'gate', 'sst2_clean.onnx'),
  ...extra,
];
const auditArgs = (w: Ws, extra: string[]) => [
  'audit',
  '--trusted',
  w.trusted,
  '--incoming',
  w.incoming,
  '--label',
  'label',
  ...extra,
];

const INPUT = /would overwrite the input|would replace a file inside the input folder/;
const NOT_REGULAR = /not a regular file/;

const cases: Case[] = [
  // An output naming its own input, directly or through `..`, a symlink or a hard link.
  {
    name: 'scan -o its own input',
    setup: (w) => ({ args: ['scan', w.model, '-o', w.model], stderr: INPUT }),
  },
  {
    name: 'scan -o its input through ..',
    setup: (w) => ({
      args: ['scan', w.model, '-o', join(w.folder, '..', 'model.safetensors'), '--force'],
      stderr: INPUT,
    }),
  },
  {
    name: 'scan -o a symlink to its input, --force',
    setup: (w) => {
      symlinkSync(w.model, join(w.d, 'alias.json'));
      return { args: ['scan', w.model, '-o', join(w.d, 'alias.json'), '--force'], stderr: INPUT };
    },
  },
  {
    name: 'scan -o a hard link to its input, --force',
    setup: (w) => {
      linkSync(w.model, join(w.d, 'hard.json'));
      return { args: ['scan', w.model, '-o', join(w.d, 'hard.json'), '--force'], stderr: INPUT };
    },
  },
  {
    name: 'scan of a folder -o a file inside it, --force',
    setup: (w) => ({
      args: ['scan', w.folder, '-o', join(w.folder, 'config.json'), '--force'],
      stderr: INPUT,
    }),
  },
  {
    name: 'scan of a folder -o a new file inside it is allowed',
    setup: (w) => ({
      args: ['scan', w.folder, '-o', join(w.folder, 'scan.json'), '-f', 'json'],
      code: 0,
      mayWrite: ['repo/scan.json'],
    }),
  },
  {
    name: 'bom -o its own input',
    setup: (w) => ({ args: ['bom', w.model, '-o', w.model, '--force'], stderr: INPUT }),
  },
  {
    name: 'bom -o a symlink to its input',
    setup: (w) => {
      symlinkSync('model.safetensors', join(w.d, 'bom.json'));
      return { args: ['bom', w.model, '-o', join(w.d, 'bom.json'), '--force'], stderr: INPUT };
    },
  },
  {
    name: 'sign -o its own model',
    setup: (w) => ({ args: ['sign', w.model, '-k', w.key, '-o', w.model, '--force'], stderr: INPUT }),
  },
  {
    name: 'sign -o its own key',
    setup: (w) => ({ args: ['sign', w.model, '-k', w.key, '-o', w.key, '--force'], stderr: INPUT }),
  },
  {
    name: 'sign of a folder -o a file of the folder',
    setup: (w) => ({
      args: ['sign', w.folder, '-k', w.key, '-o', join(w.folder, 'w.safetensors'), '--force'],
      stderr: INPUT,
    }),
  },
  {
    name: 'lock -o its own input',
    setup: (w) => ({ args: ['lock', w.model, '-o', w.model, '--force'], stderr: INPUT }),
  },
  {
    name: 'lock of a folder -o a file of the folder',
    setup: (w) => ({
      args: ['lock', w.folder, '-o', join(w.folder, 'config.json'), '--force'],
      stderr: INPUT,
    }),
  },
  {
    name: 'lock of a folder -o a symlinked folder onto it',
    setup: (w) => {
      symlinkSync(w.folder, join(w.d, 'via'));
      return { args: ['lock', w.folder, '-o', join(w.d, 'via', 'w.safetensors'), '--force'], stderr: INPUT };
    },
  },
  {
    name: 'convert -o its own checkpoint',
    setup: (w) => ({ args: ['convert', w.ckpt, '-o', w.ckpt, '--force'], stderr: INPUT }),
  },
  {
    name: 'convert --force through a symlink onto the checkpoint',
    setup: (w) => {
      symlinkSync(w.ckpt, join(w.d, 'out.safetensors'));
      return { args: ['convert', w.ckpt, '-o', join(w.d, 'out.safetensors'), '--force'], stderr: INPUT };
    },
  },
  {
    name: 'audit --out-dir a symlinked folder onto the trusted set',
    setup: (w) => {
      symlinkSync(w.trustedDir, join(w.d, 'out'));
      return { args: auditArgs(w, ['--out-dir', join(w.d, 'out'), '--force']), stderr: INPUT };
    },
  },
  {
    name: 'audit --out (old spelling) the trusted folder itself',
    setup: (w) => ({ args: auditArgs(w, ['--out', w.trustedDir, '--force']), stderr: INPUT }),
  },
  {
    name: 'audit -o the summary onto the incoming batch',
    setup: (w) => ({
      args: auditArgs(w, ['--out-dir', join(w.d, 'a'), '-o', w.incoming, '--force']),
      stderr: INPUT,
    }),
  },
  {
    name: 'audit with --trusted and --incoming the same file through a link',
    setup: (w) => {
      symlinkSync(w.trusted, join(w.d, 'same.tsv'));
      return {
        args: ['audit', '--trusted', w.trusted, '--incoming', join(w.d, 'same.tsv'), '--label', 'label'],
        stderr: /same file/,
      };
    },
  },
  {
    name: 'gate -o onto the trusted set',
    setup: (w) => ({ args: gateArgs(w, ['-o', w.trusted, '--force']), stderr: INPUT }),
  },
  {
    name: 'gate --out-dir whose report.json is the trigger file',
    setup: (w) => {
      mkdirSync(join(w.d, 'g'));
      writeFileSync(join(w.d, 'g', 'report.json'), 'cf\n');
      return {
        args: gateArgs(w, ['--probe', join(w.d, 'g', 'report.json'), '--out-dir', join(w.d, 'g'), '--force']),
        stderr: INPUT,
      };
    },
  },
  {
    name: 'verify -o its own lock file',
    setup: (w) => {
      const l = lockOf(w);
      return { args: ['verify', '-l', l, '-o', l, '--force'], stderr: INPUT };
    },
  },
  {
    name: 'hash -o its own input',
    setup: (w) => ({ args: ['hash', w.model, '-o', w.model, '--force'], stderr: INPUT }),
  },
  {
    name: 'verify-signature -o its own signature',
    setup: (w) => {
      const s = sig(w);
      return { args: ['verify-signature', w.model, '-s', s, '-k', w.pub, '-o', s, '--force'], stderr: INPUT };
    },
  },
  // Special file systems as outputs.
  {
    name: 'scan -o /proc/self/fd/1',
    setup: (w) => ({ args: ['scan', w.model, '-o', '/proc/self/fd/1', '--force'], stderr: /under \/proc/ }),
  },
  {
    name: 'scan -o /proc/self/status',
    setup: (w) => ({ args: ['scan', w.model, '-o', '/proc/self/status'], stderr: /under \/proc/ }),
  },
  {
    name: 'hash -o /sys/kernel/antidote',
    setup: (w) => ({ args: ['hash', w.model, '-o', '/sys/kernel/antidote'], stderr: /under \/sys/ }),
  },
  {
    name: 'lock -o /dev/null',
    setup: (w) => ({ args: ['lock', w.model, '-o', '/dev/null', '--force'], stderr: /under \/dev/ }),
  },
  {
    name: 'scan -o through a symlink into /proc',
    setup: (w) => {
      symlinkSync('/proc/self', join(w.d, 'self'));
      return { args: ['scan', w.model, '-o', join(w.d, 'self', 'comm'), '--force'], stderr: /under \/proc/ };
    },
  },
  // Existing outputs, folders, files in the way.
  {
    name: 'scan -o an existing file without --force',
    setup: (w) => {
      writeFileSync(join(w.d, 'r.json'), 'keep');
      return { args: ['scan', w.model, '-o', join(w.d, 'r.json')], stderr: /already exists; pass --force/ };
    },
  },
  {
    name: 'scan -o an existing folder',
    setup: (w) => ({ args: ['scan', w.model, '-o', w.folder, '--force'], stderr: /is a folder/ }),
  },
  {
    name: 'scan -o below a regular file',
    setup: (w) => ({
      args: ['scan', w.model, '-o', join(w.model, 'r.json')],
      stderr: /is a file, not a folder/,
    }),
  },
  {
    name: 'sign -o an existing signature without --force',
    setup: (w) => {
      const s = sig(w);
      return { args: ['sign', w.model, '-k', w.key, '-o', s], stderr: /already exists; pass --force/ };
    },
  },
  {
    name: 'scan -o a symlink to a file outside replaces the link, never the file it points to',
    setup: (w) => {
      mkdirSync(join(w.d, 'out'));
      symlinkSync(w.trusted, join(w.d, 'out', 'r.json'));
      return {
        args: ['scan', w.model, '-o', join(w.d, 'out', 'r.json'), '--force'],
        code: 0,
        mayWrite: ['out/r.json'],
      };
    },
  },
  // Inputs that are not regular files: refused before any read, never a hang.
  {
    name: 'FIFO as a model to scan',
    setup: (w) => ({ args: ['scan', fifo(join(w.d, 'p'))], stderr: NOT_REGULAR }),
  },
  {
    name: 'FIFO as --policy',
    setup: (w) => ({ args: ['scan', w.model, '--policy', fifo(join(w.d, 'p'))], stderr: NOT_REGULAR }),
  },
  {
    name: 'FIFO as sign --key',
    setup: (w) => ({
      args: ['sign', w.model, '-k', fifo(join(w.d, 'p')), '-o', join(w.d, 's.sig')],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as verify-signature --sig',
    setup: (w) => ({
      args: ['verify-signature', w.model, '-s', fifo(join(w.d, 'p')), '-k', w.pub],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as verify-signature --key',
    setup: (w) => ({
      args: ['verify-signature', w.model, '-s', sig(w), '-k', fifo(join(w.d, 'p'))],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as verify --lock',
    setup: (w) => ({ args: ['verify', '-l', fifo(join(w.d, 'p'))], stderr: NOT_REGULAR }),
  },
  {
    name: 'FIFO as audit --config',
    setup: (w) => ({
      args: auditArgs(w, ['--config', fifo(join(w.d, 'p')), '--out-dir', join(w.d, 'a')]),
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as audit --trusted',
    setup: (w) => ({
      args: ['audit', '--trusted', fifo(join(w.d, 'p.tsv')), '--incoming', w.incoming, '--label', 'label'],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as gate --candidate',
    setup: (w) => ({
      args: [
        'gate',
        '--trusted',
        w.trusted,
        '--label',
        'label',
        '--incumbent',
        join(FIXTURES, 'gate', 'sst2_incumbent.onnx'),
        '--candidate',
        fifo(join(w.d, 'p.onnx')),
      ],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as gate --probe file',
    setup: (w) => ({ args: gateArgs(w, ['--probe', fifo(join(w.d, 'p.txt'))]), stderr: NOT_REGULAR }),
  },
  {
    name: 'FIFO as gate --sign-key',
    setup: (w) => ({
      args: gateArgs(w, ['--sign-key', fifo(join(w.d, 'p')), '--out-dir', join(w.d, 'g')]),
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as a checkpoint to convert',
    setup: (w) => ({
      args: ['convert', fifo(join(w.d, 'p.pt')), '-o', join(w.d, 'o.safetensors')],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'FIFO as bom --dataset',
    setup: (w) => ({ args: ['bom', w.model, '--dataset', fifo(join(w.d, 'p.csv'))], stderr: NOT_REGULAR }),
  },
  {
    name: 'FIFO as a file to hash',
    setup: (w) => ({ args: ['hash', fifo(join(w.d, 'p'))], stderr: NOT_REGULAR }),
  },
  {
    name: '/dev/zero as a model to scan',
    setup: () => ({ args: ['scan', '/dev/zero'], stderr: /under \/dev|not a regular file/ }),
  },
  {
    name: '/dev/urandom as --policy',
    setup: (w) => ({
      args: ['scan', w.model, '--policy', '/dev/urandom'],
      stderr: /under \/dev|not a regular file/,
    }),
  },
  {
    name: '/dev/zero as sign --key',
    setup: (w) => ({
      args: ['sign', w.model, '-k', '/dev/zero', '-o', join(w.d, 's.sig')],
      stderr: /under \/dev|not a regular file/,
    }),
  },
  {
    name: '/proc/self/environ as a model to scan',
    setup: () => ({ args: ['scan', '/proc/self/environ'], stderr: /under \/proc/ }),
  },
  {
    name: '/proc/self/mem as a file to hash',
    setup: () => ({ args: ['hash', '/proc/self/mem'], stderr: /under \/proc/ }),
  },
  {
    name: 'a socket as a model to scan',
    setup: async (w) => ({ args: ['scan', await socketAt(join(w.d, 's.sock'))], stderr: NOT_REGULAR }),
  },
  {
    name: 'a socket as verify --lock',
    setup: async (w) => ({
      args: ['verify', '-l', await socketAt(join(w.d, 'l.sock'))],
      stderr: NOT_REGULAR,
    }),
  },
  {
    name: 'a symlink to a FIFO as --policy',
    setup: (w) => {
      symlinkSync(fifo(join(w.d, 'p')), join(w.d, 'policy.json'));
      return { args: ['scan', w.model, '--policy', join(w.d, 'policy.json')], stderr: NOT_REGULAR };
    },
  },
];

describe('hostile outputs and inputs', () => {
  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  for (const c of cases) {
    it(c.name, { timeout: 90_000 }, async () => {
      const w = workspace();
      const plan = await c.setup(w);
      const before = snapshot(w.d);
      const inputs = [w.model, w.ckpt, w.key, w.trusted, w.incoming, join(w.folder, 'w.safetensors')].map(
        (p) => [p, sha(p)] as const,
      );
      const r = cli(plan.args, w.d);
      const expected = plan.code ?? 2;
      expect(r.code, `${r.stderr}${r.stdout}`).toBe(expected);
      if (expected === 2) {
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^antidote: error: /);
        if (plan.stderr) expect(lines[0]).toMatch(plan.stderr);
      }
      for (const [p, digest] of inputs) expect(sha(p), p).toBe(digest);
      const after = snapshot(w.d);
      const allowed = new Set(plan.mayWrite ?? []);
      for (const [rel, what] of after) {
        expect(rel, 'temporary file left').not.toMatch(/\.antidote-tmp-/);
        if (!allowed.has(rel)) expect(`${rel} ${what}`).toBe(`${rel} ${before.get(rel)}`);
      }
      for (const [rel] of before) if (!allowed.has(rel)) expect(after.has(rel), rel).toBe(true);
      if (c.name.startsWith('scan -o a symlink to a file outside')) {
        expect(lstatSync(join(w.d, 'out', 'r.json')).isFile()).toBe(true);
      }
    });
  }
});

describe('temporary files', () => {
  it('a run removes what a killed run left in its output folder, and nothing else', () => {
    const w = workspace();
    const out = join(w.d, 'out');
    mkdirSync(out);
    const dead = join(out, '.antidote-tmp-r.json-999999999-deadbeef');
    const old = join(out, '.antidote-tmp-r.json-0a1b2c3d');
    const live = join(out, `.antidote-tmp-r.json-${process.pid}-cafebabe`);
    const link = join(out, '.antidote-tmp-r.json-999999998-feedface');
    const other = join(out, 'antidote-tmp-not-ours');
    for (const p of [dead, old, live, other]) writeFileSync(p, 'x');
    symlinkSync(w.trusted, link);
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
    utimesSync(old, twoHoursAgo, twoHoursAgo);
    const r = cli(['scan', w.model, '-o', join(out, 'r.json')], w.d);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(old)).toBe(false);
    // The writer of this one (the test process) is alive and it is recent: kept.
    expect(existsSync(live)).toBe(true);
    // A link is never ours to remove, whatever its name; a file not matching the pattern neither.
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(sha(w.trusted)).toBe(sha(w.trusted));
  });

  it('a symlink planted at the temporary name is never written through', async () => {
    const { createTemp, tempNameFor } = await import('../../src/core/atomic-write.js');
    const w = workspace();
    const target = join(w.d, 'victim.txt');
    writeFileSync(target, 'victim');
    const planted = tempNameFor(join(w.d, 'r.json'));
    symlinkSync(target, planted);
    // createTemp picks a fresh random name: to prove O_EXCL|O_NOFOLLOW, open the planted name the same way.
    const { openExclusive } = await import('../../src/core/atomic-write.js');
    expect(() => openExclusive(planted)).toThrow(/EEXIST/);
    expect(readFileSync(target, 'utf8')).toBe('victim');
    const tmp = await createTemp(join(w.d, 'r.json'));
    expect(lstatSync(tmp).isFile()).toBe(true);
    rmSync(tmp);
  });

  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(
      `${sig} while outputs are being written removes the temporary files and exits ${code}`,
      { timeout: 120_000 },
      async () => {
        const w = workspace();
        // A bigger batch so that writing the outputs takes long enough to be interrupted.
        const lines = readFileSync(join(ROOT, 'examples', 'sst2', 'train.tsv'), 'utf8')
          .trim()
          .split(/\r?\n/);
        const rows = [lines[0]];
        for (let i = 0; rows.length < 60_000; i++) rows.push(lines[1 + (i % (lines.length - 1))]);
        writeFileSync(w.incoming, `${rows.join('\n')}\n`);
        const out = join(w.d, 'audit');
        const child = spawn(process.execPath, [CLI, ...auditArgs(w, ['--out-dir', out, '-q'])], {
          cwd: w.d,
          env: { ...process.env, NO_COLOR: '1' },
        });
        let stderr = '';
        child.stderr.on('data', (b) => (stderr += b));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        let sawTemp = false;
        let done = false;
        exited.then(() => (done = true));
        while (!done) {
          const temps = existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.antidote-tmp-')) : [];
          if (temps.length) {
            sawTemp = true;
            child.kill(sig);
            break;
          }
          await new Promise((r) => setTimeout(r, 2));
        }
        const exit = await exited;
        expect(sawTemp, `the run ended before any temporary file appeared: ${stderr}`).toBe(true);
        expect(exit).toBe(code);
        expect(stderr).toMatch(new RegExp(`interrupted \\(${sig}\\); temporary files removed`));
        const left = readdirSync(out).filter((n) => n.startsWith('.antidote-tmp-'));
        expect(left).toEqual([]);
      },
    );
  }
});
