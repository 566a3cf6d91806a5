/**
 * The campaign step of trigger mining gives more of the error budget to candidates shaped like a confirmed
 * trigger (same label and form, unseen by the trusted set): it confirms those members of a would-be trigger set
 * only, never a pattern of another label that failed the first test, and a region of its label (a table's
 * natural pattern) seeds no campaign. Every batch is one of the audit matrix's own cells, generated from
 * scikit-learn's digits.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCell } from '../../../src/data/generators/matrix-attacks.js';
import { loadMatrixDataset } from '../../../src/data/generators/matrix-datasets.js';
import { FIXTURES } from '../../helpers/cli.js';
import { auditMatrixCell } from './audit-csv.js';

const digits = () =>
  loadMatrixDataset('digits', {
    shared: FIXTURES,
    sklearn: join(FIXTURES, 'data', 'digits'),
    vega: FIXTURES,
  });

describe('the campaign step confirms members of a trigger set only', () => {
  it('confirms only the campaign trigger in a digits batch, not a region of eights beside it', async () => {
    // Three new accounts send 15 digits given a 2x2 patch in the bottom-right corner and labelled 4, and 5
    // cover rows. Once the patch was confirmed, the campaign step also confirmed "pixel_3_2 in [3, 7) &
    // pixel_5_4 in [11, 15) & pixel_6_2 in [12, 15)" (6 natural eights, no member: another label) on a label
    // shift of p 0.04, the nominal bar meant for the trigger set's own members: 6 clean rows were quarantined.
    const c = generateCell(
      digits(),
      'campaign',
      { accounts: 3, payload: 'trigger', target: 'minority', rate: 0.01, trusted: 0.2 },
      1,
    );
    const run = await auditMatrixCell(c, { source: 'source' });
    const ids = c.incoming.map((r) => String(r[c.truth.roles.id as string]));
    const truth = new Set(c.truth.poisoned);
    const campaign = new Set(c.truth.details.accounts as string[]);
    const fromOthers = ids.filter(
      (_id, i) => run.quarantined[i] && !campaign.has(String(c.incoming[i].source)),
    );
    const hit = ids.filter((id, i) => run.quarantined[i] && truth.has(id)).length;
    const triggers = run.report.findings.filter((f) => f.rule === 'audit/trigger');
    run.source.close();
    expect(truth.size).toBe(15);
    expect(hit).toBe(15);
    expect(triggers.map((f) => f.message).filter((m) => / labelled 8 /.test(m))).toEqual([]);
    expect(fromOthers).toEqual([]);
  }, 120_000);

  it('lets no region of twos seed a campaign beside a 17-row corner patch (100 trusted rows)', async () => {
    // A 2x2 checkerboard in the top-left corner on 17 digits labelled 0. The first test also confirmed regions
    // of twos ("pixel_4_3 < 4 & pixel_5_1 < 2 & pixel_6_3 >= 15": without its pixels its rows read as twos,
    // P(2) 0.72 against 0.79 for twos and 0.02 for other digits), later removed as regions; they had seeded a
    // campaign of twos, and the campaign step confirmed "pixel_1_1 in [4, 6) & pixel_4_2 < 5 & pixel_6_3 >= 15"
    // on a label shift of p 0.002: 18 clean twos were quarantined (P 0.47).
    const c = generateCell(
      digits(),
      'pixel-patch',
      { patch: 'tl', target: 'random', rate: 0.01, trusted: 100 },
      2,
    );
    const run = await auditMatrixCell(c);
    const ids = c.incoming.map((r) => String(r[c.truth.roles.id as string]));
    const truth = new Set(c.truth.poisoned);
    const quarantined = ids.filter((_id, i) => run.quarantined[i]);
    const triggers = run.report.findings.filter((f) => f.rule === 'audit/trigger');
    run.source.close();
    const hit = quarantined.filter((id) => truth.has(id)).length;
    expect(truth.size).toBe(17);
    expect(triggers.map((f) => f.message).filter((m) => / labelled 2 /.test(m))).toEqual([]);
    expect(hit / truth.size).toBeGreaterThanOrEqual(0.9);
    expect(hit / Math.max(1, quarantined.length)).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
