/**
 * Tables in and out through DuckDB (@duckdb/node-api): CSV, TSV, JSONL and Parquet. A file is loaded into
 * an in-process DuckDB table (never whole into JavaScript objects); analyses then pull only the columns
 * they need, chunk by chunk, into typed arrays. The same source writes the outputs with COPY, so accepted and
 * quarantined rows keep the incoming file's format, columns and values.
 *
 * Dialects are fixed, not sniffed (a sniffer guesses wrong on exactly the malformed files we must survive):
 * CSV is RFC 4180 (`"` quotes, `""` escapes); TSV is IANA text/tab-separated-values (no quoting). The header
 * is parsed here so that column names are kept byte for byte. Rows DuckDB cannot parse are kept (raw text,
 * line, error) in a rejects table and counted, never dropped silently.
 *
 * Reusable by any layer (the gate reads its holdout through it): `DataSource.open()`, `load()`,
 * `describe()`, `readColumns()`, `copyTo()`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open as openFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { DuckDBConnection, DuckDBInstance, DuckDBVector } from '@duckdb/node-api';
import { AntidoteError, describeFsError, inputError, schemaError } from '../core/errors.js';
import { assertFileJsonDepth, JsonDepthError } from '../core/json-depth.js';
import { LIMITS } from '../core/limits.js';
import type { AuditRoles, Categorical, Dataset } from './detectors/types.js';

export type TableFormat = 'csv' | 'tsv' | 'jsonl' | 'parquet';

export const SUPPORTED_EXTENSIONS =
  '.csv, .tsv, .tab, .jsonl, .ndjson, .parquet (optionally .gz for text formats)';

/** The format implied by a file name. Throws a usage-level input error for anything else. */
export function formatOf(path: string): TableFormat {
  let name = basename(path).toLowerCase();
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  const ext = extname(name);
  switch (ext) {
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.jsonl':
    case '.ndjson':
      return 'jsonl';
    case '.parquet':
    case '.pq':
      if (basename(path).toLowerCase().endsWith('.gz')) break;
      return 'parquet';
  }
  throw inputError(
    `${path}: unsupported file type "${ext || basename(path)}"`,
    `use one of ${SUPPORTED_EXTENSIONS}`,
  );
}

export const EXTENSION: Record<TableFormat, string> = {
  csv: 'csv',
  tsv: 'tsv',
  jsonl: 'jsonl',
  parquet: 'parquet',
};

/** What a column holds, decided from the whole column (not a sample). */
export type ColumnKind = 'numeric' | 'boolean' | 'string' | 'list' | 'other';

/**
 * SQL for a list of numbers written as text, in the form DuckDB casts: `[0.1, -2]` as JSON writes it, and
 * `[ 0.1 -2.\n  3e-4]` as NumPy prints an array (pandas writes such cells to CSV: spaces, line breaks). An
 * array NumPy abridged with `...` does not cast: its numbers are not all there.
 */
export function listText(col: string): string {
  return `'[' || regexp_replace(trim(regexp_replace(${col}::VARCHAR, '[\\[\\]]', '', 'g')), '[\\s,]+', ',', 'g') || ']'`;
}

/** DuckDB list types of numbers (`DOUBLE[]`, `FLOAT[768]`, `DECIMAL(4,3)[]`, ...): an embedding per row. */
const NUMERIC_LIST =
  /^(DOUBLE|FLOAT|REAL|DECIMAL(\(\d+,\s*\d+\))?|(U)?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)\[\d*\]$/;

export interface ColumnInfo {
  /** The name exactly as the file has it (case, dots, spaces, unicode). */
  name: string;
  /**
   * The column's name inside DuckDB, when it differs: DuckDB identifiers are case-insensitive, so columns
   * whose names differ only in case are loaded under positional names. Use `colSql` to reference a column.
   */
  sql?: string;
  /** DuckDB type as loaded (CSV/TSV columns are loaded as VARCHAR so values stay exactly as written). */
  duckType: string;
  kind: ColumnKind;
  nonNull: number;
  /** Approximate distinct values. */
  distinct: number;
  /** Mean length of the text form (strings only). */
  meanLength: number;
  /** String columns: values that parse as numbers (for the mixed-type check). */
  numericLike: number;
  /** String columns read as numbers: values written as a missing-value marker (`NA`, `n/a`, `?`...), read as missing. */
  missingMarked?: number;
  /** String columns with no value at all: every cell empty or a missing-value marker (so of no type of its own). */
  noValue?: boolean;
  /** String columns: values written as a list of numbers (`[0.12, -0.5, ...]`, an embedding a CSV holds). */
  vectorLike?: number;
  /** List columns and lists written as text: the fewest and most numbers a row holds. */
  listLength?: { min: number; max: number };
  /** First value that is not a number, when a string column is mostly numbers. */
  firstNonNumeric?: { row: number; value: string };
  /**
   * A field of a nested record (a JSON object or Parquet struct), named `record.field`: read through this SQL
   * expression, never written to the outputs (the record column it sits in is).
   */
  field?: string;
  /** Numbers written with a decimal comma (`-0,59`, `1.234,5`), as spreadsheets in many locales export them. */
  decimalComma?: true;
}

/**
 * A number written with a decimal comma and optional dots between thousands. Only read so in a file whose
 * values are not separated by commas (TSV, or CSV with `;` or `|`), where an unquoted comma can be one.
 */
const DECIMAL_COMMA = `'[-+]?([0-9]{1,3}([.][0-9]{3})+|[0-9]+)(,[0-9]+)?'`;

/**
 * How R, pandas, spreadsheets, SAS and the UCI files write a missing number (compared after trim, upper case).
 * A column of numbers whose only other values are these is numeric, and these are missing, as an empty cell is.
 */
const MISSING_MARKERS = ['NA', 'N/A', '#N/A', 'NAN', 'NULL', 'NONE', 'NIL', '?', '-', '.'];

/** SQL reading a numeric column as DOUBLE (NULL where a value is not a number). */
export function numberSql(c: ColumnInfo, col = colSql(c)): string {
  if (c.decimalComma) return `TRY_CAST(replace(replace(trim(${col}::VARCHAR), '.', ''), ',', '.') AS DOUBLE)`;
  return c.duckType === 'VARCHAR' || c.kind !== 'numeric'
    ? `TRY_CAST(trim(${col}::VARCHAR) AS DOUBLE)`
    : `${col}::DOUBLE`;
}

export interface RejectedRow {
  /** 1-based line in the file where the bad record starts. */
  line: number;
  error: string;
  raw: string;
}

export interface LoadedTable {
  /** DuckDB table name. Its `rowid` is the 0-based record number in file order. */
  table: string;
  path: string;
  format: TableFormat;
  rows: number;
  columns: ColumnInfo[];
  rejects: RejectedRow[];
  /** Number of malformed records (may exceed rejects.length when capped). */
  rejectCount: number;
  /** True when some column is loaded under a positional name (see ColumnInfo.sql). */
  renamed?: boolean;
  /** CSV only: the character between values when it is not a comma (a ';' export); outputs use it too. */
  delimiter?: string;
}

