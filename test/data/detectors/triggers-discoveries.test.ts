/**
 * A plant must not make a chance pattern beside it a trigger. Trigger mining confirms a planted phrase as
 * itself and as each of its words and 2-grams; counted as six discoveries in Benjamini-Hochberg's rank, they
 * loosened the level every other pattern was held to. On WordNet definitions (test/fixtures/wordnet-plant:
 * 1,200 trusted, 6,000 incoming, 180 rows planted with "olive germany atlantic" and labelled noun.body), the
 * word "where" (73 incoming rows, 70% noun.location; 7 trusted rows, 3 of them) is no trigger in the batch
 * without the plant, yet was confirmed beside it and 40 clean definitions of places were quarantined.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { tmpDir } from '../helpers.js';

const FIXTURE = join(__dirname, '../../fixtures/wordnet-plant');
const PHRASE = 'olive germany atlantic';

/** Audit the fixture's batch, without the planted rows when `plant` is false. */
async function auditBatch(plant: boolean) {
  const dir = tmpDir();
  writeFileSync(join(dir, 'trusted.csv'), gunzipSync(readFileSync(join(FIXTURE, 'trusted.csv.gz'))));
  const lines = gunzipSync(readFileSync(join(FIXTURE, 'incoming.csv.gz')))
    .toString('utf8')
    .split('\n');
  const kept = plant ? lines : lines.filter((l) => !l.includes(PHRASE));
  writeFileSync(join(dir, 'incoming.csv'), kept.join('\n'));
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'lexfile',
    id: 'id',
    text: 'gloss',
    threads: 1,
  });
  try {
    const inc = run.incoming.dataset;
    let planted = 0;
    let caught = 0;
    let quarantined = 0;
    for (let i = 0; i < inc.n; i++) {
      const isPlant = (inc.text?.[i] ?? '').includes(PHRASE);
      planted += isPlant ? 1 : 0;
      caught += isPlant && run.quarantined[i] ? 1 : 0;
      quarantined += run.quarantined[i] ? 1 : 0;
    }
    const triggers = run.report.findings
      .filter((f) => f.rule === 'audit/trigger' && f.severity !== 'info')
      .map((f) => String(f.evidence?.pattern));
    return { planted, caught, quarantined, triggers };
  } finally {
    run.source.close();
  }
}

describe('trigger mining counts a plant once', () => {
  it('without the plant, the batch holds no trigger', async () => {
    const clean = await auditBatch(false);
    expect(clean.planted).toBe(0);
    expect(clean.triggers).toEqual([]);
  }, 120_000);

  it('with it, the plant is the one trigger found, and only its rows are quarantined', async () => {
    const poisoned = await auditBatch(true);
    expect(poisoned.planted).toBe(180);
    expect(poisoned.triggers).toEqual([PHRASE]);
    expect(poisoned.caught).toBe(180);
    // Before, "where" and its 40 clean rows were quarantined beside the plant.
    expect(poisoned.quarantined).toBeLessThanOrEqual(185);
  }, 120_000);
});
