/**
 * Hashing, signing and verifying a multi-GB model folder, against single-core peers in the same run.
 *   - input: bench/.cache/hash-model/, four weight files of 1 GiB, 768, 512 and 384 MiB plus small
 *     files, real (non-sparse) bytes from a seeded AES-CTR keystream; regenerated when missing.
 *   - peers: `sha256sum` over the same files (one process, one core) and `openssl dgst -sha256`
 *     (one core, OpenSSL's SHA-256 as Node uses it), each run in the same session, page cache warm.
 *   - target: antidote hash MB/s >= 90% of (single-core sha256sum MB/s x cores used).
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, generateKeyPairSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureCache, machine, median, table, writeSection } from './lib.js';

const MiB = 1024 * 1024;
const FILES: Array<[string, number]> = [
  ['model-00001-of-00004.safetensors', 1024 * MiB],
  ['model-00002-of-00004.safetensors', 768 * MiB],
  ['model-00003-of-00004.safetensors', 512 * MiB],
  ['model-00004-of-00004.safetensors', 384 * MiB],
];
const SMALL: Record<string, string> = {
  'config.json': '{"model_type":"llama","architectures":["LlamaForCausalLM"]}',
  'tokenizer.json': '{"version":"1.0"}',
  'README.md': '---\nlicense: apache-2.0\n---\n# bench model\n',
};
const RUNS = 3;

function generate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const chunk = Buffer.alloc(16 * MiB);
  FILES.forEach(([name, size], i) => {
    const p = join(dir, name);
    if (existsSync(p) && statSync(p).size === size) return;
    const key = Buffer.alloc(16, i + 1);
    const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16, 0x5a));
    const fd = openSync(p, 'w');
    for (let done = 0; done < size; done += chunk.length) {
      const n = Math.min(chunk.length, size - done);
      writeSync(fd, cipher.update(chunk.subarray(0, n)));
    }
    closeSync(fd);
  });
  for (const [name, text] of Object.entries(SMALL)) writeFileSync(join(dir, name), text);
}

interface Timed {
  seconds: number;
  /** User + system CPU seconds of the process and all its threads. */
  cpu: number;
  peakRssMB: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Wall time, CPU time and peak RSS via GNU time. CPU time is what a tool needs on an idle machine;
 * the machine is shared, so wall times are noisy and CPU times are the steadier comparison.
 */
function timeCommand(cmd: string, args: string[]): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '__T=%U %S %M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const m = /__T=([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  return {
    seconds,
    cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    peakRssMB: m ? Number(m[3]) / 1024 : Number.NaN,
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
}

function must(t: Timed, what: string): Timed {
  if (t.status !== 0) throw new Error(`${what} failed (${t.status}): ${t.stderr.slice(0, 400)}`);
  return t;
}

const cache = ensureCache();
const dir = join(cache, 'hash-model');
generate(dir);
const weightPaths = FILES.map(([n]) => join(dir, n));
const totalBytes = readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);

