/**
 * The store's schema, as numbered migrations applied in order and recorded in schema_migrations. SQL is the
 * subset DuckDB and PostgreSQL share (TEXT ids made by the server, JSON kept as TEXT); a step may differ by
 * dialect where the two disagree (indexes: DuckDB appends faster without them and scans by zone maps).
 */
import type { Db, Dialect } from './db.js';

interface Migration {
  version: number;
  name: string;
  sql: string | Record<Dialect, string>;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'history, models, rows, reviews, tokens',
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  received_at TEXT NOT NULL,
  tool_version TEXT,
  verdict TEXT NOT NULL,
  title TEXT NOT NULL,
  batch TEXT,
  model TEXT,
  inputs TEXT NOT NULL,
  summary TEXT NOT NULL,
  report TEXT NOT NULL,
  posted_by TEXT
);
CREATE TABLE findings (
  run_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  location TEXT,
  evidence TEXT
);
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  baseline TEXT
);
CREATE TABLE model_versions (
  digest TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  label TEXT NOT NULL,
  first_seen TEXT NOT NULL
);
CREATE TABLE gate_decisions (
  run_id TEXT PRIMARY KEY,
  model TEXT NOT NULL,
  incumbent TEXT NOT NULL,
  candidate TEXT NOT NULL,
  decision TEXT NOT NULL,
  created_at TEXT NOT NULL,
  psi DOUBLE PRECISION,
  ks DOUBLE PRECISION,
  region TEXT,
  reasons TEXT NOT NULL
);
CREATE TABLE distributions (
  run_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  role TEXT NOT NULL,
  scope TEXT NOT NULL,
  slice TEXT NOT NULL,
  rows_n INTEGER NOT NULL,
  counts TEXT NOT NULL
);
CREATE TABLE row_outcomes (
  run_id TEXT NOT NULL,
  row_id TEXT NOT NULL,
  decision TEXT NOT NULL,
  score DOUBLE PRECISION,
  reasons TEXT NOT NULL,
  review TEXT,
  label TEXT,
  source TEXT,
  labeler TEXT,
  fields TEXT NOT NULL
);
CREATE TABLE reviews (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  row_id TEXT NOT NULL,
  decision TEXT NOT NULL,
  corrected_label TEXT,
  note TEXT,
  reviewer TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);`,
  },
  {
    version: 2,
    name: 'indexes for the dashboard',
    sql: {
      duckdb: 'CREATE INDEX runs_kind_time ON runs (kind, created_at)',
      postgres: `
CREATE INDEX runs_kind_time ON runs (kind, created_at);
CREATE INDEX findings_run ON findings (run_id);
CREATE INDEX distributions_run ON distributions (run_id);
CREATE INDEX row_outcomes_run ON row_outcomes (run_id, review);
CREATE INDEX reviews_run ON reviews (run_id, row_id);`,
    },
  },
  {
    version: 3,
    name: 'token revocation',
    sql: 'ALTER TABLE tokens ADD COLUMN revoked_at TEXT',
  },
  {
    version: 4,
    name: 'trusted neighbours of review rows',
    sql: 'ALTER TABLE row_outcomes ADD COLUMN neighbours TEXT',
  },
  {
    // The data page's rates per source and labeler: counted once at ingest instead of over every stored row
    // at each change of the store (1,000,000 rows took a second); existing rows are counted here once.
    version: 5,
    name: 'per-run counts by source and labeler',
    sql: `
CREATE TABLE run_contributors (
  run_id TEXT NOT NULL,
  role TEXT NOT NULL,
  who TEXT NOT NULL,
  rows_n INTEGER NOT NULL,
  quarantined INTEGER NOT NULL
);
INSERT INTO run_contributors (run_id, role, who, rows_n, quarantined)
  SELECT run_id, 'source', source, COUNT(*), SUM(CASE WHEN decision = 'quarantined' THEN 1 ELSE 0 END)
  FROM row_outcomes WHERE source IS NOT NULL GROUP BY run_id, source;
INSERT INTO run_contributors (run_id, role, who, rows_n, quarantined)
  SELECT run_id, 'labeler', labeler, COUNT(*), SUM(CASE WHEN decision = 'quarantined' THEN 1 ELSE 0 END)
  FROM row_outcomes WHERE labeler IS NOT NULL GROUP BY run_id, labeler`,
  },
  {
    version: 6,
    name: 'drift by window against the trusted baseline',
    sql: `
CREATE TABLE drift_windows (
  run_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  start_at TEXT,
  end_at TEXT,
  label_rates TEXT NOT NULL,
  trusted_rates TEXT NOT NULL,
  max_psi DOUBLE PRECISION,
  psi_feature TEXT
)`,
  },
];

/** Apply the migrations not yet recorded; each in its own transaction with its record. */
export async function migrate(db: Db): Promise<number[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const done = new Set(
    (await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) =>
      Number(r.version),
    ),
  );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    const sql = typeof m.sql === 'string' ? m.sql : m.sql[db.dialect];
    await db.tx(async (t) => {
      for (const stmt of sql.split(';').map((s) => s.trim())) if (stmt) await t.exec(stmt);
      await t.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
    });
    applied.push(m.version);
  }
  return applied;
}
