/**
 * antidote audit: check an incoming training batch against a trusted reference, quarantine suspect rows
 * with their reasons, write accepted/quarantined/review files and a report. Exit 0: nothing at --fail-on;
 * 1: findings at or above it; 2: error (one line on stderr).
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { usageError } from '../core/errors.js';
import { DEFAULT_FAIL_ON } from '../core/verdict.js';
import type { AuditReport } from '../data/audit.js';
import { renderFindingLine } from '../report/text.js';
import { postIfAsked, postOption } from './post.js';
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';

interface AuditFlags {
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
  out: string;
  format: string;
  failOn: string;
  config?: string;
  progress?: boolean;
  post?: string;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'audit an incoming training batch against a trusted reference; quarantine suspect rows with reasons',
    )
    .requiredOption('--trusted <file>', 'trusted, curated reference (CSV, TSV, JSONL or Parquet)')
    .requiredOption('--incoming <file>', 'incoming batch to audit (CSV, TSV, JSONL or Parquet)')
    .requiredOption('--label <col>', 'label column')
    .option('--id <col>', 'row id column (default: the row number)')
    .option('--text <col>', 'free-text column (default: detected)')
    .option(
      '--features <cols>',
      'feature columns, comma-separated (default: every column without another role)',
      collect,
    )
    .option('--source <col>', 'column naming the account or source that contributed the row')
    .option('--labeler <col>', 'column naming who labelled the row')
    .option('--time <col>', 'event time column (ISO date/time or epoch)')
    .option('--embeddings <col>', 'column holding an embedding or activation vector per row')
    .option(
      '--rename-trusted <old=new>',
      'map a trusted column to the incoming name when they differ, e.g. sentence=sentences (repeatable)',
      collect,
    )
    .option('-o, --out <dir>', 'output folder', 'antidote-audit')
    .option('-f, --format <format>', 'summary on stdout: text or json', 'text')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity', DEFAULT_FAIL_ON)
    .option('--config <file>', 'JSON settings: threshold, review sizes, per-detector settings (see README)')
    .option('--no-progress', 'never show a progress bar')
    .addOption(postOption())
    .action(
      action(async (flags: AuditFlags) => {
        const format = flags.format.toLowerCase();
        if (!['text', 'json'].includes(format))
          throw usageError(`--format must be text or json (got "${flags.format}")`);
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
        const progress = createProgress({
          enabled: flags.progress === false ? false : undefined,
          unit: 'steps',
        });
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
            outDir: flags.out,
            progress,
          });
        } finally {
          progress.stop();
        }
        await postIfAsked(flags.post, 'audit', report);
        const { emit } = await import('../report/output.js');
        if (format === 'json') {
          const { renderAuditJson } = await import('../data/quarantine.js');
          await emit(renderAuditJson(report));
        } else {
          await emit(renderAuditText(report, useColour()));
        }
        return shouldFail(report, failOn) ? EXIT.findings : EXIT.ok;
      }),
    );
}

/** The short plain-words summary: what was quarantined and why, top findings, where the outputs are. */
export function renderAuditText(r: AuditReport, colour: boolean): string {
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
  for (const note of r.notes) out.push(`  note: ${note}`);
  if (r.outputs) {
    out.push(
      `  outputs in ${r.outputs.dir}: accepted, quarantined, review (${s.review} rows), report.json, report.html${r.outputs.rejects ? ', rejects.csv' : ''}`,
    );
  }
  return `${out.join('\n')}\n`;
}