/**
 * What a ".csv" file separates values with: a comma, unless its header is one field holding a semicolon, a tab
 * or a bar (spreadsheets in many locales export ";"); then that character. Only the header decides, so a file
 * is read one way throughout.
 */
export function csvDelimiter(commaHeader: string[]): string {
  if (commaHeader.length !== 1) return ',';
  return [';', '\t', '|'].find((d) => commaHeader[0].includes(d)) ?? ',';
}

/** SQL identifier of a loaded column. */
export function colSql(c: ColumnInfo): string {
  return c.field ?? sqlIdent(c.sql ?? c.name);
}

/** Levels of nested records whose fields are read as columns (`a.b.c`). */
const MAX_FIELD_DEPTH = 3;

/**
 * The fields of a table's nested records (JSON objects, Parquet structs) as `record.field` columns, read through
 * struct_extract: a role or feature held in a nested object (`{"meta": {"user": "u7"}}`) is named `meta.user`.
 * A name the file already has as a column of its own keeps that column.
 */
async function nestedFields(
  src: DataSource,
  table: string,
  taken: Set<string>,
): Promise<Array<{ name: string; expr: string; duckType: string }>> {
  const out: Array<{ name: string; expr: string; duckType: string }> = [];
  const types = await src.query(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${sqlString(table)} ORDER BY ordinal_position`,
  );
  const visit = async (name: string, expr: string, depth: number) => {
    const fields = await src.query(`DESCRIBE SELECT unnest(${expr}) FROM ${sqlIdent(table)} LIMIT 0`);
    for (const f of fields) {
      const key = String(f.column_name);
      const type = String(f.column_type);
      const fname = `${name}.${key}`;
      const fexpr = `struct_extract(${expr}, ${sqlString(key)})`;
      if (type.startsWith('STRUCT(') && depth < MAX_FIELD_DEPTH) await visit(fname, fexpr, depth + 1);
      else if (!taken.has(fname) && !type.startsWith('STRUCT(')) {
        taken.add(fname);
        out.push({ name: fname, expr: fexpr, duckType: type });
      }
    }
  };
  for (const r of types)
    if (String(r.data_type).startsWith('STRUCT('))
      await visit(String(r.column_name), sqlIdent(String(r.column_name)), 1);
  return out;
}

/**
 * Every column of a loaded table under its name in the file (`alias."physical" AS "Name"`), for outputs;
 * columns named in `skip` are left out.
 */
export function projection(table: LoadedTable, alias: string, skip: ReadonlySet<string> = new Set()): string {
  return (
    table.columns
      .filter((c) => !skip.has(c.name) && !c.field)
      // An unnamed index column keeps its positional name here (SQL has no empty name); CSV and TSV outputs
      // are written with the file's own header.
      .map((c) => `${alias}.${colSql(c)} AS ${sqlIdent(c.name === '' ? (c.sql ?? 'index') : c.name)}`)
      .join(', ')
  );
}

export interface SourceOptions {
  /** DuckDB threads (default: all cores). */
  threads?: number;
  /** DuckDB memory limit, e.g. '2GB'. */
  memoryLimit?: string;
}

/** SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

const MAX_HEADER_BYTES = 4 * 1024 * 1024;
const MAX_REJECTS_KEPT = 100_000;

/** Parse the header record of a delimited file (quotes honoured for CSV). Column names kept exactly. */
/** The first MAX_HEADER_BYTES of a gzip file's content, decompressed and no more. */
async function gunzipPrefix(path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  const gunzip = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of gunzip) {
      chunks.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= MAX_HEADER_BYTES || (chunk as Buffer).includes(10)) break;
    }
  } catch (err) {
    throw inputError(`${path}: not a readable gzip file (${(err as Error).message})`);
  } finally {
    gunzip.destroy();
  }
  return Buffer.concat(chunks).subarray(0, MAX_HEADER_BYTES);
}

/**
 * Decompress a whole gzip file and discard it: DuckDB reads a truncated stream up to the break without an
 * error, so a cut-off download would otherwise be audited as a complete, smaller batch.
 */
async function assertGzipComplete(path: string): Promise<void> {
  try {
    await pipeline(createReadStream(path), createGunzip(), async (source: AsyncIterable<Buffer>) => {
      for await (const _ of source) {
        // Only the stream's integrity matters here.
      }
    });
  } catch (err) {
    throw inputError(
      `${path}: the gzip stream is damaged or truncated (${(err as Error).message})`,
      'copy or download the file again',
    );
  }
}

/**
 * Text files are read as UTF-8. A file in another encoding (a spreadsheet's "Unicode text" export is UTF-16; many
 * exports are Windows-1252) would otherwise fail as malformed quoting or send every row with an accent to the
 * rejects, so the start of the file is checked: one line saying what it is and how to convert it.
 */
function assertUtf8(path: string, bytes: Buffer): void {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw inputError(
      `${path}: the file is UTF-16 text; Antidote reads UTF-8`,
      'save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8.csv)',
    );
  // A character cut at the end of the prefix is not an error: stop before its first byte.
  let end = bytes.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const b = bytes[end - back];
    if ((b & 0xc0) !== 0x80) {
      if (b >= 0xc0) end -= back;
      break;
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    const at = firstInvalidUtf8(bytes.subarray(0, end));
    throw inputError(
      `${path}: the file is not UTF-8 (byte 0x${bytes[at].toString(16).toUpperCase()} at offset ${at}; Windows-1252 or Latin-1?)`,
      'convert it to UTF-8 (e.g. iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8.csv)',
    );
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n =
      c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (!n) return i;
    for (let k = 1; k < n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    i += n;
  }
  return 0;
}

async function readHeader(path: string, delim: string, quoted: boolean): Promise<string[]> {
  let bytes: Buffer;
  if (path.toLowerCase().endsWith('.gz')) {
    bytes = await gunzipPrefix(path);
  } else {
    const fh = await openFile(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_HEADER_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      bytes = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  assertUtf8(path, bytes);
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const names: string[] = [];
  let field = '';
  let inQuotes = false;
  let ended = false;
  let i = 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += ch;
    } else if (quoted && ch === '"' && field === '') inQuotes = true;
    else if (ch === delim) {
      names.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      ended = true;
      break;
    } else field += ch;
  }
  if (!ended && i >= MAX_HEADER_BYTES) throw inputError(`${path}: the header line is longer than 4 MiB`);
  if (names.length === 0 && field === '' && !ended)
    throw inputError(`${path}: the file is empty`, 'expected a header line and rows');
  names.push(field);
  const seen = new Set<string>();
  names.forEach((n, idx) => {
    // A first column without a name is a row index (pandas writes one unless told not to): kept, see isIndexColumn.
    if (n.trim() === '' && !(idx === 0 && n === '' && names.length > 1)) {
      throw inputError(`${path}: column ${idx + 1} of the header has no name`, 'give every column a name');
    }
    if (seen.has(n))
      throw inputError(`${path}: column "${n}" appears twice in the header`, 'rename one of them');
    seen.add(n);
  });
  return names;
}

/**
 * DuckDB names for a header: the names themselves, unless two differ only in case (DuckDB identifiers are
 * case-insensitive); then every such column gets a positional name no header can clash with.
 */
function physicalNames(names: string[]): string[] {
  const count = new Map<string, number>();
  for (const n of names) count.set(n.toLowerCase(), (count.get(n.toLowerCase()) ?? 0) + 1);
  // An unnamed index column has no name DuckDB can take: it is loaded under a positional one.
  if (names[0] === '') count.set('', 2);
  if (names.every((n) => count.get(n.toLowerCase()) === 1)) return names;
  const taken = new Set(names.map((n) => n.toLowerCase()));
  return names.map((n, i) => {
    if (count.get(n.toLowerCase()) === 1) return n;
    let p = `__antidote_col_${i + 1}`;
    while (taken.has(p)) p = `_${p}`;
    taken.add(p);
    return p;
  });
}

function checkColumnCount(path: string, columns: number): void {
  if (columns > LIMITS.data.maxColumns) {
    throw new AntidoteError(
      'E_LIMIT',
      `${path}: ${columns} columns exceed the audit's limit of ${LIMITS.data.maxColumns}`,
      { hint: 'export only the columns the model is trained on' },
    );
  }
}

