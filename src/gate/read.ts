/**
 * Load a table for the gate (trusted holdout, live set, predictions file) through the data layer's DuckDB
 * source (src/data/source.ts: fixed dialects, malformed rows counted) and hand it back column by column:
 * numeric columns (as the data layer decides them from the whole column) as Float64Array, the rest as strings.
 * A trusted or live set with malformed records is refused: the gate must not judge on a partial holdout.
 */
import { AntidoteError, inputError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { colSql, DataSource, numberSql, sqlIdent } from '../data/source.js';
import type { Column, RawTable } from './table.js';

export async function readTable(path: string, opts: { maxRows?: number } = {}): Promise<RawTable> {
  const src = await DataSource.open({ threads: 2 });
  try {
    const loaded = await src.load('t', path);
    if (loaded.rejectCount > 0) {
      const first = loaded.rejects[0];
      throw inputError(
        `${path}: ${loaded.rejectCount} malformed record${loaded.rejectCount === 1 ? '' : 's'}${first ? ` (first at line ${first.line}: ${first.error.split('\n')[0]})` : ''}`,
        'fix the file; the gate does not judge on a partial table',
      );
    }
    const max = opts.maxRows ?? LIMITS.gate.maxRows;
    if (loaded.rows > max)
      throw new AntidoteError('E_LIMIT', `${path}: ${loaded.rows} rows exceed the gate's limit of ${max}`, {
        hint: 'sample the table',
      });
    // Read by position (a column's DuckDB name may be a positional one: an unnamed index, names that differ
    // only in case), handed back under the name the file gives it. The fields of nested records, which the
    // audit reads as columns of their own, are not: a model is fed the record as the file holds it.
    const own = loaded.columns.filter((c) => !c.field);
    const select = own
      .map((c, i) =>
        c.kind === 'numeric'
          ? `${numberSql(c)} AS ${sqlIdent(`c${i}`)}`
          : `${colSql(c)}::VARCHAR AS ${sqlIdent(`c${i}`)}`,
      )
      .join(', ');
    const reader = await src.conn.runAndReadAll(`SELECT ${select} FROM t ORDER BY rowid`);
    const cols = reader.getColumnsJS() as unknown[][];
    const n = loaded.rows;
    const columns = new Map<string, Column>();
    own.forEach((c, i) => {
      const values = cols[i];
      if (c.kind === 'numeric') {
        const arr = new Float64Array(n);
        for (let r = 0; r < n; r++) arr[r] = values[r] === null ? Number.NaN : Number(values[r]);
        columns.set(c.name, { kind: 'number', values: arr });
      } else {
        columns.set(c.name, { kind: 'string', values: values.map((v) => (v === null ? '' : String(v))) });
      }
    });
    return { names: own.map((c) => c.name), columns, n };
  } finally {
    src.close();
  }
}
