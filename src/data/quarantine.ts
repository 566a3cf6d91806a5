/**
 * The audit's outputs, written together or not at all (AtomicBatch: temporary names, renamed at the end):
 *   accepted.<ext>     incoming rows below the threshold, same format, columns and values, file order
 *   quarantined.<ext>  rows at or above it, plus antidote_score and antidote_reasons
 *   review.<ext>       highest-scoring rows for a person to check, then a seeded random control sample
 *                      (antidote_review = priority | control), so reviewers also see what passed
 *   rejects.csv        records the reader could not parse (line, error, raw text), when there are any
 *   report.json        the versioned report (schemas/audit-report.v1.json)
 *   report.html        the same, for people, with charts rendered to inline SVG
 * Rows are selected and copied by DuckDB (COPY), so values never pass through JavaScript. Before anything
 * is renamed into place, the row counts are checked: accepted + quarantined = incoming, each row once.
 */
import { resolve } from 'node:path';
import { AtomicBatch } from '../core/atomic-write.js';
import { AntidoteError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import type { AuditRun } from './audit.js';
import { mulberry32, sampleIndices } from './learn/random.js';
import { trustedNeighbours } from './neighbours.js';
import { EXTENSION, projection, sqlIdent, type TableFormat } from './source.js';

const ROW = '__antidote_row';
const EXTRA = ['antidote_score', 'antidote_reasons', 'antidote_review'];

export async function writeOutputs(
  run: AuditRun,
  outDir: string,
  opts: { force?: boolean } = {},
): Promise<void> {
  const started = performance.now();
  const { source: src, incomingTable: table, report } = run;
  const fmt: TableFormat = table.format;
  const ext = EXTENSION[fmt];
  const dir = resolve(outDir);
  const path = (name: string) => resolve(dir, name);
  const outputs = {
    dir,
    accepted: path(`accepted.${ext}`),
    quarantined: path(`quarantined.${ext}`),
    review: path(`review.${ext}`),
    rejects: table.rejectCount > 0 ? path('rejects.csv') : undefined,
    reportJson: path('report.json'),
    reportHtml: path('report.html'),
  };
  // Each output, resolved through links and `..`, against each input (real path and device+inode).
  checkIo(
    [{ path: run.trustedTable.path }, { path: table.path }],
    Object.entries(outputs)
      .filter(([k, p]) => k !== 'dir' && p)
      .map(([, p]) => ({ path: p as string, flag: '--out-dir' })),
    { force: opts.force },
  );
  report.outputs = { ...outputs, rejects: outputs.rejects };

  // Decisions as small DuckDB tables keyed by the incoming table's rowid.
  const n = run.incoming.dataset.n;
  const tableRow = run.incoming.tableRow;
  await src.run(`CREATE OR REPLACE TABLE antidote_q (r BIGINT, score DOUBLE, reasons VARCHAR)`);
  await src.run(
    `CREATE OR REPLACE TABLE antidote_review (r BIGINT, score DOUBLE, reasons VARCHAR, kind VARCHAR, ord INTEGER)`,
  );
  const qApp = await src.conn.createAppender('antidote_q');
  for (let i = 0; i < n; i++) {
    if (!run.quarantined[i]) continue;
    qApp.appendBigInt(BigInt(tableRow[i]));
    qApp.appendDouble(round3(run.scores[i]));
    qApp.appendVarchar(run.reasons.get(i) ?? 'combined score');
    qApp.endRow();
  }
  for (const r of run.incoming.missingLabel) {
    qApp.appendBigInt(BigInt(r));
    qApp.appendDouble(1);
    qApp.appendVarchar('label is missing');
    qApp.endRow();
  }
  qApp.flushSync();
  qApp.closeSync();

  // Review: highest scores first (at or above the review threshold), then a random control sample.
  const cfg = run.config;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (run.scores[i] >= cfg.reviewThreshold) order.push(i);
  order.sort((a, b) => run.scores[b] - run.scores[a] || a - b);
  const priority = order.slice(0, cfg.reviewPriority);
  const inPriority = new Set(priority);
  const rest = n - priority.length;
  const control: number[] = [];
  if (rest > 0 && cfg.reviewControl > 0) {
    const rand = mulberry32(cfg.seed + 7);
    const picks = sampleIndices(rest, Math.min(rest, cfg.reviewControl), rand);
    // Map the k-th non-priority row.
    const sortedPriority = [...priority].sort((a, b) => a - b);
    let pi = 0;
    let seen = 0;
    let pk = 0;
    for (let i = 0; i < n && pk < picks.length; i++) {
      if (pi < sortedPriority.length && sortedPriority[pi] === i) {
        pi++;
        continue;
      }
      if (seen === picks[pk]) {
        control.push(i);
        pk++;
      }
      seen++;
    }
  }
  const rApp = await src.conn.createAppender('antidote_review');
  let ord = 0;
  for (const [list, kind] of [
    [priority, 'priority'],
    [control, 'control'],
  ] as const) {
    for (const i of list) {
      if (kind === 'control' && inPriority.has(i)) continue;
      rApp.appendBigInt(BigInt(tableRow[i]));
      rApp.appendDouble(round3(run.scores[i]));
      rApp.appendVarchar(run.reasons.get(i) ?? '');
      rApp.appendVarchar(kind);
      rApp.appendInteger(ord++);
      rApp.endRow();
    }
  }
  rApp.flushSync();
  rApp.closeSync();
  report.summary.review = ord;
  const sample = [...priority, ...control.filter((i) => !inPriority.has(i))];
  const ev = trustedNeighbours(run.context, sample);
  if (ev) {
    const ds = run.context.incoming;
    report.reviewEvidence = {
      space: ev.space,
      k: ev.k,
      searched: ev.searched,
      trusted: ev.trusted,
      rows: sample.flatMap((i, ordOf) => {
        const neighbours = ev.rows.get(i);
        if (!neighbours) return [];
        return [{ ord: ordOf, id: ds.ids[i], label: run.context.classes[ds.labels[i]] ?? '', neighbours }];
      }),
    };
  }

  const t = sqlIdent(table.table);
  const existing = new Set(table.columns.map((c) => c.name));
  const clash = EXTRA.filter((c) => existing.has(c));
  const base = `(SELECT rowid AS ${ROW}, * FROM ${t})`;
  const exclude = [ROW, ...clash].map(sqlIdent).join(', ');
  // Columns loaded under positional names (two names differing only in case) are written under their own.
  const all = table.renamed ? projection(table, 'b') : `* EXCLUDE (${ROW})`;
  const kept = table.renamed ? projection(table, 'b', new Set(clash)) : `b.* EXCLUDE (${exclude})`;
  const acceptedSql = `SELECT ${all} FROM ${base} b WHERE NOT EXISTS (SELECT 1 FROM antidote_q q WHERE q.r = b.${ROW}) ORDER BY b.${ROW}`;
  const quarantinedSql = `SELECT ${kept}, q.score AS antidote_score, q.reasons AS antidote_reasons FROM ${base} b JOIN antidote_q q ON q.r = b.${ROW} ORDER BY b.${ROW}`;
  const reviewSql = `SELECT ${kept}, v.score AS antidote_score, v.reasons AS antidote_reasons, v.kind AS antidote_review FROM ${base} b JOIN antidote_review v ON v.r = b.${ROW} ORDER BY v.ord`;

  // Every row exactly once: check before anything appears.
  const [{ a, q, dup }] = await src.query(
    `SELECT (SELECT count(*) FROM (${acceptedSql}))::BIGINT AS a, (SELECT count(*) FROM (${quarantinedSql}))::BIGINT AS q, ` +
      `(SELECT count(*) - count(DISTINCT r) FROM antidote_q)::BIGINT AS dup`,
  );
  if (Number(a) + Number(q) !== table.rows || Number(dup) !== 0) {
    throw new AntidoteError(
      'E_INTERNAL',
      `row accounting failed: ${a} accepted + ${q} quarantined != ${table.rows} incoming rows; nothing was written`,
    );
  }
  report.summary.accepted = Number(a);
  report.summary.quarantined = Number(q);

  const batch = new AtomicBatch();
  try {
    // Names that differ only in case: the header is written as the file had it (DuckDB would rename one).
    const names = table.renamed ? table.columns.map((c) => c.name) : undefined;
    const keptNames = names?.filter((c) => !clash.includes(c));
    // Written as the input was: a ';' file gives ';' outputs.
    const delim = table.delimiter;
    await src.copyTo(acceptedSql, await batch.reserve(outputs.accepted), fmt, names, delim);
    await src.copyTo(
      quarantinedSql,
      await batch.reserve(outputs.quarantined),
      fmt,
      keptNames && [...keptNames, 'antidote_score', 'antidote_reasons'],
      delim,
    );
    await src.copyTo(
      reviewSql,
      await batch.reserve(outputs.review),
      fmt,
      keptNames && [...keptNames, 'antidote_score', 'antidote_reasons', 'antidote_review'],
      delim,
    );
    if (outputs.rejects) {
      const rj = sqlIdent(`${table.table}_rejects`);
      await src.copyTo(
        `SELECT line::BIGINT AS line, any_value(error_message) AS error, trim(any_value(csv_line), chr(10) || chr(13)) AS raw FROM ${rj} GROUP BY line ORDER BY line`,
        await batch.reserve(outputs.rejects),
        'csv',
      );
    }
    report.timings.write = (performance.now() - started) / 1000;
    report.timings.total = Object.entries(report.timings)
      .filter(([k]) => k !== 'total')
      .reduce((s, [, v]) => s + v, 0);
    const { renderAuditHtml } = await import('./report-html.js');
    await batch.write(outputs.reportJson, renderAuditJson(report));
    await batch.write(outputs.reportHtml, await renderAuditHtml(report));
    await batch.commit();
  } catch (err) {
    await batch.abort();
    if (err instanceof AntidoteError) throw err;
    throw new AntidoteError(
      'E_IO',
      `cannot write the audit outputs in ${dir}: ${(err as Error).message.split('\n')[0]}`,
      {
        cause: err,
      },
    );
  }
}

/** report.json: stable JSON, two-space indent (schemas/audit-report.v1.json). */
export function renderAuditJson(report: AuditRun['report']): string {
  return `${JSON.stringify(report, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v), 2)}\n`;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
