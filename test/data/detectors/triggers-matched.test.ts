/**
 * Trigger mining in a table with a small trusted set: a natural region whose label the 100-row trusted model
 * misreads is not a trigger, a conjunction planted in the same table still is. Both batches are the audit
 * matrix's own cells, generated from the committed scikit-learn digits table.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { generateCell } from '../../../src/data/generators/matrix-attacks.js';
import { loadMatrixDataset } from '../../../src/data/generators/matrix-datasets.js';
import { writeMatrixCase } from '../../../src/data/generators/matrix-write.js';
import { FIXTURES } from '../../helpers/cli.js';
import { tmpDir } from '../helpers.js';

const digits = () =>
  loadMatrixDataset('digits', {
    shared: FIXTURES,
    sklearn: join(FIXTURES, 'data', 'digits'),
    vega: FIXTURES,
  });

async function auditCell(family: 'clean' | 'tabular-conjunction', params: Record<string, string | number>) {
  const c = generateCell(digits(), family, params, 1);
  const dir = tmpDir();
  await writeMatrixCase(c, dir);
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: c.truth.roles.label,
    id: c.truth.roles.id,
    threads: 1,
  });
  const ids = c.incoming.map((r) => String(r[c.truth.roles.id as string]));
  const quarantined = ids.filter((_id, i) => run.quarantined[i]);
  const triggers = run.report.findings.filter((f) => f.rule === 'audit/trigger');
  run.source.close();
  return { truth: new Set(c.truth.poisoned), quarantined, triggers, n: ids.length };
}

describe('trigger mining in a table tells a region of its label from a plant', () => {
  it('confirms no trigger in a clean digits batch with 100 trusted rows', async () => {
    // With every suspect pattern of a row removed, a region of sixes lost 48 of its 64 pixels and read as
    // another digit, against sixes read whole: "pixel_1_1 < 2 & pixel_2_5 < 1 & pixel_6_6 >= 11" was confirmed
    // as a trigger and 110 clean rows (6.5%) were quarantined. Read with only its own pixels removed, against
    // sixes with the same three pixels removed, the region reads as sixes do.
    const r = await auditCell('clean', { trusted: 100 });
    expect(r.triggers.map((f) => f.message)).toEqual([]);
    expect(r.quarantined.length / r.n).toBeLessThanOrEqual(0.002);
  }, 120_000);

  it('still finds a two-pixel conjunction planted in 10% of the rows with 100 trusted rows', async () => {
    const r = await auditCell('tabular-conjunction', { k: 2, target: 'minority', rate: 0.1, trusted: 100 });
    const hit = r.quarantined.filter((id) => r.truth.has(id)).length;
    expect(r.truth.size).toBe(170);
    expect(hit / r.truth.size).toBeGreaterThanOrEqual(0.9);
    expect(hit / Math.max(1, r.quarantined.length)).toBeGreaterThanOrEqual(0.9);
    expect(r.triggers.length).toBeGreaterThan(0);
  }, 120_000);
});
