/** `antidote serve import` and `export-trusted`: report folders into the store, reviewed rows out of it. */

import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { buildPayload, type RunPayload } from '../cli/post.js';
import { pushAll } from '../core/arrays.js';
import { writeFileAtomic } from '../core/atomic-write.js';
import { inputError, usageError } from '../core/errors.js';
import { toRecords } from './ingest.js';
import { RUN_ID, RunPostSchema } from './schema.js';
import type { Store } from './store.js';

const MAX_DEPTH = 6;

async function findReports(dir: string, depth = 0, out: string[] = []): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (depth === 0) throw inputError(`cannot read ${dir}: ${(err as Error).message}`);
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === 'report.json') out.push(p);
    else if (e.isDirectory() && depth < MAX_DEPTH && !e.name.startsWith('.'))
      await findReports(p, depth + 1, out);
  }
  return out;
}

export function kindOf(report: Record<string, unknown>): RunPayload['kind'] | undefined {
  if (report.kind === 'audit') return 'audit';
  if (typeof report.decision === 'string' && report.models) return 'gate';
  if (Array.isArray(report.results)) return 'scan';
  return undefined;
}

export async function importFolders(store: Store, dirs: string[]) {
  let created = 0;
  let existing = 0;
  const skipped: string[] = [];
  const files: string[] = [];
  for (const d of dirs) pushAll(files, await findReports(d));
  files.sort();
  for (const f of files) {
    let report: Record<string, unknown>;
    try {
      report = JSON.parse(await readFile(f, 'utf8'));
    } catch (err) {
      skipped.push(`${f}: not JSON (${(err as Error).message.split('\n')[0]})`);
      continue;
    }
    const kind = kindOf(report);
    if (!kind) {
      skipped.push(`${f}: not an audit, gate or scan report`);
      continue;
    }
    try {
      const post = RunPostSchema.parse(await buildPayload(kind, report));
      const r = await store.addRun(toRecords(post), 'import');
      if (r.created) created++;
      else existing++;
    } catch (err) {
      skipped.push(`${f}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { created, existing, skipped, files: files.length };
}

function csvCell(v: string, sep: string): string {
  return /["\n\r]/.test(v) || v.includes(sep) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Write the reviewed additions as CSV, TSV or JSONL (by the extension); returns the number of rows. */
export async function exportTrusted(store: Store, out: string, run?: string): Promise<number> {
  const ext = extname(out).toLowerCase();
  if (!['.csv', '.tsv', '.jsonl'].includes(ext)) throw usageError('--out must end in .csv, .tsv or .jsonl');
  if (run !== undefined && !RUN_ID.test(run))
    throw usageError('--run is a run id: 32 hexadecimal characters');
  const parts = await store.exportTrusted(run);
  const rows = parts.flatMap((p) => p.rows);
  let text: string;
  if (ext === '.jsonl') text = rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
  else {
    const sep = ext === '.tsv' ? '\t' : ',';
    const cols: string[] = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
    const lines = [cols.map((c) => csvCell(c, sep)).join(sep)];
    for (const r of rows) lines.push(cols.map((c) => csvCell(r[c] ?? '', sep)).join(sep));
    text = `${lines.join('\n')}\n`;
  }
  await writeFileAtomic(out, text);
  return rows.length;
}