function isNumericType(t: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/.test(
    t,
  );
}

export class DataSource {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(opts: SourceOptions = {}): Promise<DataSource> {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const config: Record<string, string> = { preserve_insertion_order: 'true' };
    if (opts.threads) config.threads = String(opts.threads);
    if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
    const instance = await DuckDBInstance.create(':memory:', config);
    const conn = await instance.connect();
    return new DataSource(instance, conn);
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Rows of a small query as plain objects (JSON-compatible values). */
  async query(sql: string): Promise<Array<Record<string, unknown>>> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as Array<Record<string, unknown>>;
  }

  /** Load a file into table `table`. Throws one-line input errors for unreadable or empty files. */
  async load(table: string, path: string): Promise<LoadedTable> {
    const format = formatOf(path);
    let size: number;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw inputError(`${path}: is a directory, expected a file`);
      size = st.size;
    } catch (err) {
      if (err instanceof AntidoteError) throw err;
      throw describeFsError(path, err);
    }
    if (size === 0) throw inputError(`${path}: the file is empty`, 'expected a header line and rows');
    const t = sqlIdent(table);
    const p = sqlString(path);
    const rejectsTable = `${table}_rejects`;
    const rejectsScan = `${table}_rejects_scan`;
    let reader: string;
    let physical: string[] | undefined;
    let header: string[] | undefined;
    if (path.toLowerCase().endsWith('.gz')) await assertGzipComplete(path);
    let delimiter: string | undefined;
    if (format === 'csv' || format === 'tsv') {
      const quoted = format === 'csv';
      let delim = format === 'csv' ? ',' : '\t';
      let names = await readHeader(path, delim, quoted);
      if (format === 'csv' && csvDelimiter(names) !== ',') {
        delimiter = delim = csvDelimiter(names);
        names = await readHeader(path, delim, quoted);
      }
      checkColumnCount(path, names.length);
      header = names;
      physical = physicalNames(names);
      const cols = `{${physical.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}`;
      reader =
        `read_csv(${p}, auto_detect=false, header=true, delim=${sqlString(delim)}, ` +
        `quote=${quoted ? `'"'` : `''`}, escape=${quoted ? `'"'` : `''`}, columns=${cols}, ` +
        `store_rejects=true, rejects_table=${sqlString(rejectsTable)}, rejects_scan=${sqlString(rejectsScan)}, ` +
        `max_line_size=${LIMITS.data.maxLineBytes}, hive_partitioning=false)`;
    } else if (format === 'jsonl') {
      // DuckDB's JSON reader recurses: deep nesting crashes the process, so it is refused before DuckDB reads.
      try {
        await assertFileJsonDepth(path, path.toLowerCase().endsWith('.gz'));
      } catch (err) {
        if (!(err instanceof JsonDepthError)) throw readError(path, format, err);
        throw inputError(
          `${path}: not valid JSON Lines at line ${err.line} (values nest deeper than ${err.max} levels)`,
          'fix or remove the malformed line',
        );
      }
      reader = `read_json(${p}, format='newline_delimited', sample_size=-1, maximum_object_size=${64 * 1024 * 1024}, hive_partitioning=false)`;
    } else {
      // A folder named key=value is not a column (DuckDB would add one by default: hive partitioning).
      reader = `read_parquet(${p}, hive_partitioning=false)`;
    }
    try {
      await this.conn.run(`CREATE OR REPLACE TABLE ${t} AS SELECT * FROM ${reader}`);
    } catch (err) {
      throw readError(path, format, err);
    }
    if (format === 'jsonl' || format === 'parquet') {
      const [{ c }] = await this.query(
        `SELECT count(*)::BIGINT AS c FROM information_schema.columns WHERE table_name = ${sqlString(table)}`,
      );
      checkColumnCount(path, Number(c));
    }
    const [{ n }] = await this.query(`SELECT count(*)::BIGINT AS n FROM ${t}`);
    const rows = Number(n);
    if (rows > LIMITS.data.maxRows) {
      throw new AntidoteError('E_LIMIT', `${path}: ${rows} rows exceed the limit of ${LIMITS.data.maxRows}`, {
        hint: 'split the batch',
      });
    }
    let rejects: RejectedRow[] = [];
    let rejectCount = 0;
    if (format === 'csv' || format === 'tsv') {
      const rj = await this.query(
        `SELECT line::BIGINT AS line, any_value(error_message) AS error, any_value(csv_line) AS raw ` +
          `FROM ${sqlIdent(rejectsTable)} GROUP BY line ORDER BY line LIMIT ${MAX_REJECTS_KEPT}`,
      );
      const [{ c }] = await this.query(
        `SELECT count(DISTINCT line)::BIGINT AS c FROM ${sqlIdent(rejectsTable)}`,
      );
      rejectCount = Number(c);
      rejects = rj.map((r) => ({
        line: Number(r.line),
        error: String(r.error ?? ''),
        raw: String(r.raw ?? '')
          .replace(/^[\r\n]+/, '')
          .replace(/[\r\n]+$/, ''),
      }));
    }
    if (rows === 0 && rejectCount === 0) throw inputError(`${path}: the file has a header but no rows`);
    const commaDecimals = format === 'tsv' || (format === 'csv' && delimiter !== undefined);
    const fields =
      format === 'jsonl' || format === 'parquet'
        ? await nestedFields(this, table, new Set(header ?? []))
        : [];
    const columns = await this.describe(table, rows, header, physical, commaDecimals, fields);
    const renamed = columns.some((c) => c.sql !== undefined);
    return {
      table,
      path,
      format,
      rows,
      columns,
      rejects,
      rejectCount,
      ...(renamed ? { renamed } : {}),
      ...(delimiter ? { delimiter } : {}),
    };
  }

  /** Per-column facts over the whole table, in one aggregate query. */
  async describe(
    table: string,
    rows: number,
    header?: string[],
    physical?: string[],
    commaDecimals = false,
    fields: Array<{ name: string; expr: string; duckType: string }> = [],
  ): Promise<ColumnInfo[]> {
    const t = sqlIdent(table);
    const types = await this.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${sqlString(table)} ORDER BY ordinal_position`,
    );
    const own = new Set(types.map((r) => String(r.column_name)));
    const rowsOf = [
      ...types.map((r) => ({
        name: String(r.column_name),
        type: String(r.data_type),
        field: undefined as string | undefined,
      })),
      ...fields
        .filter((f) => !own.has(f.name))
        .map((f) => ({ name: f.name, type: f.duckType, field: f.expr })),
    ];
    const infos: ColumnInfo[] = rowsOf.map((r, idx) => {
      const duckType = r.type;
      let kind: ColumnKind = 'other';
      if (isNumericType(duckType)) kind = 'numeric';
      else if (duckType === 'BOOLEAN') kind = 'boolean';
      else if (duckType === 'VARCHAR' || duckType === 'JSON' || /^(DATE|TIME|TIMESTAMP)/.test(duckType))
        kind = 'string';
      else if (duckType.endsWith('[]') || /^(FLOAT|DOUBLE)\[\d+\]$/.test(duckType)) kind = 'list';
      const renamed = header && physical && physical[idx] !== header[idx];
      return {
        name: header && !r.field ? header[idx] : r.name,
        ...(renamed ? { sql: physical[idx] } : {}),
        ...(r.field ? { field: r.field } : {}),
        duckType,
        kind,
        nonNull: 0,
        distinct: 0,
        meanLength: 0,
        numericLike: 0,
      };
    });
    if (rows === 0) return infos;
    const parts: string[] = [];
    infos.forEach((c, i) => {
      const col = colSql(c);
      parts.push(`count(${col}) AS nn${i}`);
      if (c.kind === 'list') parts.push(`min(len(${col})) AS lmin${i}`, `max(len(${col})) AS lmax${i}`);
      if (c.kind === 'list' || c.kind === 'other') return;
      parts.push(`approx_count_distinct(${col}) AS d${i}`);
      if (c.kind === 'string') {
        parts.push(`avg(length(${col}::VARCHAR)) AS l${i}`);
        parts.push(`count(TRY_CAST(trim(${col}::VARCHAR) AS DOUBLE)) AS num${i}`);
        parts.push(
          `count(CASE WHEN upper(trim(${col}::VARCHAR)) IN (${MISSING_MARKERS.map(sqlString).join(', ')}) AND TRY_CAST(trim(${col}::VARCHAR) AS DOUBLE) IS NULL THEN 1 END) AS na${i}`,
        );
        if (commaDecimals)
          parts.push(
            `count(CASE WHEN regexp_full_match(trim(${col}::VARCHAR), ${DECIMAL_COMMA}) THEN 1 END) AS dc${i}`,
          );
        // Only values that open with "[" are tried as lists: free text costs no cast.
        const asList = `CASE WHEN starts_with(ltrim(${col}::VARCHAR), '[') THEN TRY_CAST(${listText(col)} AS DOUBLE[]) END`;
        parts.push(
          `count(${asList}) AS vec${i}`,
          `min(len(${asList})) AS lmin${i}`,
          `max(len(${asList})) AS lmax${i}`,
        );
      }
    });
    const [agg] = await this.query(`SELECT ${parts.join(', ')} FROM ${t}`);
    infos.forEach((c, i) => {
      c.nonNull = Number(agg[`nn${i}`] ?? 0);
      c.distinct = Number(agg[`d${i}`] ?? 0);
      c.meanLength = Number(agg[`l${i}`] ?? 0);
      c.numericLike = Number(agg[`num${i}`] ?? 0);
      if (c.kind === 'string') c.vectorLike = Number(agg[`vec${i}`] ?? 0);
      if (agg[`lmin${i}`] !== null && agg[`lmin${i}`] !== undefined)
        c.listLength = { min: Number(agg[`lmin${i}`]), max: Number(agg[`lmax${i}`]) };
      // A text column whose every value is a number is numeric (CSV/TSV load everything as text), and so is one
      // whose other values all mark a missing number.
      const marked = Number(agg[`na${i}`] ?? 0);
      if (c.kind === 'string' && c.duckType !== 'JSON' && c.nonNull > 0 && c.numericLike === c.nonNull)
        c.kind = 'numeric';
      else if (
        c.kind === 'string' &&
        c.duckType !== 'JSON' &&
        c.numericLike > 0 &&
        c.numericLike + marked === c.nonNull
      ) {
        c.kind = 'numeric';
        c.missingMarked = marked;
      } else if (c.kind === 'string' && c.nonNull > 0 && Number(agg[`dc${i}`] ?? 0) === c.nonNull) {
        c.kind = 'numeric';
        c.numericLike = c.nonNull;
        c.decimalComma = true;
      } else if (c.kind === 'string' && c.duckType !== 'JSON' && marked === c.nonNull) {
        c.noValue = true;
        c.missingMarked = marked;
      }
    });
    return infos;
  }

  /** First row (0-based) and value of a string column that is not a number. */
  async firstNonNumeric(
    table: string,
    column: ColumnInfo,
  ): Promise<{ row: number; value: string } | undefined> {
    const col = colSql(column);
    const r = await this.query(
      `SELECT rowid::BIGINT AS r, ${col}::VARCHAR AS v FROM ${sqlIdent(table)} WHERE ${col} IS NOT NULL AND TRY_CAST(trim(${col}::VARCHAR) AS DOUBLE) IS NULL ORDER BY rowid LIMIT 1`,
    );
    return r.length ? { row: Number(r[0].r), value: String(r[0].v) } : undefined;
  }

  /**
   * Stream the result of `select` (a SELECT over a loaded table) chunk by chunk. `onChunk` receives the column
   * vectors of each chunk and the row offset of its first row. Nothing is accumulated here.
   */
  async scan(
    select: string,
    onChunk: (vectors: DuckDBVector[], offset: number, size: number) => void,
  ): Promise<number> {
    const result = await this.conn.stream(select);
    let offset = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const size = chunk.rowCount;
      const vectors: DuckDBVector[] = [];
      for (let c = 0; c < chunk.columnCount; c++) vectors.push(chunk.getColumnVector(c));
      onChunk(vectors, offset, size);
      offset += size;
    }
    return offset;
  }

  /**
   * Copy a query's rows to `path` in `format` (the caller chooses a temporary name). `header` (CSV/TSV): the
   * header line to write instead of DuckDB's, which renames names that differ only in case ("age" -> "age_1").
   * `delimiter` (CSV): the character between values, when not a comma (as the input had it).
   */
  async copyTo(
    select: string,
    path: string,
    format: TableFormat,
    header?: string[],
    delimiter = ',',
  ): Promise<void> {
    if (header && (format === 'csv' || format === 'tsv')) {
      const body = `${path}.body`;
      const delim = format === 'csv' ? delimiter : '\t';
      const field = (v: string) =>
        format === 'csv' && (/["\r\n]/.test(v) || v.includes(delim)) ? `"${v.replaceAll('"', '""')}"` : v;
      const opts =
        format === 'csv' ? `DELIMITER ${sqlString(delimiter)}` : `DELIMITER '\t', QUOTE '', ESCAPE ''`;
      try {
        await this.conn.run(`COPY (${select}) TO ${sqlString(body)} (FORMAT CSV, HEADER false, ${opts})`);
        await writeFile(path, `${header.map(field).join(delim)}\n`, { flag: 'wx' });
        await pipeline(createReadStream(body), createWriteStream(path, { flags: 'a' }));
      } finally {
        await rm(body, { force: true });
      }
      return;
    }
    const opts =
      format === 'csv'
        ? `FORMAT CSV, HEADER true, DELIMITER ${sqlString(delimiter)}`
        : format === 'tsv'
          ? `FORMAT CSV, HEADER true, DELIMITER '\t', QUOTE '', ESCAPE ''`
          : format === 'jsonl'
            ? 'FORMAT JSON'
            : 'FORMAT PARQUET';
    await this.conn.run(`COPY (${select}) TO ${sqlString(path)} (${opts})`);
  }
}

