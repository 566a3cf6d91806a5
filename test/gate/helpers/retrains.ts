/** Clean retrains for the false-alarm test and benchmark: Antidote's learner on seeded samples of the Adult pool. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGate } from '../../../src/gate/gate.js';
import { trainLearnerModel } from '../../../src/gate/models/in-process.js';
import {
  ADULT_CATEGORICAL,
  ADULT_NUMERIC,
  adultSplit,
  batchOf,
  labelsOf,
  type Rows,
  seeded,
  writeCsv,
} from './data.js';

export async function cleanRetrains(count: number, opts: { trainRows: number; trustedRows?: number }) {
  const { trusted, pool } = adultSplit();
  const tmp = mkdtempSync(join(tmpdir(), 'antidote-gate-fa-'));
  const TRUSTED = join(tmp, 'trusted.csv');
  writeCsv(TRUSTED, {
    header: trusted.header,
    rows: trusted.rows.slice(0, opts.trustedRows ?? trusted.rows.length),
  });
  const classes = ['<=50K', '>50K'];
  const spec = { numeric: ADULT_NUMERIC, categorical: ADULT_CATEGORICAL, hashBits: 14, maxIter: 60 };
  const sample = (seed: number): Rows => {
    const r = seeded(seed);
    const rows = pool.rows.filter(() => r() < opts.trainRows / pool.rows.length);
    return { header: pool.header, rows };
  };
  const train = (rows: Rows) =>
    trainLearnerModel(batchOf(rows, ADULT_NUMERIC), labelsOf(rows, 'income', classes), 2, spec);
  const incumbent = train(sample(1000));
  const outcomes: Array<{ seed: number; decision: string; reasons: string[] }> = [];
  try {
    for (let s = 1; s <= count; s++) {
      const candidate = train(sample(s));
      const r = await runGate({
        trusted: TRUSTED,
        label: 'income',
        incumbent,
        candidate,
        probe: 'auto',
        settings: { seed: s },
      });
      outcomes.push({ seed: s, decision: r.decision, reasons: r.reasons });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return outcomes;
}
