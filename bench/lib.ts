/** Small shared helpers for benchmarks: timing, medians, peak RSS of a child process, result tables. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const CACHE = join(BENCH_DIR, '.cache');
export const SHARED = process.env.ANTIDOTE_SHARED ?? join(ROOT, '..', 'shared');
export const CLI = join(ROOT, 'bin', 'antidote.js');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Timed {
  seconds: number;
  peakRssMB: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a command under GNU time (if present) to get wall time and peak RSS of the whole process,
 * including process start. Falls back to wall time only.
 */
export function timeCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Timed {
  const useTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
  const t0 = process.hrtime.bigint();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', '__RSS_KB=%M', cmd, ...args], {
        cwd: opts.cwd ?? ROOT,
        env: opts.env ?? process.env,
        maxBuffer: 1 << 30,
        encoding: 'utf8',
      })
    : spawnSync(cmd, args, {
        cwd: opts.cwd ?? ROOT,
        env: opts.env ?? process.env,
        maxBuffer: 1 << 30,
        encoding: 'utf8',
      });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let stderr = r.stderr ?? '';
  let peakRssMB = Number.NaN;
  const m = /__RSS_KB=(\d+)\s*$/.exec(stderr);
  if (m) {
    peakRssMB = Number(m[1]) / 1024;
    stderr = stderr.slice(0, m.index);
  }
  return { seconds, peakRssMB, status: r.status, stdout: r.stdout ?? '', stderr };
}

export function repeat(n: number, fn: () => Timed): { median: number; peakRssMB: number; runs: Timed[] } {
  const runs: Timed[] = [];
  for (let i = 0; i < n; i++) runs.push(fn());
  return {
    median: median(runs.map((r) => r.seconds)),
    peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
    runs,
  };
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Write this benchmark's section of RESULTS.md and print it. */
export function writeSection(name: string, markdown: string): void {
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  const text = `${markdown.trim()}\n`;
  writeFileSync(join(BENCH_DIR, 'results', `${name}.md`), text);
  console.log(text);
}

export function ensureCache(): string {
  mkdirSync(CACHE, { recursive: true });
  return CACHE;
}
