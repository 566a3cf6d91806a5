/** `antidote serve` subcommands as a user runs them: tokens, import, export-trusted, and their bad input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeAudit } from './fixtures.js';

const work = tempDir('antidote-serve-cli-');
const data = join(work, 'data');
let auditDir = '';

beforeAll(() => {
  auditDir = makeAudit(join(work, 'runs'));
});

describe('antidote serve commands', () => {
  it('creates a token printed once and stored hashed', () => {
    const r = runCli(['serve', 'token', 'create', '--role', 'reviewer', '--name', 'bo', '--data', data]);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token).toMatch(/^adt_[A-Za-z0-9_-]{43}$/);
    expect(r.stderr).toContain('shown only this once');
    expect(readFileSync(join(data, 'antidote.duckdb')).includes(Buffer.from(token))).toBe(false);
  });

  it('imports report folders once, and exports nothing before any review', () => {
    const first = runCli(['serve', 'import', work, '--data', data]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('1 run recorded, 0 already there, 0 skipped');
    const again = runCli(['serve', 'import', auditDir, '--data', data]);
    expect(again.stdout).toContain('0 runs recorded, 1 already there');
    const out = join(work, 'additions.csv');
    const ex = runCli(['serve', 'export-trusted', '--out', out, '--data', data]);
    expect(ex.code).toBe(0);
    expect(ex.stdout).toContain('0 rows written');
  });

  it('refuses bad input with one line and exit 2', () => {
    const cases = [
      ['serve', 'token', 'create', '--role', 'boss', '--data', data],
      ['serve', '--db', 'mysql://localhost/x', '--data', data],
      ['serve', 'export-trusted', '--out', join(work, 'x.txt'), '--data', data],
      ['serve', 'export-trusted', '--out', join(work, 'x.csv'), '--run', '../etc', '--data', data],
      ['serve', '--port', '99999', '--data', data],
    ];
    for (const args of cases) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^antidote: error: /);
    }
  });

  it('--post without a token or to a closed port fails with exit 2 after writing the report', () => {
    const r = runCli(['scan', 'package.json', '-f', 'json', '--post', 'http://127.0.0.1:9'], {
      env: { ANTIDOTE_TOKEN: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--post needs a token in $ANTIDOTE_TOKEN');
    expect(JSON.parse(r.stdout).results).toHaveLength(1);
    const closed = runCli(['scan', 'package.json', '-f', 'json', '--post', 'http://127.0.0.1:9'], {
      env: { ANTIDOTE_TOKEN: 'adt_0123456789abcdef' },
    });
    expect(closed.code).toBe(2);
    expect(closed.stderr).toMatch(/cannot post the report to http:\/\/127\.0\.0\.1:9/);
  });
});