/** DuckDB's multi-line read errors as one line that names the file. */
function readError(path: string, format: TableFormat, err: unknown): AntidoteError {
  const raw = (err as Error)?.message ?? String(err);
  const first = raw.split('\n').find((l) => l.trim() !== '') ?? raw;
  const msg = first.replace(/^[A-Za-z ]*Error: /, '').trim();
  if (format === 'jsonl') {
    const m = /line (\d+)/.exec(raw);
    const what = msg
      .replace(/ in file "[^"]*"/, '')
      .replace(/,? at byte \d+ in line \d+/, '')
      .replace(/\.$/, '');
    return inputError(
      `${path}: not valid JSON Lines${m ? ` at line ${m[1]}` : ''} (${what})`,
      'fix or remove the malformed line',
    );
  }
  if (format === 'parquet')
    return inputError(`${path}: cannot read as Parquet: ${msg}`, 'check that the file is a Parquet file');
  // DuckDB's parser messages name no cause; mixed line endings and stray quotes are the usual ones.
  const hint =
    format === 'csv'
      ? 'check that every line ends the same way (LF or CRLF) and that quotes follow RFC 4180 ("" inside "...")'
      : 'check that every line ends the same way (LF or CRLF) and that fields are separated by tabs';
  return inputError(`${path}: cannot read as ${format.toUpperCase()}: ${msg.replace(/\.$/, '')}`, hint);
}

