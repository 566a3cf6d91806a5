/**
 * The server's tests run against the embedded store always and against PostgreSQL and chromium when
 * `scripts/services.sh start` provided them. Without them a developer's `npm test` skips those tests with one
 * line naming that command; with ANTIDOTE_REQUIRE_SERVICES=1 (set by .ci/run) a missing service fails them.
 */
import { existsSync } from 'node:fs';

export const REQUIRE = process.env.ANTIDOTE_REQUIRE_SERVICES === '1';
export const PG_URL = process.env.ANTIDOTE_TEST_PG_URL;
export const CHROMIUM = process.env.ANTIDOTE_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
const HOW = 'start them with: eval "$(scripts/services.sh start)"';

let said = false;
export function serviceNote(what: string, present: boolean): boolean {
  if (present) return true;
  if (REQUIRE) throw new Error(`${what} is required (ANTIDOTE_REQUIRE_SERVICES=1) but missing; ${HOW}`);
  if (!said) process.stderr.write(`server tests: ${what} not available, skipping its tests; ${HOW}\n`);
  said = true;
  return false;
}

/** A fresh database on the test server, so suites never see each other's rows. */
export async function freshPgDatabase(url: string): Promise<string> {
  const pg = (await import('pg')).default;
  const name = `antidote_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
