/**
 * Issue 10, class 9 (a weak trusted model): with 100 trusted rows of ten classes, a model of the trusted rows
 * alone is far from the truth, so every label-side detector judged labels by a model that could not see the
 * flips. The reference is now cross-fitted on the batch (folds by labeler, trusted rows weighted up) when it
 * predicts the trusted labels better, and a one-direction labeler in a ten-class batch is caught.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { gaussian, rng, tmpDir, writeCsv } from '../helpers.js';

const K = 10;
const D = 40;

/** Ten Gaussian classes in forty weak dimensions: learnable from thousands of rows, not from ten per class (60% vs 95%). */
function generator(seed: number) {
  const r = rng(seed);
  const gauss = gaussian(r);
  const means = Array.from({ length: K }, () => Array.from({ length: D }, () => 0.7 * gauss()));
  const row = (c: number) => means[c].map((m) => (m + gauss()).toFixed(3));
  return { r, row };
}

describe('label flips judged with a 100-row trusted set of ten classes', () => {
  it('catches one labeler of twelve who relabels half its class-3 rows as class 7', async () => {
    const dir = tmpDir();
    const { r, row } = generator(71);
    const cols = Array.from({ length: D }, (_, d) => `f${d}`);
    writeCsv(
      join(dir, 'trusted.csv'),
      [...cols, 'label'],
      Array.from({ length: 100 }, (_, i) => [...row(i % K), `c${i % K}`]),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 6000; i++) {
      const c = Math.floor(r() * K);
      const who = i % 12;
      let y = c;
      if (who === 5 && c === 3 && r() < 0.5) {
        y = 7;
        truth.add(i);
      }
      rows.push([...row(c), `c${y}`, `labeler-${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...cols, 'label', 'labeler'], rows);
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'label',
      labeler: 'labeler',
      threads: 1,
    });
    try {
      const q: number[] = [];
      for (let i = 0; i < run.incoming.dataset.n; i++) if (run.quarantined[i]) q.push(i);
      const tp = q.filter((i) => truth.has(i)).length;
      const report = run.report;
      const info = report.findings.find((f) => f.rule === 'audit/disagreement' && f.severity === 'info');
      const ev = info?.evidence as { trustedCvAccuracy: number; crossFitAccuracy: number; reference: string };
      // The trusted rows alone are a weak model; with the batch cross-fitted beside them, a much better one.
      expect(ev.trustedCvAccuracy).toBeLessThan(0.75);
      expect(ev.crossFitAccuracy).toBeGreaterThan(ev.trustedCvAccuracy + 0.1);
      expect(ev.reference).toBe('cross-fit');
      expect(tp / truth.size).toBeGreaterThanOrEqual(0.8);
      expect(tp / Math.max(1, q.length)).toBeGreaterThanOrEqual(0.7);
      const named = report.findings
        .filter((f) => f.rule === 'audit/label-cells')
        .map((f) => f.evidence?.account);
      expect(named).toEqual(['labeler-5']);
    } finally {
      run.source.close();
    }
  }, 300_000);
});
