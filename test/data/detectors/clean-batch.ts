/**
 * A committed clean batch of the audit matrix (test/fixtures/<name>/: trusted.csv.gz, incoming.csv.gz and
 * SOURCE.md with its licence), expanded into a fresh folder and audited as the matrix audits it (generated id,
 * source, labeler and time columns, unless the fixture kept only its data columns). What a clean batch must not
 * raise is asserted by each test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Finding } from '../../../src/core/finding.js';
import { runAudit } from '../../../src/data/audit.js';
import { tmpDir } from '../helpers.js';

export interface CleanAudit {
  rows: number;
  /** Share of incoming rows quarantined. */
  quarantined: number;
  findings: Finding[];
  /** Messages of the high and critical findings. */
  high: string[];
}

/** The matrix's generated columns (id, source, labeler, time); a fixture that keeps only its data columns passes its own roles. */
const MATRIX_ROLES = { id: 'id', source: 'source', labeler: 'labeler', time: 'time' };

export async function auditCleanBatch(
  name: string,
  label: string,
  roles: { id?: string; text?: string; source?: string; labeler?: string; time?: string } = MATRIX_ROLES,
): Promise<CleanAudit> {
  const fixture = join(__dirname, '../../fixtures', name);
  const dir = tmpDir();
  for (const f of ['trusted.csv', 'incoming.csv'])
    writeFileSync(join(dir, f), gunzipSync(readFileSync(join(fixture, `${f}.gz`))));
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label,
    ...roles,
    threads: 1,
  });
  try {
    const n = run.incoming.dataset.n;
    let q = 0;
    for (let i = 0; i < n; i++) q += run.quarantined[i] ? 1 : 0;
    const findings = run.report.findings;
    return {
      rows: n,
      quarantined: q / n,
      findings,
      high: findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => f.message),
    };
  } finally {
    run.source.close();
  }
}