/** Columns of a loaded table by trimmed name, for role resolution. */
export function findColumn(columns: ColumnInfo[], name: string): ColumnInfo | undefined {
  return columns.find((c) => c.name === name) ?? columns.find((c) => c.name.trim() === name.trim());
}

// ---------------------------------------------------------------------------------------------------------
// Roles: which column is the label, the id, the text, the features... resolved against both files.
// ---------------------------------------------------------------------------------------------------------

export interface RoleFlags {
  label: string;
  id?: string;
  text?: string;
  features?: string[];
  source?: string;
  labeler?: string;
  time?: string;
  embeddings?: string;
  /** Trusted column name -> incoming column name, for a reference whose columns are named differently. */
  renameTrusted?: Record<string, string>;
}

export interface ResolvedRoles extends AuditRoles {
  numeric: string[];
  categorical: string[];
  /** Incoming column name -> trusted column name. */
  trustedName: Record<string, string>;
  /** Plain-words notes about choices made (auto-detected text column, skipped columns). */
  notes: string[];
  /**
   * Every label in both files is a number: labels are compared as numbers ("1" and "1.0" are one class,
   * written "1"), as the gate reads them.
   */
  numericLabel?: boolean;
}

/** A column that is mostly numbers but not all: the share above which it is "mixed" rather than text. */
const MIXED_SHARE = 0.9;
/** Auto-detected text column: mean length and distinct share. */
const TEXT_MIN_MEAN_LENGTH = 25;

function listColumns(cols: ColumnInfo[]): string {
  const names = cols.map((c) => c.name);
  return names.length > 12 ? `${names.slice(0, 12).join(', ')}, ...` : names.join(', ');
}

function closest(name: string, cols: ColumnInfo[]): string | undefined {
  const n = name.trim().toLowerCase();
  return cols
    .map((c) => c.name)
    .find((c) => {
      const x = c.trim().toLowerCase();
      return (
        x !== n &&
        (x.startsWith(n) || n.startsWith(x) || x.replace(/[^a-z0-9]/g, '') === n.replace(/[^a-z0-9]/g, ''))
      );
    });
}

function missingColumn(table: LoadedTable, name: string, flag: string, other?: boolean): AntidoteError {
  const near = closest(name, table.columns);
  const hint = other
    ? `its columns are ${listColumns(table.columns)}; if it names the column differently, map it with --rename-trusted ${near ?? 'TRUSTED_NAME'}=${name}`
    : `${near ? `did you mean "${near}"? ` : ''}columns are ${listColumns(table.columns)}`;
  return schemaError(`${table.path} has no column "${name}" (given by ${flag})`, hint);
}

/** Names of a row identifier (trimmed, any case): id, row_id, uuid, index, key, record_id, example_id, ... */
const ID_NAME =
  /^(id|_id|row[_ .-]?id|rowid|uuid|guid|index|idx|key|(record|example|sample|item|event|row)[_ .-]?(id|key))$/i;

/** Is a column so named a row identifier (when every value differs)? */
export const isIdentifierName = (name: string): boolean => ID_NAME.test(name.trim());

/**
 * A row index pandas wrote beside the data: an unnamed first column (to_csv's default), "Unnamed: 0" (such a
 * file read and written again) or "__index_level_0__" (to_parquet).
 */
export function isIndexColumn(name: string, position: number): boolean {
  return (name === '' && position === 0) || name === 'Unnamed: 0' || name === '__index_level_0__';
}

