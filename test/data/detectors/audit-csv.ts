/**
 * The detector tests' ways of auditing generated data: two tables written as CSV (label column `label`), or
 * one of the audit matrix's cells as the benchmark writes it.
 */
import { join } from 'node:path';
import { type AuditOptions, runAudit } from '../../../src/data/audit.js';
import { detector as triggers } from '../../../src/data/detectors/triggers.js';
import type { MatrixCase } from '../../../src/data/generators/matrix-attacks.js';
import { writeMatrixCase } from '../../../src/data/generators/matrix-write.js';
import { tmpDir, writeCsv } from '../helpers.js';

/** What a test may set beside the two files (the label column is `label` unless given). */
export type CsvAuditOptions = Omit<AuditOptions, 'trusted' | 'incoming' | 'label'> & { label?: string };

/** The audit run of `incoming` against `trusted` (its store closed); options as runAudit takes them. */
export async function auditCsv(
  header: string[],
  trusted: string[][],
  incoming: string[][],
  options: CsvAuditOptions = {},
) {
  const dir = tmpDir();
  writeCsv(join(dir, 't.csv'), header, trusted);
  writeCsv(join(dir, 'i.csv'), header, incoming);
  const run = await runAudit({
    trusted: join(dir, 't.csv'),
    incoming: join(dir, 'i.csv'),
    label: 'label',
    ...options,
  });
  run.source.close();
  return run;
}

/**
 * The audit run of a matrix cell written to a fresh folder, with the label and id columns its truth names and
 * one thread (its store open: close it); further options as runAudit takes them.
 */
export async function auditMatrixCell(c: MatrixCase, options: Partial<AuditOptions> = {}) {
  const dir = tmpDir();
  await writeMatrixCase(c, dir);
  return runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: c.truth.roles.label,
    id: c.truth.roles.id,
    threads: 1,
    ...options,
  });
}

/** Trigger mining alone: its high and critical findings, and which incoming rows a trigger flagged. */
export async function tableTriggers(header: string[], trusted: string[][], incoming: string[][]) {
  const run = await auditCsv(header, trusted, incoming, { detectors: [triggers] });
  const findings = run.report.findings.filter((f) => f.rule === 'audit/trigger' && f.severity !== 'medium');
  const flagged = new Uint8Array(incoming.length);
  for (const [i, reason] of run.reasons) if (reason.includes('trigger "')) flagged[i] = 1;
  return { findings, flagged };
}

/** Precision and recall of the flagged rows against the planted ones. */
export function quality(flagged: Uint8Array, truth: boolean[]) {
  let tp = 0;
  let fp = 0;
  truth.forEach((t, i) => {
    if (flagged[i] && t) tp++;
    else if (flagged[i]) fp++;
  });
  const positives = truth.filter(Boolean).length;
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, positives) };
}
