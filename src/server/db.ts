/**
 * The two databases behind the history store, reduced to what the store needs: parameterised queries
 * ($1, $2, ... in both), a transaction, and a fast bulk insert (DuckDB's appender, PostgreSQL's unnest).
 * The embedded default is a DuckDB file under the server's data folder (no set-up; DuckDB is already the
 * project's data engine); PostgreSQL is for teams sharing one server.
 */
import { AntidoteError } from '../core/errors.js';

export type SqlValue = string | number | boolean | null;
export type ColumnType = 'text' | 'double' | 'int' | 'bool';
export type Dialect = 'duckdb' | 'postgres';

/** Rows produced one at a time into a reused buffer: 10,000 rows a post need no 10,000 arrays. */
export interface RowSource {
  length: number;
  fill(i: number, out: SqlValue[]): void;
}
const asSource = (rows: SqlValue[][] | RowSource): RowSource =>
  Array.isArray(rows)
    ? {
        length: rows.length,
        fill: (i, out) => {
          for (let c = 0; c < out.length; c++) out[c] = rows[i][c] ?? null;
        },
      }
    : rows;

export interface Db {
  readonly dialect: Dialect;
  /** Statements without results (DDL); may hold several separated by semicolons. */
  exec(sql: string): Promise<void>;
  run(sql: string, params?: SqlValue[]): Promise<void>;
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  insertMany(
    table: string,
    columns: Array<[string, ColumnType]>,
    rows: SqlValue[][] | RowSource,
  ): Promise<void>;
  /** Run `fn` in one transaction: every write lands or none does. */
  tx<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Normalise driver values: BIGINT arrives as bigint (DuckDB) and must be a plain number in JSON. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (typeof v === 'bigint') row[k] = Number(v);
  }
  return row;
}