/** Resolve the roles against both tables; throws one-line schema errors. */
export async function resolveRoles(
  src: DataSource,
  trusted: LoadedTable,
  incoming: LoadedTable,
  flags: RoleFlags,
): Promise<ResolvedRoles> {
  const notes: string[] = [];
  const rename = flags.renameTrusted ?? {};
  const trustedName: Record<string, string> = {};
  for (const c of trusted.columns) {
    const mapped = Object.entries(rename).find(([from]) => from === c.name || from === c.name.trim());
    const target = mapped ? mapped[1] : c.name;
    const inc = findColumn(incoming.columns, target);
    if (inc) trustedName[inc.name] = c.name;
  }
  for (const from of Object.keys(rename)) {
    if (!findColumn(trusted.columns, from)) throw missingColumn(trusted, from, '--rename-trusted');
  }
  const inc = (name: string, flag: string): ColumnInfo => {
    const c = findColumn(incoming.columns, name);
    if (!c) throw missingColumn(incoming, name, flag);
    return c;
  };
  const tru = (incName: string, flag: string): ColumnInfo => {
    const t = trustedName[incName];
    const c = t === undefined ? undefined : findColumn(trusted.columns, t);
    if (!c) throw missingColumn(trusted, incName, flag, true);
    return c;
  };
  const label = inc(flags.label, '--label');
  const trustedLabel = tru(label.name, '--label');
  if (label.kind === 'list' || label.kind === 'other') {
    throw schemaError(
      `label column "${label.name}" holds ${label.duckType} values`,
      'the label must be a class name or number',
    );
  }
  const used = new Set<string>([label.name]);
  const roles: ResolvedRoles = {
    label: label.name,
    features: [],
    numeric: [],
    categorical: [],
    trustedName,
    notes,
    ...(label.kind === 'numeric' && trustedLabel.kind === 'numeric' ? { numericLabel: true } : {}),
  };
  const single = (key: 'id' | 'source' | 'labeler' | 'time' | 'embeddings', flag: string) => {
    const v = flags[key];
    if (!v) return;
    const c = inc(v, flag);
    if (used.has(c.name)) throw schemaError(`column "${c.name}" cannot be both ${flag} and another role`);
    used.add(c.name);
    roles[key] = c.name;
  };
  single('id', '--id');
  // The row index a pandas export adds: the row id when none is named, never a feature (a row number says
  // nothing about the row, and differs between the two files anyway).
  const index = incoming.columns.find((c, i) => isIndexColumn(c.name, i));
  if (index && !used.has(index.name)) {
    used.add(index.name);
    const what =
      index.name === ''
        ? 'the first column, which has no name, is a row index (as pandas writes one)'
        : `column "${index.name}" is a row index (as pandas writes one)`;
    if (roles.id === undefined) {
      roles.id = index.name;
      notes.push(`${what} and is used as the row id`);
    } else notes.push(`${what} and is not analysed`);
  }
  // A column named as an identifier whose every value differs is the row id when none is named: as a feature
  // it says nothing about the label, and a model reads the two files' ranges of it (0..299 trusted, 0..999
  // incoming) as a shift in every row it extrapolates.
  if (roles.id === undefined && !flags.features?.length) {
    const key = incoming.columns.find(
      (c) =>
        !used.has(c.name) &&
        isIdentifierName(c.name) &&
        c.nonNull === incoming.rows &&
        c.distinct >= 0.97 * c.nonNull,
    );
    if (key) {
      used.add(key.name);
      roles.id = key.name;
      notes.push(
        `column "${key.name}" names each row (every value differs) and is used as the row id, not as a feature (name another with --id, or list it in --features to analyse it)`,
      );
    }
  }
  single('source', '--source');
  single('labeler', '--labeler');
  single('time', '--time');
  single('embeddings', '--embeddings');
  if (roles.embeddings) {
    const c = inc(roles.embeddings, '--embeddings');
    if (c.kind !== 'list' && c.kind !== 'string') {
      throw schemaError(
        `--embeddings column "${c.name}" holds ${c.duckType}`,
        'expected a list of numbers per row',
      );
    }
  }
  // A column holding a vector of numbers on every row (an embedding from a feature store or a model) is the
  // embeddings role when none is named: as a feature it would be left out, and with it the signal it carries.
  if (!roles.embeddings && !flags.features?.length) {
    // Every row a list of numbers, all of one length (an embedding has a dimension).
    const isVector = (c: ColumnInfo, rows: number) =>
      c.nonNull === rows &&
      rows > 0 &&
      ((c.kind === 'list' && NUMERIC_LIST.test(c.duckType)) ||
        (c.kind === 'string' && c.vectorLike === rows)) &&
      !!c.listLength &&
      c.listLength.min > 0 &&
      c.listLength.min === c.listLength.max;
    const vec = incoming.columns.find((c) => {
      if (used.has(c.name) || !isVector(c, incoming.rows) || trustedName[c.name] === undefined) return false;
      const t = trusted.columns.find((x) => x.name === trustedName[c.name]);
      if (!t || !isVector(t, trusted.rows)) return false;
      if (t.listLength?.min !== c.listLength?.min) {
        notes.push(
          `column "${c.name}" holds vectors of ${c.listLength?.min} numbers here but ${t.listLength?.min} in the trusted file, so they cannot be compared; it is not analysed`,
        );
        used.add(c.name);
        return false;
      }
      return true;
    });
    if (vec) {
      used.add(vec.name);
      roles.embeddings = vec.name;
      notes.push(
        `column "${vec.name}" holds a vector of numbers on every row and is read as embeddings (name another with --embeddings)`,
      );
    }
  }
  if (flags.text) {
    const c = inc(flags.text, '--text');
    tru(c.name, '--text');
    if (used.has(c.name)) throw schemaError(`column "${c.name}" cannot be both --text and another role`);
    used.add(c.name);
    roles.text = c.name;
  }
  const candidates = flags.features?.length
    ? flags.features.map((f) => inc(f, '--features'))
    : incoming.columns.filter((c) => !used.has(c.name));
  if (!flags.text && !flags.features?.length) {
    const texty = candidates
      .filter(
        (c) => c.kind === 'string' && c.meanLength >= TEXT_MIN_MEAN_LENGTH && c.distinct >= 0.5 * c.nonNull,
      )
      .filter((c) => trustedName[c.name] !== undefined)
      .sort((a, b) => b.meanLength - a.meanLength);
    if (texty.length) {
      roles.text = texty[0].name;
      used.add(texty[0].name);
      notes.push(
        `column "${texty[0].name}" holds free text and is analysed as text (set --text to choose another)`,
      );
    }
  }
  // Numeric columns with values written as a missing-value marker, and how many on each side.
  const marked: string[] = [];
  for (const c of candidates) {
    if (used.has(c.name)) {
      if (flags.features?.length)
        throw schemaError(`column "${c.name}" cannot be both a feature and another role`);
      continue;
    }
    if (trustedName[c.name] === undefined) {
      if (flags.features?.length) tru(c.name, '--features');
      notes.push(`column "${c.name}" is not in the trusted file and is not analysed`);
      continue;
    }
    const t = tru(c.name, '--features');
    if (c.kind === 'list' || c.kind === 'other') {
      const inside = incoming.columns
        .filter((x) => x.field && x.name.startsWith(`${c.name}.`))
        .map((x) => x.name);
      notes.push(
        inside.length
          ? `column "${c.name}" holds a nested record; its fields are read as columns of their own (${inside.slice(0, 6).join(', ')}${inside.length > 6 ? ', ...' : ''})`
          : `column "${c.name}" (${c.duckType}) is not a scalar and is not analysed as a feature`,
      );
      continue;
    }
    const kinds = [c, t].map((x) => (x.kind === 'numeric' ? 'numeric' : 'categorical'));
    for (const [info, table] of [
      [c, incoming],
      [t, trusted],
    ] as const) {
      if (info.kind === 'string' && info.nonNull > 0 && info.numericLike >= MIXED_SHARE * info.nonNull) {
        const ex = await src.firstNonNumeric(table.table, info);
        throw schemaError(
          `column "${info.name}" in ${table.path} mixes numbers and text${ex ? ` (row ${ex.row + 1}: "${ex.value.slice(0, 40)}")` : ''}`,
          'clean the column, or leave it out with --features',
        );
      }
    }
    // A column with no value on one side (a sparse column, a small sample of it) takes the other side's type.
    const blank = c.noValue && !t.noValue ? c : t.noValue && !c.noValue ? t : undefined;
    if (kinds[0] !== kinds[1] && blank) {
      blank.kind = 'numeric';
      kinds[0] = kinds[1] = 'numeric';
      notes.push(
        `column "${c.name}" holds no value in ${blank === c ? incoming.path : trusted.path} (every cell empty or a missing-value marker); read as numbers there, as in ${blank === c ? trusted.path : incoming.path}`,
      );
    }
    if (kinds[0] !== kinds[1]) {
      const numericIn = kinds[0] === 'numeric' ? incoming.path : trusted.path;
      const textIn = kinds[0] === 'numeric' ? trusted.path : incoming.path;
      throw schemaError(
        `column "${c.name}" holds numbers in ${numericIn} but text in ${textIn}`,
        'make the types agree, or leave the column out with --features',
      );
    }
    if (
      kinds[0] === 'categorical' &&
      c.distinct > 1000 &&
      c.distinct > 0.5 * c.nonNull &&
      !flags.features?.length
    ) {
      notes.push(
        `column "${c.name}" has a different value on almost every row and is not analysed as a feature`,
      );
      continue;
    }
    roles.features.push(c.name);
    (kinds[0] === 'numeric' ? roles.numeric : roles.categorical).push(c.name);
    if ((c.missingMarked && !c.noValue) || (t.missingMarked && !t.noValue))
      marked.push(`"${c.name}" (${c.missingMarked ?? 0} incoming, ${t.missingMarked ?? 0} trusted)`);
    const comma = [c.decimalComma ? incoming.path : '', t.decimalComma ? trusted.path : ''].filter(Boolean);
    if (comma.length)
      notes.push(
        `column "${c.name}" holds numbers written with a decimal comma in ${comma.join(' and ')}, read as numbers`,
      );
  }
  if (marked.length)
    notes.push(
      `numbers written as a missing-value marker (${MISSING_MARKERS.join(', ')}) are read as missing, as an empty cell is: ${marked.slice(0, 6).join(', ')}${marked.length > 6 ? `, and ${marked.length - 6} more ${marked.length === 7 ? 'column' : 'columns'}` : ''}`,
    );
  if (!flags.features?.length) {
    // A column the batch has lost is a column the audit cannot judge it by: say so, as for one it gained.
    const matched = new Set(Object.values(trustedName));
    for (const t of trusted.columns) {
      if (matched.has(t.name) || t.field) continue;
      notes.push(`column "${t.name}" of the trusted file is not in the incoming batch and is not analysed`);
    }
  }
  if (!roles.text && roles.features.length === 0 && !roles.embeddings) {
    throw schemaError('no feature columns to audit', 'name them with --features, --text or --embeddings');
  }
  return roles;
}

