import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

// Bad input gets one line saying what is wrong, exit 2, and no stack trace unless --debug.
describe('user errors', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing file to scan', ['scan', '/nonexistent/model.pt'], /nonexistent/],
    ['an unknown output format', ['scan', 'README.md', '--format', 'xml'], /--format must be/],
    ['an invalid --fail-on', ['scan', 'README.md', '--fail-on', 'severe'], /--fail-on must be one of/],
    ['a missing policy file', ['scan', 'README.md', '--policy', '/nonexistent/policy.json'], /policy/i],
    [
      'a missing audit input',
      ['audit', '--trusted', '/nonexistent/a.csv', '--incoming', '/nonexistent/b.csv', '--label', 'y'],
      /nonexistent/,
    ],
    [
      'an unknown flag',
      ['scan', 'README.md', '--formt', 'json'],
      /unknown option '--formt'.*--format.*; run with --help for usage$/,
    ],
    [
      'a missing required flag',
      ['audit', '--incoming', 'b.csv'],
      /required option '--trusted <file>'.*; run with --help for usage$/,
    ],
    [
      'a missing argument',
      ['diff', 'README.md'],
      /missing required argument 'candidate'; run with --help for usage$/,
    ],
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'; run with --help for usage$/],
    [
      'a predictions file without --id',
      [
        'gate',
        '--trusted',
        'examples/sst2/dev.tsv',
        '--label',
        'label',
        '--incumbent',
        'test/fixtures/guard/sst2_traffic.csv',
        '--candidate',
        'test/fixtures/guard/sst2_traffic.csv',
      ],
      /sst2_traffic\.csv is a predictions file, which needs --id.*; add --id COLUMN/,
    ],
  ];
  for (const [what, args, pattern] of cases) {
    it(`${what}: one line, exit 2, no stack`, () => {
      const r = runCli(args);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(/^antidote: error: /);
      expect(lines[0]).not.toMatch(/internal error/);
      expect(lines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
  it('--post without a token stops before the work, not after it', () => {
    for (const args of [
      ['scan', 'README.md'],
      [
        'audit',
        '--trusted',
        'examples/sst2/dev.tsv',
        '--incoming',
        'examples/sst2/test.tsv',
        '--label',
        'label',
        '--out-dir',
        join(tempDir('antidote-post-'), 'out'),
      ],
    ]) {
      const r = runCli([...args, '--post', 'http://127.0.0.1:9'], { env: { ANTIDOTE_TOKEN: '' } });
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^antidote: error: --post needs a token in \$ANTIDOTE_TOKEN; create one/,
      );
      expect(r.stdout, args[0]).toBe('');
    }
  });
  it('a CSV that DuckDB cannot parse says what to check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'antidote-csv-'));
    const rows = Array.from({ length: 60 }, (_, i) => `"row ${i}, quoted",${i % 2}\r\n`).join('');
    writeFileSync(join(dir, 'mixed.csv'), `text,label\n${rows}`);
    const r = runCli([
      'audit',
      '--trusted',
      join(dir, 'mixed.csv'),
      '--incoming',
      'examples/sst2/test.tsv',
      '--label',
      'label',
      '--out-dir',
      join(dir, 'out'),
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/mixed\.csv: cannot read as CSV: .*; check that every line ends the same way/);
    rmSync(dir, { recursive: true, force: true });
  });
  it('--debug adds the stack trace', () => {
    const r = runCli(['scan', '/nonexistent/model.pt', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
  it('an unknown command is a usage error (exit 2)', () => {
    expect(runCli(['frobnicate']).code).toBe(2);
  });
  it('a clone not built yet says to build it (exit 2), not a module stack trace', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(__dirname, '../../bin/antidote.js'), join(dir, 'bin/antidote.js'));
    copyFileSync(join(__dirname, '../../package.json'), join(dir, 'package.json'));
    const r = spawnSync(process.execPath, [join(dir, 'bin/antidote.js'), 'demo'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      'antidote: not built yet: run `npm run build` in the clone, then run this again',
    ]);
  });
});
