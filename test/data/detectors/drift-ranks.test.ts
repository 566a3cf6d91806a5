/**
 * Accounts compared by their rows' ranks within each window: a clean batch of compute jobs whose pending-job
 * counts are mostly 0 with a long tail, against a 100-row trusted set that knows too little of that tail to clip
 * it. Before, the nine accounts absent from the trusted set, pooled, read as conditioning ("the mean of
 * num_pending crept up") from a few extreme rows in the first windows: a high finding on clean data
 * (fixture: test/fixtures/hpc-jobs-clean/SOURCE.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { tmpDir } from '../helpers.js';

const FIXTURE = join(__dirname, '../../fixtures/hpc-jobs-clean');

describe('a clean batch with a heavy-tailed feature, against a 100-row trusted set', () => {
  it('raises no drift or conditioning finding and no high finding', async () => {
    const dir = tmpDir();
    for (const f of ['trusted.csv', 'incoming.csv'])
      writeFileSync(join(dir, f), gunzipSync(readFileSync(join(FIXTURE, `${f}.gz`))));
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'class',
      id: 'id',
      source: 'source',
      labeler: 'labeler',
      time: 'time',
      threads: 1,
    });
    try {
      expect(run.incoming.dataset.n).toBe(4231);
      const drift = run.report.findings.filter((f) => f.rule === 'audit/drift');
      expect(drift.map((f) => f.message)).toEqual([]);
      const high = run.report.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
      expect(high.map((f) => f.message)).toEqual([]);
    } finally {
      run.source.close();
    }
  }, 120_000);
});