const keys = generateKeyPairSync('ec', {
  namedCurve: 'prime256v1',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
writeFileSync(join(cache, 'hash-bench.key'), keys.privateKey);
writeFileSync(join(cache, 'hash-bench.pub'), keys.publicKey);
const sig = join(cache, 'hash-bench.sig');
const lockFile = join(cache, 'hash-bench.lock');

// Warm the page cache so every tool reads from memory.
spawnSync('cat', weightPaths, { stdio: ['ignore', 'ignore', 'ignore'] });
const load = loadavg()[0];

// One round = every command once; rounds interleave so that load from elsewhere on the machine falls on
// all of them alike. The single-core peers hash the 1 GiB file (their rate does not depend on size).
const peerFile = [weightPaths[0]];
const peerBytes = FILES[0][1];
const node = process.execPath;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const commands: Array<{ key: string; cmd: string; args: string[] }> = [
  { key: 'sha256sum', cmd: 'sha256sum', args: peerFile },
  ...(hasOpenssl ? [{ key: 'openssl', cmd: 'openssl', args: ['dgst', '-sha256', ...peerFile] }] : []),
  { key: 'hash', cmd: node, args: [CLI, 'hash', dir, '--no-progress'] },
  { key: 'hash1', cmd: node, args: [CLI, 'hash', dir, '--workers', '1', '--no-progress'] },
  {
    key: 'sign',
    cmd: node,
    args: [CLI, 'sign', dir, '--key', join(cache, 'hash-bench.key'), '-o', sig, '--force', '--no-progress'],
  },
  {
    key: 'verify',
    cmd: node,
    args: [CLI, 'verify-signature', dir, '--sig', sig, '--key', join(cache, 'hash-bench.pub')],
  },
  { key: 'lock', cmd: node, args: [CLI, 'lock', dir, '-o', lockFile, '--force', '--no-progress'] },
  { key: 'verifyLock', cmd: node, args: [CLI, 'verify', dir, '--lock', lockFile, '--no-progress'] },
];
const runs = new Map<string, Timed[]>(commands.map((c) => [c.key, []]));
for (let i = 0; i < RUNS; i++) {
  for (const c of commands) runs.get(c.key)!.push(must(timeCommand(c.cmd, c.args), c.key));
}
const stat = (key: string) => {
  const r = runs.get(key)!;
  return {
    wall: median(r.map((x) => x.seconds)),
    cpu: median(r.map((x) => x.cpu)),
    peakRssMB: Math.max(...r.map((x) => x.peakRssMB)),
  };
};
const sha256sum = stat('sha256sum');
const openssl = hasOpenssl ? stat('openssl') : null;
const hash = stat('hash');
const hash1 = stat('hash1');
const sign = stat('sign');
const verify = stat('verify');
const lock = stat('lock');
const verifyLock = stat('verifyLock');

// Digest agreement: antidote's per-file digests are sha256sum's.
const ours = must(timeCommand(node, [CLI, 'hash', dir, '--files']), 'antidote hash --files').stdout;
const sums = spawnSync('sha256sum', weightPaths, { encoding: 'utf8' }).stdout;
for (const line of sums.trim().split('\n')) {
  const [digest, path] = line.split(/\s+\*?/);
  if (!ours.includes(`${digest}  ${path}`)) throw new Error(`digest mismatch for ${path}`);
}

const cores = Math.min(availableParallelism(), FILES.length);
const MBps = (bytes: number, s: number) => bytes / 1e6 / s;
type Stat = ReturnType<typeof stat>;
const row = (what: string, r: Stat, bytes: number) => [
  what,
  r.wall.toFixed(2),
  MBps(bytes, r.wall).toFixed(0),
  r.cpu.toFixed(2),
  MBps(bytes, r.cpu).toFixed(0),
  Number.isFinite(r.peakRssMB) ? r.peakRssMB.toFixed(0) : 'n/a',
];
const rows = [
  row('sha256sum, the 1 GiB file (1 core)', sha256sum, peerBytes),
  ...(openssl ? [row('openssl dgst -sha256, same file (1 core)', openssl, peerBytes)] : []),
  row(`antidote hash (${cores} workers)`, hash, totalBytes),
  row('antidote hash --workers 1', hash1, totalBytes),
  row('antidote sign (P-256)', sign, totalBytes),
  row('antidote verify-signature', verify, totalBytes),
  row('antidote lock', lock, totalBytes),
  row('antidote verify (lock)', verifyLock, totalBytes),
];
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
// Wall: what the run achieved on this shared machine. CPU: MB per CPU-second, i.e. what each core does
// when it is free; with `cores` free cores, wall throughput = cores x this.
const wallVsSum = MBps(totalBytes, hash.wall) / (MBps(peerBytes, sha256sum.wall) * cores);
const cpuVsSum = MBps(totalBytes, hash.cpu) / MBps(peerBytes, sha256sum.cpu);
const cpuVsSsl = openssl ? MBps(totalBytes, hash.cpu) / MBps(peerBytes, openssl.cpu) : Number.NaN;
const wallVsSsl = openssl
  ? MBps(totalBytes, hash.wall) / (MBps(peerBytes, openssl.wall) * cores)
  : Number.NaN;

writeSection(
  'hash',
  `## Provenance: hashing, signing, verifying a ${(totalBytes / 2 ** 30).toFixed(2)} GiB model folder

Machine: ${machine()}; load average ${load.toFixed(1)} when the run started (the machine is shared, so wall
times are indicative; CPU times, user + system of all threads, are the steadier comparison). Input:
bench/.cache/hash-model (${FILES.length} weight files of 384 MiB to 1 GiB, seeded non-sparse bytes, plus small
files), page cache warm. Medians of ${RUNS} interleaved rounds, including process start.

${table(['command', 'wall s', 'MB/s (wall)', 'CPU s', 'MB per CPU-s', 'peak RSS MB'], rows)}

- **antidote hash vs sha256sum x ${cores} cores**: ${pct(wallVsSum)} in wall time (target >= 90%); per CPU-second,
  antidote hashes ${pct(cpuVsSum)} of sha256sum's rate${openssl ? ` and ${pct(cpuVsSsl)} of \`openssl dgst -sha256\`'s (same SHA-256 code as Node; wall: ${pct(wallVsSsl)} of openssl x ${cores})` : ''}.
- Sign / hash wall time: ${(sign.wall / hash.wall).toFixed(2)}; verify-signature / hash: ${(verify.wall / hash.wall).toFixed(2)}
  (CPU: ${(sign.cpu / hash.cpu).toFixed(2)} and ${(verify.cpu / hash.cpu).toFixed(2)}).
- Every per-file digest of \`antidote hash --files\` equals sha256sum's (checked in this run).
- Reproduce: \`npm run bench -- hash\`.`,
);
