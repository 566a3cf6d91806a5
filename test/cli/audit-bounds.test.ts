/**
 * Issue 12, "bounded": an audit of 5,000 classes, 10,000 columns or 1,000,000 distinct tokens ends within
 * 60 s under a 4 GiB address-space cap, with a result (exit 0 or 1) or a one-line error (exit 2). Each case is
 * a generated CSV pair; the CLI runs as a user would, under `prlimit --as` and `timeout`.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng, tmpDir } from '../data/helpers.js';
import { CLI, ROOT } from '../helpers/cli.js';

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0;

async function writeLines(path: string, header: string, rows: number, row: (i: number) => string) {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${row(i)}\n`)) await new Promise((r) => out.once('drain', () => r(undefined)));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

function boundedAudit(trusted: string, incoming: string, out: string, extra: string[] = []) {
  const t0 = Date.now();
  const r = spawnSync(
    'prlimit',
    [
      '--as=4294967296',
      '--',
      'timeout',
      '60',
      process.execPath,
      CLI,
      'audit',
      '--trusted',
      trusted,
      '--incoming',
      incoming,
      '--label',
      'label',
      '--out',
      out,
      ...extra,
    ],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' }, maxBuffer: 1 << 26 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

/** A result (report written, exit 0/1) or a one-line error (exit 2): never a crash, a kill or a timeout. */
function expectResultOrOneLineError(r: ReturnType<typeof boundedAudit>, out: string) {
  expect(r.code, r.stderr).not.toBe(124); // timeout
  expect(r.code, r.stderr).not.toBeNull(); // killed by a signal
  if (r.code === 2) {
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^antidote: error: /);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  } else {
    expect([0, 1]).toContain(r.code);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  }
  expect(r.seconds).toBeLessThan(60);
}

describe.skipIf(!hasPrlimit)('antidote audit: bounded in classes, columns and vocabulary', () => {
  it('5,000 classes: a one-line error naming the limit, at once', async () => {
    const dir = tmpDir();
    const r0 = rng(11);
    const row = () => {
      const c = Math.floor(r0() * 5000);
      return `${((c % 97) + r0()).toFixed(3)},${(Math.floor(c / 97) + r0()).toFixed(3)},c${c}`;
    };
    await writeLines(join(dir, 't.csv'), 'x,y,label', 5000, row);
    await writeLines(join(dir, 'i.csv'), 'x,y,label', 10000, row);
    const r = boundedAudit(join(dir, 't.csv'), join(dir, 'i.csv'), join(dir, 'out'));
    expectResultOrOneLineError(r, join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/classes; the audit handles at most \d+/);
  }, 90_000);

  it('10,000 columns: a one-line error before the file is loaded', async () => {
    const dir = tmpDir();
    const r0 = rng(12);
    const header = `${Array.from({ length: 10000 }, (_, j) => `f${j}`).join(',')},label`;
    const row = () =>
      `${Array.from({ length: 10000 }, () => Math.floor(r0() * 10)).join(',')},${r0() < 0.5 ? 0 : 1}`;
    await writeLines(join(dir, 't.csv'), header, 300, row);
    await writeLines(join(dir, 'i.csv'), header, 600, row);
    const r = boundedAudit(join(dir, 't.csv'), join(dir, 'i.csv'), join(dir, 'out'));
    expectResultOrOneLineError(r, join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/10001 columns exceed the audit's limit/);
  }, 90_000);

  it('1,000,000 distinct tokens: a full result', async () => {
    const dir = tmpDir();
    const r0 = rng(13);
    let k = 0;
    const row = () => {
      const words: string[] = [];
      for (let w = 0; w < 5; w++) words.push(`w${(k++).toString(36)}`);
      return `${words.join(' ')},${r0() < 0.5 ? 0 : 1}`;
    };
    await writeLines(join(dir, 't.csv'), 'text,label', 70_000, row);
    await writeLines(join(dir, 'i.csv'), 'text,label', 140_000, row);
    const r = boundedAudit(join(dir, 't.csv'), join(dir, 'i.csv'), join(dir, 'out'), ['--text', 'text']);
    expectResultOrOneLineError(r, join(dir, 'out'));
    expect(r.code).not.toBe(2);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'));
    expect(report.summary.incoming).toBe(140_000);
  }, 120_000);
});
