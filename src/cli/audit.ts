/**
 * antidote audit: check an incoming training batch against a trusted reference, quarantine suspect rows
 * with their reasons, write accepted/quarantined/review files and a report. Exit 0: nothing at --fail-on;
 * 1: findings at or above it; 2: error (one line on stderr).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { inputError, usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import { DEFAULT_FAIL_ON } from '../core/verdict.js';
import type { AuditReport } from '../data/audit.js';
import { describeFloors } from '../data/floors.js';
import { termSafeDeep } from '../report/terminal.js';
import { renderFindingLine } from '../report/text.js';
import {
  type CommonFlags,
  commonOptions,
  examples,
  formatOption,
  outDirOf,
  outDirOption,
  outputOption,
  parseFormat,
  progressEnabled,
} from './conventions.js';
import { postIfAsked, postOption, postTarget } from './post.js';
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';

interface AuditFlags extends CommonFlags {
  post?: string;
  trusted: string;
  incoming: string;
  label: string;
  id?: string;
  text?: string;
  features?: string[];
  source?: string;
  labeler?: string;
  time?: string;
  embeddings?: string;
  renameTrusted?: string[];
  outDir?: string;
  out?: string;
  output?: string;
  format: string;
  failOn: string;
  config?: string;
}

export function registerAudit(program: Command): void {
  const cmd = program
    .command('audit')
    .description(
      'audit an incoming training batch against a trusted reference; quarantine suspect rows with reasons',
    )
    .requiredOption('--trusted <file>', 'trusted, curated reference (CSV, TSV, JSONL or Parquet)')
    .requiredOption('--incoming <file>', 'incoming batch to audit (CSV, TSV, JSONL or Parquet)')
    .requiredOption('--label <col>', 'label column')
    .option(
      '--id <col>',
      'row id column (default: a pandas index or a column named id, uuid, index, ... whose values all differ; else the row number)',
    )
    .option('--text <col>', 'free-text column (default: detected)')
    .option(
      '--features <cols>',
      'feature columns, comma-separated (default: every column without another role)',
      collect,
    )
    .option('--source <col>', 'column naming the account or source that contributed the row')
    .option('--labeler <col>', 'column naming who labelled the row')
    .option('--time <col>', 'event time column (ISO 8601 date/time, or a number such as epoch milliseconds)')
    .option('--embeddings <col>', 'column holding an embedding or activation vector per row')
    .option(
      '--rename-trusted <old=new>',
      'map a trusted column to the incoming name when they differ, e.g. sentence=sentences (repeatable)',
      collect,
    )
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity', DEFAULT_FAIL_ON)
    .option('--config <file>', 'JSON settings: threshold, review sizes, per-detector settings (see README)')
    .option('--no-progress', 'never show a progress bar')
    .addOption(postOption());
  outDirOption(
    cmd,
    'folder for accepted, quarantined, review, report.json and report.html',
    'antidote-audit',
  );
  outputOption(cmd, 'write the summary to FILE instead of stdout');
  formatOption(cmd, ['text', 'json']);
  commonOptions(cmd);
  examples(cmd, [
    'antidote audit --trusted reference.csv --incoming batch.csv --label label',
    'antidote audit --trusted ref.parquet --incoming new.jsonl --label y --text body --out-dir audit-2024-06',
    'antidote audit --trusted ref.tsv.gz --incoming batch.tsv.gz --label label -f json -o summary.json',
  ]);
  cmd.action(
    action(async (flags: AuditFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      const outDir = outDirOf(flags, cmd) as string;
      postTarget(flags.post);
      const inputs = [
        { path: flags.trusted, flag: '--trusted' },
        { path: flags.incoming, flag: '--incoming' },
        flags.config ? { path: flags.config, flag: '--config' } : undefined,
      ];
      // Every output the audit may write, checked before the audit runs (and again when written).
      const { EXTENSION, formatOf } = await import('../data/source.js');
      for (const { path, flag } of inputs.slice(0, 2) as Array<{ path: string; flag: string }>)
        if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
          throw inputError(
            `${flag} ${path}: is a folder; the audit reads one file per side`,
            "join the batch's files into one (same columns), then pass that file",
          );
      const ext = EXTENSION[formatOf(flags.incoming)];
      const names = [
        `accepted.${ext}`,
        `quarantined.${ext}`,
        `review.${ext}`,
        'rejects.csv',
        'report.json',
        'report.html',
      ];
      const [trusted, incoming] = checkIo(
        inputs,
        [
          { path: outDir, flag: '--out-dir', dir: true },
          ...names.map((n) => ({ path: join(outDir, n), flag: '--out-dir' })),
          flags.output ? { path: flags.output, flag: '-o' } : undefined,
        ],
        { force: flags.force },
      );
      if (trusted.dev === incoming.dev && trusted.ino === incoming.ino)
        throw usageError('--trusted and --incoming name the same file', 'give the incoming batch separately');
      const failOn = parseSeverity(flags.failOn);
      const renameTrusted: Record<string, string> = {};
      for (const pair of flags.renameTrusted ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0 || eq === pair.length - 1) {
          throw usageError(`--rename-trusted expects OLD=NEW (got "${pair}")`);
        }
        renameTrusted[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      const { audit, knownDefaults, shouldFail } = await import('../data/audit.js');
      const { loadConfig } = await import('../data/config.js');
      const { createProgress } = await import('../core/progress.js');
      const config = await loadConfig(flags.config, knownDefaults());
      const progress = createProgress({ enabled: progressEnabled(flags), unit: 'steps' });
      let report: Awaited<ReturnType<typeof audit>>;
      try {
        report = await audit({
          trusted: flags.trusted,
          incoming: flags.incoming,
          label: flags.label,
          id: flags.id,
          text: flags.text,
          features: flags.features,
          source: flags.source,
          labeler: flags.labeler,
          time: flags.time,
          embeddings: flags.embeddings,
          renameTrusted,
          config,
          failOn,
          outDir,
          force: flags.force,
          progress,
        });
      } finally {
        progress.stop();
      }
      await postIfAsked(flags.post, 'audit', report);
      const { emit } = await import('../report/output.js');
      if (format === 'json') {
        const { renderAuditJson } = await import('../data/quarantine.js');
        await emit(renderAuditJson(report), flags.output);
      } else if (flags.output || !flags.quiet) {
        await emit(renderAuditText(report, useColour(flags.output)), flags.output);
      }
      return shouldFail(report, failOn) ? EXIT.findings : EXIT.ok;
    }),
  );
}

/** The short plain-words summary: what was quarantined and why, top findings, where the outputs are. */
export function renderAuditText(raw: AuditReport, colour: boolean): string {
  const r = termSafeDeep(raw);
  const s = r.summary;
  const out: string[] = [];
  const pct = (x: number) => (s.incoming ? `${((100 * x) / s.incoming).toFixed(1)}%` : '0%');
  const badge =
    s.verdict === 'block'
      ? colour
        ? pc.bold(pc.red('BLOCK'))
        : 'BLOCK'
      : colour
        ? pc.green('PASS')
        : 'PASS';
  out.push(`${badge} ${r.inputs.incoming.path} audited against ${r.inputs.trusted.path}`);
  out.push(
    `  ${s.incoming} rows: ${s.accepted} accepted, ${s.quarantined} quarantined (${pct(s.quarantined)})` +
      (s.rejected ? `, ${s.rejected} malformed records in rejects` : ''),
  );
  if (s.topReasons.length) {
    out.push('  quarantined because:');
    for (const t of s.topReasons.slice(0, 5)) out.push(`    ${String(t.rows).padStart(7)}  ${t.reason}`);
  }
  const shown = r.findings.filter((f) => f.severity !== 'info').slice(0, 8);
  if (shown.length) {
    out.push('  findings:');
    for (const f of shown) out.push(`  ${renderFindingLine(f, colour)}`);
    const more = r.findings.filter((f) => f.severity !== 'info').length - shown.length;
    if (more > 0) out.push(`    ... and ${more} more in report.json`);
  } else out.push('  no findings above info');
  // A clean verdict means "nothing this large": the reader must know how large, not only when it is too large.
  const floors = r.floors ? describeFloors(r.floors) : [];
  if (floors.length) {
    out.push('  smallest attacks the audit could see in this batch:');
    for (const f of floors) out.push(`    ${f.detector}: ${f.floor}`);
  }
  for (const note of r.notes) out.push(`  note: ${note}`);
  // A detector that could not judge this batch is a blind spot the user must see, not a silent pass.
  const notRun = new Map<string, string[]>();
  for (const d of r.detectors) if (d.reason) notRun.set(d.reason, [...(notRun.get(d.reason) ?? []), d.id]);
  for (const [reason, ids] of notRun) out.push(`  not run: ${ids.join(', ')}: ${reason}`);
  if (r.outputs) {
    out.push(
      `  outputs in ${r.outputs.dir}: accepted, quarantined, review (${s.review} rows), report.json, report.html${r.outputs.rejects ? ', rejects.csv' : ''}`,
    );
  }
  return `${out.join('\n')}\n`;
}
