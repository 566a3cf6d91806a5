import pc from 'picocolors';
import type { Finding } from '../core/finding.js';
import type { Severity } from '../core/severity.js';
import { termSafe, termSafeDeep } from './terminal.js';
import type { ScanReport } from './types.js';

const SEV_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => pc.bold(pc.red(s)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.cyan,
  info: pc.dim,
};

export function colourSeverity(s: Severity, useColour: boolean): string {
  const label = s.toUpperCase().padEnd(8);
  return useColour ? SEV_COLOUR[s](label) : label;
}

export function formatLocation(f: Finding): string {
  const l = f.location;
  if (!l) return '';
  const parts: string[] = [];
  if (l.entry) parts.push(`entry ${l.entry}`);
  if (l.offset !== undefined) parts.push(`byte ${l.offset}`);
  if (l.opcode !== undefined) parts.push(`opcode #${l.opcode}`);
  if (l.tensor) parts.push(`tensor ${l.tensor}`);
  if (l.column) parts.push(`column ${l.column}`);
  if (l.slice) parts.push(`slice ${l.slice}`);
  if (l.rowCount !== undefined) parts.push(`${l.rowCount} rows`);
  else if (l.rows) parts.push(`${l.rows.length} rows`);
  if (l.line !== undefined) parts.push(`line ${l.line}`);
  return parts.join(', ');
}

export function renderFindingLine(f: Finding, useColour: boolean): string {
  const loc = termSafe(formatLocation(f));
  const rule = useColour ? pc.dim(termSafe(f.rule)) : termSafe(f.rule);
  return `  ${colourSeverity(f.severity, useColour)} ${termSafe(f.message)}${loc ? ` (${loc})` : ''} [${rule}]`;
}

/** Human-readable scan report: one block per file, blocked files first in attention. */
export function renderScanText(raw: ScanReport, opts: { colour: boolean; verbose?: boolean }): string {
  const report = termSafeDeep(raw);
  const out: string[] = [];
  const c = opts.colour;
  let blocked = 0;
  for (const r of report.results) {
    if (r.verdict === 'block') blocked++;
    const badge =
      r.verdict === 'block' ? (c ? pc.bold(pc.red('BLOCK')) : 'BLOCK') : c ? pc.green('PASS ') : 'PASS ';
    out.push(`${badge} ${r.path} ${c ? pc.dim(`(${r.format})`) : `(${r.format})`}`);
    const shown = opts.verbose ? r.findings : r.findings.filter((f) => f.severity !== 'info');
    for (const f of shown) out.push(renderFindingLine(f, c));
  }
  const n = report.results.length;
  // A folder's extra repository result is not a file: counting it as one made "6 files" of 5.
  const repos = report.results.filter((r) => r.format === 'model-repository').length;
  const files = n - repos;
  const what = `${files} file${files === 1 ? '' : 's'}${repos ? ` and ${repos} model ${repos === 1 ? 'repository' : 'repositories'}` : ''}`;
  const skipped = report.skipped ?? [];
  const summary = `${what} scanned: ${n - blocked} passed, ${blocked} blocked${skipped.length ? `, ${skipped.length} skipped` : ''}`;
  if (skipped.length) {
    out.push('');
    out.push(`Skipped (excluded, not scanned):`);
    for (const s of skipped) out.push(`  ${s.path} ${c ? pc.dim(`(${s.reason})`) : `(${s.reason})`}`);
  }
  out.push('');
  out.push(c ? pc.bold(summary) : summary);
  return `${out.join('\n')}\n`;
}