/** A FIFO lock: one DuckDB connection runs one statement or transaction at a time. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}

type DuckConn = import('@duckdb/node-api').DuckDBConnection;
type DuckInstance = import('@duckdb/node-api').DuckDBInstance;

class DuckOps implements Db {
  readonly dialect = 'duckdb' as const;
  constructor(
    protected readonly conn: DuckConn,
    private readonly wrap: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  exec(sql: string): Promise<void> {
    return this.wrap(async () => {
      await this.conn.run(sql);
    });
  }

  run(sql: string, params: SqlValue[] = []): Promise<void> {
    return this.wrap(async () => {
      await this.conn.run(sql, params);
    });
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.wrap(async () => {
      const r = await this.conn.runAndReadAll(sql, params);
      return r.getRowObjectsJS().map((o) => plain(o as Record<string, unknown>)) as T[];
    });
  }

  insertMany(
    table: string,
    columns: Array<[string, ColumnType]>,
    rows: SqlValue[][] | RowSource,
  ): Promise<void> {
    return this.wrap(async () => {
      const src = asSource(rows);
      if (!src.length) return;
      const app = await this.conn.createAppender(table);
      const row: SqlValue[] = new Array(columns.length).fill(null);
      const types = columns.map((c) => c[1]);
      try {
        for (let i = 0; i < src.length; i++) {
          src.fill(i, row);
          for (let c = 0; c < types.length; c++) {
            const v = row[c];
            if (v === null || v === undefined) app.appendNull();
            else if (types[c] === 'text') app.appendVarchar(String(v));
            else if (types[c] === 'double') app.appendDouble(Number(v));
            else if (types[c] === 'int') app.appendInteger(Number(v));
            else app.appendBoolean(Boolean(v));
          }
          app.endRow();
        }
        app.flushSync();
      } finally {
        app.closeSync();
      }
    });
  }

  tx<T>(_fn: (db: Db) => Promise<T>): Promise<T> {
    throw new Error('nested transaction');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class DuckDb extends DuckOps {
  private readonly mutex: Mutex;
  private constructor(
    private readonly instance: DuckInstance,
    conn: DuckConn,
    mutex: Mutex,
  ) {
    super(conn, (fn) => mutex.lock(fn));
    this.mutex = mutex;
  }

  static async open(path: string): Promise<DuckDb> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    let instance: DuckInstance;
    try {
      instance = await DuckDBInstance.create(path, { threads: '2' });
    } catch (err) {
      throw new AntidoteError('E_IO', `cannot open the store ${path}: ${(err as Error).message}`, {
        hint: 'is another `antidote serve` using the same --data folder? (`token create|list|revoke --server URL` go through it)',
        cause: err,
      });
    }
    const conn = await instance.connect();
    return new DuckDb(instance, conn, new Mutex());
  }

  override tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.mutex.lock(async () => {
      const inner = new DuckOps(this.conn, (f) => f());
      await this.conn.run('BEGIN TRANSACTION');
      try {
        const out = await fn(inner);
        await this.conn.run('COMMIT');
        return out;
      } catch (err) {
        await this.conn.run('ROLLBACK');
        throw err;
      }
    });
  }

  override close(): Promise<void> {
    return this.mutex.lock(async () => {
      await this.conn.run('CHECKPOINT').catch(() => undefined);
      this.conn.closeSync();
      this.instance.closeSync();
    });
  }
}

type PgPool = import('pg').Pool;
type PgClient = import('pg').PoolClient;

const PG_ARRAY: Record<ColumnType, string> = {
  text: 'text[]',
  double: 'float8[]',
  int: 'int4[]',
  bool: 'bool[]',
};

class PgOps implements Db {
  readonly dialect = 'postgres' as const;
  constructor(protected readonly q: PgPool | PgClient) {}

  async exec(sql: string): Promise<void> {
    await this.q.query(sql);
  }
  async run(sql: string, params: SqlValue[] = []): Promise<void> {
    await this.q.query(sql, params);
  }
  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const r = await this.q.query(sql, params);
    return r.rows as T[];
  }
  async insertMany(
    table: string,
    columns: Array<[string, ColumnType]>,
    rows: SqlValue[][] | RowSource,
  ): Promise<void> {
    const src = asSource(rows);
    if (!src.length) return;
    const names = columns.map((c) => c[0]).join(', ');
    const args = columns.map((c, i) => `$${i + 1}::${PG_ARRAY[c[1]]}`).join(', ');
    const sql = `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${args})`;
    const CHUNK = 20000;
    const row: SqlValue[] = new Array(columns.length).fill(null);
    for (let start = 0; start < src.length; start += CHUNK) {
      const end = Math.min(src.length, start + CHUNK);
      const cols: SqlValue[][] = columns.map(() => []);
      for (let i = start; i < end; i++) {
        src.fill(i, row);
        for (let c = 0; c < cols.length; c++) cols[c].push(row[c] ?? null);
      }
      await this.q.query(sql, cols);
    }
  }
  tx<T>(_fn: (db: Db) => Promise<T>): Promise<T> {
    throw new Error('nested transaction');
  }
  async close(): Promise<void> {}
}

export class PgDb extends PgOps {
  private constructor(private readonly pool: PgPool) {
    super(pool);
  }

  static async open(url: string): Promise<PgDb> {
    const pg = (await import('pg')).default;
    // COUNT(*) and other BIGINTs arrive as strings by default; the store's numbers fit a double.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    pg.types.setTypeParser(1700, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    try {
      const c = await pool.connect();
      c.release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new AntidoteError(
        'E_IO',
        `cannot connect to PostgreSQL at ${redact(url)}: ${(err as Error).message}`,
        {
          hint: 'check --db (postgres://user:password@host:port/database) and that the server runs',
          cause: err,
        },
      );
    }
    return new PgDb(pool);
  }

  override async tx<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(new PgOps(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  override async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A connection URL without its password, for messages and logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export async function openDb(opts: { dataDir: string; url?: string }): Promise<Db> {
  if (opts.url) {
    if (!/^postgres(ql)?:\/\//.test(opts.url))
      throw new AntidoteError('E_USAGE', `--db must be a postgres:// URL (got "${redact(opts.url)}")`);
    return PgDb.open(opts.url);
  }
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(opts.dataDir, { recursive: true });
  return DuckDb.open(join(opts.dataDir, 'antidote.duckdb'));
}