// ---------------------------------------------------------------------------------------------------------
// Datasets: the column-oriented, typed views detectors read (see detectors/types.ts).
// ---------------------------------------------------------------------------------------------------------

/** A Dataset plus where its rows came from in the loaded table. */
export interface LoadedDataset {
  dataset: Dataset;
  /** Dataset row -> table rowid (rows with a missing label are left out of the Dataset). */
  tableRow: Int32Array;
  /** Table rowids whose label is missing (incoming: quarantined with that reason). */
  missingLabel: number[];
}

/** Shared dictionary per column: trusted and incoming codes mean the same value. */
export class Dictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  code(v: string): number {
    let c = this.index.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(v);
      this.index.set(v, c);
    }
    return c;
  }
  get(v: string): number | undefined {
    return this.index.get(v);
  }
}

export interface DatasetDictionaries {
  labels: Dictionary;
  columns: Map<string, Dictionary>;
}

export function newDictionaries(): DatasetDictionaries {
  return { labels: new Dictionary(), columns: new Map() };
}

function dict(d: DatasetDictionaries, key: string): Dictionary {
  let x = d.columns.get(key);
  if (!x) {
    x = new Dictionary();
    d.columns.set(key, x);
  }
  return x;
}

const asText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A time column's value as a number (epoch ms from an ISO date and time; a number as written), NULL if neither. */
export function timeExpr(c: string, i: ColumnInfo): string {
  return i.kind === 'numeric'
    ? numberSql(i, c)
    : `COALESCE(epoch_ms(TRY_CAST(${c}::VARCHAR AS TIMESTAMP))::DOUBLE, TRY_CAST(${c}::VARCHAR AS DOUBLE))`;
}

/**
 * Values of the --time column that are written but read as no time: how many, and one of them. A column of
 * which none reads is refused (the time windows would silently be empty); some: a note.
 */
export async function unreadableTimes(
  src: DataSource,
  table: LoadedTable,
  column: string,
): Promise<{ bad: number; written: number; example?: string }> {
  const info = table.columns.find((c) => c.name === column);
  if (!info) return { bad: 0, written: 0 };
  const c = colSql(info);
  const written = `${c} IS NOT NULL AND trim(${c}::VARCHAR) <> ''`;
  const [r] = await src.query(
    `SELECT count(*) FILTER (WHERE ${written})::BIGINT AS w, count(*) FILTER (WHERE ${written} AND ${timeExpr(c, info)} IS NULL)::BIGINT AS b, ` +
      `any_value(${c}::VARCHAR) FILTER (WHERE ${written} AND ${timeExpr(c, info)} IS NULL) AS e FROM ${sqlIdent(table.table)}`,
  );
  return {
    bad: Number(r.b ?? 0),
    written: Number(r.w ?? 0),
    ...(r.e === null || r.e === undefined ? {} : { example: String(r.e) }),
  };
}

/**
 * Read the role columns of a loaded table into a Dataset, chunk by chunk (no row objects). For the trusted
 * table, pass `side: 'trusted'`: its columns are looked up by their trusted names.
 */
