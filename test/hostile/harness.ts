/**
 * The hostile suite's harness: every case runs the built CLI as a separate process under a wall-clock bound
 * (`timeout`) and an address-space bound (`prlimit --as`), with its peak RSS measured by `/usr/bin/time`,
 * in a folder of its own. Each case then asserts the promises a user relies on: the exit code (or verdict),
 * a one-line error without a stack trace for bad input, inputs byte-for-byte unchanged, no file written
 * outside the output folder, and peak memory under the case's bound.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;

export interface Prepared {
  args: string[];
  /** Files and folders the command must not change (default: everything in the case folder before the run). */
  inputs?: string[];
  /** Where the command may write (relative to the case folder); nothing else may appear. */
  outDir?: string;
}

export interface Case {
  name: string;
  /** Build the inputs in `dir` (the case's own folder, also the working directory) and give the arguments. */
  prepare: (dir: string) => Prepared | Promise<Prepared>;
  /** Expected exit code(s). */
  code: number | number[];
  stdout?: RegExp;
  stderr?: RegExp;
  /** Peak RSS bound and address-space bound, MiB (defaults 400 and 3072), wall-clock bound in seconds (60). */
  rssMiB?: number;
  asMiB?: number;
  seconds?: number;
  /** Extra checks on the result. */
  check?: (r: Result, dir: string) => void | Promise<void>;
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  maxRssMiB: number;
}

const ROOT_TMP = tempDir('antidote-hostile-');

export function caseDir(name: string): string {
  const d = join(
    ROOT_TMP,
    `${name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}-${Math.random().toString(36).slice(2, 8)}`,
  );
  mkdirSync(d, { recursive: true });
  return d;
}

/** Every file under `p` (relative paths) with its SHA-256; symlinks are recorded by target, not followed. */
export function snapshot(root: string, p = root, out = new Map<string, string>()): Map<string, string> {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return out;
  if (st.isSymbolicLink()) out.set(relative(root, p), `link:${readlinkSync(p)}`);
  else if (st.isDirectory()) for (const e of readdirSync(p)) snapshot(root, join(p, e), out);
  else if (st.isFile())
    out.set(relative(root, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
  return out;
}

/** Run the CLI bounded: `timeout` + `prlimit --as` + `/usr/bin/time` for the peak RSS. */
export function runBounded(
  args: string[],
  o: { cwd: string; seconds: number; asMiB: number; env?: NodeJS.ProcessEnv },
): Promise<Result> {
  const timeFile = join(o.cwd, '..', `${Math.random().toString(36).slice(2)}.time`);
  return new Promise((resolve) => {
    const child = spawn(
      'timeout',
      [
        '-k',
        '2',
        String(o.seconds),
        'prlimit',
        `--as=${o.asMiB * MiB}`,
        '--',
        '/usr/bin/time',
        '-f',
        '%M',
        '-o',
        timeFile,
        process.execPath,
        CLI,
        ...args,
      ],
      { cwd: o.cwd, env: { ...process.env, NO_COLOR: '1', CI: 'true', ...o.env } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < 4 * MiB) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 4 * MiB) stderr += d;
    });
    child.on('close', (code) => {
      let kb = 0;
      try {
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        kb = Number(lines[lines.length - 1]) || 0;
        rmSync(timeFile, { force: true });
      } catch {
        /* killed before /usr/bin/time wrote */
      }
      resolve({ code, stdout, stderr, maxRssMiB: kb / 1024 });
    });
  });
}

interface Outcome {
  r: Result;
  dir: string;
  prep: Prepared;
  before: Map<string, string>;
  after: Map<string, string>;
}

/** Prepare and run one case (no assertions yet). */
async function execute(c: Case): Promise<Outcome> {
  const dir = caseDir(c.name);
  const prep = await c.prepare(dir);
  const before = snapshot(dir);
  const r = await runBounded(prep.args, { cwd: dir, seconds: c.seconds ?? 60, asMiB: c.asMiB ?? 3072 });
  return { r, dir, prep, before, after: snapshot(dir) };
}

/** Assert every promise of one case. */
async function assertCase(c: Case, o: Outcome): Promise<void> {
  const { r, dir, prep, before, after } = o;
  const inputs = prep.inputs;
  const codes = Array.isArray(c.code) ? c.code : [c.code];
  const info = `exit ${r.code}\nstdout: ${r.stdout.slice(0, 600)}\nstderr: ${r.stderr.slice(0, 600)}`;
  expect(r.code, `timed out (${c.seconds ?? 60} s)\n${info}`).not.toBe(124);
  expect(codes, info).toContain(r.code);
  if (c.stdout) expect(r.stdout, info).toMatch(c.stdout);
  if (c.stderr) expect(r.stderr, info).toMatch(c.stderr);
  if (r.code === 2) {
    // Bad input: one line saying what is wrong, never a stack trace.
    expect(r.stderr, info).toMatch(/^antidote: error: /m);
    expect(r.stderr, info).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }
  expect(r.maxRssMiB, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB`).toBeGreaterThan(0);
  expect(r.maxRssMiB, `peak RSS ${r.maxRssMiB.toFixed(0)} MiB`).toBeLessThan(c.rssMiB ?? 400);
  // Inputs unchanged; nothing new outside the output folder.
  const inOut = (p: string) => !!prep.outDir && (p === prep.outDir || p.startsWith(`${prep.outDir}/`));
  for (const [p, h] of before) {
    if (inputs && !inputs.some((i) => p === i || p.startsWith(`${i}/`))) continue;
    if (inOut(p)) continue;
    expect(after.get(p), `input ${p} changed or vanished`).toBe(h);
  }
  for (const p of after.keys()) {
    if (!before.has(p)) expect(inOut(p), `${p} was written outside the output folder`).toBe(true);
  }
  await c.check?.(r, dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * One `it` per case. The processes run from a pool (HOSTILE_CONCURRENCY, default 6) started before the
 * first test, so the suite's wall time is set by the machine, not by running cases one after another.
 */
export function hostileSuite(title: string, cases: Case[]): void {
  const names = new Set<string>();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  const outcomes = new Map<string, Promise<Outcome>>();
  const start = () => {
    const limit = Number(process.env.HOSTILE_CONCURRENCY ?? 6);
    let next = 0;
    const waiters = new Map<number, (o: Promise<Outcome>) => void>();
    const promises = cases.map(
      (_, i) =>
        new Promise<Outcome>((resolve, reject) => {
          waiters.set(i, (p) => p.then(resolve, reject));
        }),
    );
    for (const [i, c] of cases.entries()) outcomes.set(c.name, promises[i]);
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const p = execute(cases[i]);
        waiters.get(i)?.(p);
        await p.catch(() => undefined);
      }
    };
    for (let k = 0; k < limit; k++) void worker();
  };
  describe(title, () => {
    beforeAll(start);
    for (const c of cases) {
      it(c.name, async () => {
        const o = await outcomes.get(c.name);
        if (o) await assertCase(c, o);
      }, 600_000);
    }
  });
}
