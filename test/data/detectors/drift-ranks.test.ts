/**
 * Accounts compared by their rows' ranks within each window: a clean batch of compute jobs whose pending-job
 * counts are mostly 0 with a long tail, against a 100-row trusted set that knows too little of that tail to clip
 * it. Before, the nine accounts absent from the trusted set, pooled, read as conditioning ("the mean of
 * num_pending crept up") from a few extreme rows in the first windows: a high finding on clean data
 * (fixture: test/fixtures/hpc-jobs-clean/SOURCE.md).
 */
import { describe, expect, it } from 'vitest';
import { auditCleanBatch } from './clean-batch.js';

describe('a clean batch with a heavy-tailed feature, against a 100-row trusted set', () => {
  it('raises no drift or conditioning finding and no high finding', async () => {
    const a = await auditCleanBatch('hpc-jobs-clean', 'class');
    expect(a.rows).toBe(4231);
    expect(a.findings.filter((f) => f.rule === 'audit/drift').map((f) => f.message)).toEqual([]);
    expect(a.high).toEqual([]);
  }, 120_000);
});