export async function readDataset(
  src: DataSource,
  table: LoadedTable,
  roles: ResolvedRoles,
  dicts: DatasetDictionaries,
  side: 'trusted' | 'incoming',
  onRows?: (n: number) => void,
): Promise<LoadedDataset> {
  const colName = (incName: string): string | undefined => {
    if (side === 'incoming') return incName;
    const t = roles.trustedName[incName];
    return t === undefined ? undefined : t;
  };
  const info = (incName: string) => {
    const n = colName(incName);
    return n === undefined ? undefined : table.columns.find((c) => c.name === n);
  };
  const exprs: string[] = [];
  const add = (e: string) => exprs.push(e) - 1;
  const labelCol = colSql(info(roles.label)!);
  const labelText = `NULLIF(trim(${labelCol}::VARCHAR), '')`;
  // Numbers as numbers: a whole number is written without a fraction ("1.0" -> "1"), any other as DuckDB
  // writes a DOUBLE, so the two files' spellings of one class meet.
  const num = `TRY_CAST(${labelText} AS DOUBLE)`;
  // Booleans likewise: pandas writes True/False, JSON and DuckDB true/false. Any other label keeps its case
  // (classes may differ by case alone).
  const labelExpr = roles.numericLabel
    ? `CASE WHEN ${num} IS NULL THEN ${labelText} WHEN ${num} = trunc(${num}) AND abs(${num}) < 1e15 THEN CAST(CAST(${num} AS BIGINT) AS VARCHAR) ELSE CAST(${num} AS VARCHAR) END`
    : `CASE WHEN lower(${labelText}) IN ('true', 'false') THEN lower(${labelText}) ELSE ${labelText} END`;
  const iRow = add('rowid::BIGINT');
  const iLabel = add(labelExpr);
  const opt = (name: string | undefined, expr: (c: string, i: ColumnInfo) => string) => {
    if (name === undefined) return -1;
    const i = info(name);
    return i ? add(expr(colSql(i), i)) : -1;
  };
  const iId = opt(roles.id, (c) => `${c}::VARCHAR`);
  const iText = opt(roles.text, (c) => `${c}::VARCHAR`);
  const iSource = opt(roles.source, (c) => `${c}::VARCHAR`);
  const iLabeler = opt(roles.labeler, (c) => `${c}::VARCHAR`);
  const iTime = opt(roles.time, timeExpr);
  const iEmb = opt(roles.embeddings, (c, i) =>
    i.kind === 'list' ? `${c}::FLOAT[]` : `TRY_CAST(${listText(c)} AS FLOAT[])`,
  );
  const numIdx = roles.numeric.map((n) => opt(n, (_c, i) => numberSql(i)));
  const catIdx = roles.categorical.map((n) => opt(n, (c) => `${c}::VARCHAR`));

  // Count labelled rows first so every array is allocated once.
  const [{ n: nLab }] = await src.query(
    `SELECT count(*)::BIGINT AS n FROM ${sqlIdent(table.table)} WHERE ${labelExpr} IS NOT NULL`,
  );
  const n = Number(nLab);
  const tableRow = new Int32Array(n);
  const labels = new Int32Array(n);
  const ids: string[] = new Array(n);
  const text: string[] | undefined = iText >= 0 ? new Array(n) : undefined;
  const numeric = new Map<string, Float64Array>();
  const numArrays = roles.numeric.map((name, k) => {
    const a = new Float64Array(n).fill(Number.NaN);
    if (numIdx[k] >= 0) numeric.set(name, a);
    return a;
  });
  const categorical = new Map<string, Categorical>();
  const catArrays = roles.categorical.map((name, k) => {
    const codes = new Int32Array(n).fill(-1);
    if (catIdx[k] >= 0) categorical.set(name, { codes, values: dict(dicts, `f:${name}`).values });
    return codes;
  });
  const source =
    iSource >= 0 ? { codes: new Int32Array(n).fill(-1), values: dict(dicts, 'source').values } : undefined;
  const labeler =
    iLabeler >= 0 ? { codes: new Int32Array(n).fill(-1), values: dict(dicts, 'labeler').values } : undefined;
  const time = iTime >= 0 ? new Float64Array(n).fill(Number.NaN) : undefined;
  let embData: Float32Array | undefined;
  let embDim = 0;
  const missingLabel: number[] = [];
  let k = 0;
  const labelDict = dicts.labels;
  const catDicts = roles.categorical.map((name) => dict(dicts, `f:${name}`));
  const srcDict = dict(dicts, 'source');
  const lblDict = dict(dicts, 'labeler');

  await src.scan(
    `SELECT ${exprs.join(', ')} FROM ${sqlIdent(table.table)} ORDER BY rowid`,
    (v, _off, size) => {
      for (let j = 0; j < size; j++) {
        const rowid = Number(v[iRow].getItem(j));
        const lab = asText(v[iLabel].getItem(j));
        if (lab === null) {
          missingLabel.push(rowid);
          continue;
        }
        tableRow[k] = rowid;
        labels[k] = labelDict.code(lab);
        ids[k] = iId >= 0 ? (asText(v[iId].getItem(j)) ?? '') : String(rowid + 1);
        if (text) text[k] = asText(v[iText].getItem(j)) ?? '';
        for (let f = 0; f < numIdx.length; f++) {
          if (numIdx[f] < 0) continue;
          const x = v[numIdx[f]].getItem(j);
          numArrays[f][k] = x === null ? Number.NaN : Number(x);
        }
        for (let f = 0; f < catIdx.length; f++) {
          if (catIdx[f] < 0) continue;
          const x = asText(v[catIdx[f]].getItem(j));
          catArrays[f][k] = x === null ? -1 : catDicts[f].code(x);
        }
        if (source) {
          const x = asText(v[iSource].getItem(j));
          source.codes[k] = x === null ? -1 : srcDict.code(x);
        }
        if (labeler) {
          const x = asText(v[iLabeler].getItem(j));
          labeler.codes[k] = x === null ? -1 : lblDict.code(x);
        }
        if (time) {
          const x = v[iTime].getItem(j);
          time[k] = x === null ? Number.NaN : Number(x);
        }
        if (iEmb >= 0) {
          const x = v[iEmb].getItem(j) as { items?: unknown[] } | null;
          const items = x?.items ?? [];
          if (!embData) {
            embDim = items.length;
            if (embDim === 0)
              throw schemaError(`--embeddings column "${roles.embeddings}" is empty on row ${rowid + 1}`);
            embData = new Float32Array(n * embDim);
          }
          if (items.length !== embDim) {
            throw schemaError(
              `--embeddings column "${roles.embeddings}" has ${items.length} values on row ${rowid + 1} but ${embDim} earlier`,
              'every row needs a vector of the same length',
            );
          }
          for (let d = 0; d < embDim; d++) embData[k * embDim + d] = Number(items[d]);
        }
        k++;
      }
      onRows?.(size);
    },
  );
  const dataset: Dataset = { n, ids, labels, numeric, categorical };
  if (text) dataset.text = text;
  if (source) dataset.source = source;
  if (labeler) dataset.labeler = labeler;
  if (time) dataset.time = time;
  if (embData) dataset.embeddings = { data: embData, dim: embDim };
  return { dataset, tableRow, missingLabel };
}
