/** `antidote serve` subcommands as a user runs them: tokens, import, export-trusted, and their bad input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MS } from '../../src/server/app.js';
import { startServer } from '../../src/server/start.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeAudit } from './fixtures.js';
import { freshPgDatabase, PG_URL, serviceNote } from './services.js';

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
      ['serve', 'token', 'revoke', 'not-an-id', '--data', data],
      ['serve', 'token', 'revoke', '0123456789ab', '--data', data],
    ];
    for (const args of cases) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^antidote: error: /);
    }
  });

  it('--post without a token fails with exit 2 before scanning; to a closed port, after writing the report', () => {
    const r = runCli(['scan', 'package.json', '-f', 'json', '--post', 'http://127.0.0.1:9'], {
      env: { ANTIDOTE_TOKEN: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--post needs a token in $ANTIDOTE_TOKEN');
    expect(r.stdout).toBe('');
    const closed = runCli(['scan', 'package.json', '-f', 'json', '--post', 'http://127.0.0.1:9'], {
      env: { ANTIDOTE_TOKEN: 'adt_0123456789abcdef' },
    });
    expect(closed.code).toBe(2);
    expect(closed.stderr).toMatch(/cannot post the report to http:\/\/127\.0\.0\.1:9/);
    expect(JSON.parse(closed.stdout).results).toHaveLength(1);
  });
});

const idOf = (stderr: string) => /\(id ([0-9a-f]{12})\)/.exec(stderr)?.[1] ?? '';
const me = (url: string, token: string) =>
  fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

const stores: Array<[string, () => Promise<string[]>]> = [
  ['the embedded store', async () => ['--data', join(work, 'revoke-data')]],
];
if (serviceNote('PostgreSQL (ANTIDOTE_TEST_PG_URL)', Boolean(PG_URL)))
  stores.push(['PostgreSQL', async () => ['--db', await freshPgDatabase(PG_URL as string)]]);

describe.each(stores)('antidote serve token list and revoke on %s', (name, storeArgs) => {
  it('lists tokens by id and revokes them on the store and through a running server', async () => {
    const args = await storeArgs();
    const admin = runCli(['serve', 'token', 'create', '--role', 'admin', '--name', 'ops', ...args]);
    const viewer = runCli(['serve', 'token', 'create', '--role', 'viewer', '--name', 'intern', ...args]);
    const [adminId, viewerId] = [idOf(admin.stderr), idOf(viewer.stderr)];
    expect(adminId).toMatch(/^[0-9a-f]{12}$/);
    const list = runCli(['serve', 'token', 'list', ...args]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${viewerId}\\s+viewer .* active\\s+intern`));
    expect(list.stdout).not.toContain(viewer.stdout.trim());

    const db = args[0] === '--db' ? args[1] : undefined;
    const dataDir = args[0] === '--data' ? args[1] : join(work, 'unused');
    if (!db) {
      // The embedded file has one user at a time: revoke on the store before the server starts.
      const r = runCli(['serve', 'token', 'revoke', viewerId, ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`token ${viewerId} revoked`);
    }
    const srv = await startServer({ dataDir, url: db, log: () => undefined });
    try {
      const adminToken = admin.stdout.trim();
      const viewerToken = viewer.stdout.trim();
      if (db) {
        // PostgreSQL is shared: a revocation by another process reaches the running server within the cache time.
        expect(await me(srv.url, viewerToken)).toBe(200);
        const r = await runCliAsync(['serve', 'token', 'revoke', viewerId, ...args]);
        expect(r.code, r.stderr).toBe(0);
        const until = Date.now() + TOKEN_CACHE_MS + 3000;
        while ((await me(srv.url, viewerToken)) !== 401 && Date.now() < until)
          await new Promise((res) => setTimeout(res, 200));
      }
      expect(await me(srv.url, viewerToken)).toBe(401);
      expect(await me(srv.url, adminToken)).toBe(200);
      const env = { ANTIDOTE_TOKEN: adminToken };
      // A token is created through the running server too (the embedded store is locked while it runs).
      const made = await runCliAsync(
        ['serve', 'token', 'create', '--role', 'reviewer', '--name', 'night-shift', '--server', srv.url],
        { env },
      );
      expect(made.code, made.stderr).toBe(0);
      expect(made.stderr).toMatch(/reviewer token "night-shift" created \(id [0-9a-f]{12}\)/);
      expect(await me(srv.url, made.stdout.trim())).toBe(200);
      const listed = await runCliAsync(['serve', 'token', 'list', '--server', srv.url], { env });
      expect(listed.stdout).toMatch(new RegExp(`${viewerId} .* revoked \\d{4}-`));
      expect(listed.stdout).toMatch(new RegExp(`${idOf(made.stderr)}\\s+reviewer .* active\\s+night-shift`));
      const self = await runCliAsync(['serve', 'token', 'revoke', adminId, '--server', srv.url], { env });
      expect(self.code, self.stderr).toBe(0);
      expect(await me(srv.url, adminToken)).toBe(401);
      const denied = await runCliAsync(['serve', 'token', 'list', '--server', srv.url], { env });
      expect(denied.code).toBe(2);
      expect(denied.stderr).toMatch(/HTTP 401/);
      const notMade = await runCliAsync(
        ['serve', 'token', 'create', '--role', 'admin', '--server', srv.url],
        {
          env: { ANTIDOTE_TOKEN: made.stdout.trim() },
        },
      );
      expect(notMade.code).toBe(2);
      expect(notMade.stderr).toMatch(/HTTP 403.*needs the admin role/);
    } finally {
      await srv.close();
    }
    void name;
  }, 60_000);
});
