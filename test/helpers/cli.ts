/** Run the built CLI (dist/) as a user would. `npm test` builds first (pretest). */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'bin', 'antidote.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
/** The picklescan corpus (MIT), copied by test/fixtures/copy-from-shared.sh. */
export const CORPUS = join(FIXTURES, 'corpora', 'picklescan');

/** The datasets, one folder per dataset, expanded from test/fixtures/data by test/setup/global-setup.ts. */
export function testData(): string {
  const dir = process.env.ANTIDOTE_TEST_DATA;
  if (!dir)
    throw new Error('ANTIDOTE_TEST_DATA is not set: run the tests with vitest (test/setup/global-setup.ts)');
  return dir;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Async variant, for tests that run a server in the same process. */
export function runCliAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `antidote audit` as a user types it, on `trusted.csv` and `incoming.csv` in `dir`; outputs in `dir/out`.
 * Columns by role (label, and id/text when the files have them); `extra` flags follow.
 */
export function auditDir(
  dir: string,
  roles: { label: string; id?: string; text?: string },
  extra: string[] = [],
): CliResult & { out: string } {
  const out = join(dir, 'out');
  const args = ['audit', '--trusted', join(dir, 'trusted.csv'), '--incoming', join(dir, 'incoming.csv')];
  args.push('--label', roles.label);
  if (roles.id) args.push('--id', roles.id);
  if (roles.text) args.push('--text', roles.text);
  return { ...runCli([...args, '--out-dir', out, '--no-progress', ...extra]), out };
}
