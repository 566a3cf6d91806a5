/**
 * Issue 10, class 2: labelers who flip in one direction or one class pair, found by the whole audit (every
 * registered detector) on generated batches: before the per-cell test, rates over all of a labeler's rows
 * diluted them and nothing was found.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { rng, sentence, tmpDir, writeCsv } from '../helpers.js';

async function audit(dir: string, extra: { text?: string; labeler: string }) {
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    ...extra,
    threads: 1,
  });
  try {
    const q = new Set<number>();
    for (let i = 0; i < run.incoming.dataset.n; i++) if (run.quarantined[i]) q.add(i);
    return { q, report: run.report };
  } finally {
    run.source.close();
  }
}

function precisionRecall(q: Set<number>, truth: Set<number>) {
  let tp = 0;
  for (const i of q) if (truth.has(i)) tp++;
  return { precision: q.size ? tp / q.size : 0, recall: truth.size ? tp / truth.size : 0 };
}

describe('labelers judged per cell (predicted class -> given label)', () => {
  it('finds two of twelve labelers who relabel half their positive reviews negative (one direction)', async () => {
    const dir = tmpDir();
    const r = rng(21);
    const row = () => {
      const y = r() < 0.5 ? 1 : 0;
      return { text: sentence(r, y), y };
    };
    writeCsv(
      join(dir, 'trusted.csv'),
      ['text', 'label'],
      Array.from({ length: 400 }, () => {
        const x = row();
        return [x.text, x.y ? 'pos' : 'neg'];
      }),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 4800; i++) {
      const x = row();
      const who = i % 12;
      let y = x.y;
      if ((who === 3 || who === 8) && y === 1 && r() < 0.5) {
        y = 0;
        truth.add(i);
      }
      rows.push([x.text, y ? 'pos' : 'neg', `labeler-${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), ['text', 'label', 'labeler'], rows);
    const { q, report } = await audit(dir, { text: 'text', labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = report.findings
      .filter((f) => f.rule === 'audit/label-cells')
      .map((f) => f.evidence?.account);
    expect(named.sort()).toEqual(['labeler-3', 'labeler-8']);
  }, 120_000);

  it('finds two of fifteen labelers who swap two classes of a six-class table', async () => {
    const dir = tmpDir();
    const r = rng(22);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const classes = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const row = () => {
      const c = Math.floor(r() * 6);
      const x = [0, 1, 2, 3].map((d) =>
        (((c >> d) & 1) * 2.5 + (d === 3 ? c * 0.8 : 0) + gauss()).toFixed(3),
      );
      return { x, c };
    };
    const header = ['x0', 'x1', 'x2', 'x3', 'label'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 900 }, () => {
        const v = row();
        return [...v.x, classes[v.c]];
      }),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 5600; i++) {
      const v = row();
      const who = i % 15;
      let c = v.c;
      if ((who === 5 || who === 11) && (c === 2 || c === 3) && r() < 0.6) {
        c = c === 2 ? 3 : 2;
        truth.add(i);
      }
      rows.push([...v.x, classes[c], `analyst ${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
    const t0 = Date.now();
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = new Set(
      report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
    );
    expect([...named].sort()).toEqual(['analyst 11', 'analyst 5']);
    expect(report.classes.sort()).toEqual([...classes].sort());
    expect((Date.now() - t0) / 1000).toBeLessThan(60);
  }, 120_000);

  it('finds two of twelve labelers who flip labels at random across eight classes (many thin cells)', async () => {
    const dir = tmpDir();
    const r = rng(23);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const K = 8;
    const classes = Array.from({ length: K }, (_, c) => `class ${c}`);
    const row = () => {
      const c = Math.floor(r() * K);
      const x = [0, 1, 2].map((d) => (((c >> d) & 1) * 4 + gauss()).toFixed(3));
      return { x, c };
    };
    const header = ['x0', 'x1', 'x2', 'label'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 800 }, () => {
        const v = row();
        return [...v.x, classes[v.c]];
      }),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 6000; i++) {
      const v = row();
      const who = i % 12;
      let c = v.c;
      // A rogue relabels 30% of its rows to any other class: about 4 rows per cell, each cell too thin alone.
      if ((who === 2 || who === 7) && r() < 0.3) {
        c = (c + 1 + Math.floor(r() * (K - 1))) % K;
        truth.add(i);
      }
      rows.push([...v.x, classes[c], `labeler ${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = new Set(
      report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
    );
    expect([...named].sort()).toEqual(['labeler 2', 'labeler 7']);
  }, 120_000);

  it('finds random flippers where the reference model is weak and no single cell stands out, and names no honest labeler of uneven care', async () => {
    // Nine overlapping classes: the reference model reads about two labels in three right, so honest
    // labelers are contradicted a third of the time; 300 rows a labeler, so a rogue's 90 flips, spread over 72
    // cells, lift no cell.
    const K = 9;
    const classes = Array.from({ length: K }, (_, c) => `topic ${c}`);
    const make = (seed: number, rogues: number[]) => {
      const dir = tmpDir();
      const r = rng(seed);
      const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      const row = () => {
        const c = Math.floor(r() * K);
        const x = [0, 1, 2].map((d) => (Math.cos(c + d * 2.1) * 3.2 + gauss()).toFixed(3));
        return { x, c };
      };
      const header = ['x0', 'x1', 'x2', 'label'];
      writeCsv(
        join(dir, 'trusted.csv'),
        header,
        Array.from({ length: 300 }, () => {
          const v = row();
          return [...v.x, classes[v.c]];
        }),
      );
      const truth = new Set<number>();
      const rows: string[][] = [];
      for (let i = 0; i < 3600; i++) {
        const v = row();
        const who = i % 12;
        let c = v.c;
        // Honest labelers err at random too, each at its own rate (1% to 3.5%); a rogue relabels 30%.
        const err = rogues.includes(who) ? 0.3 : 0.01 + (who % 6) * 0.005;
        if (r() < err) {
          c = (c + 1 + Math.floor(r() * (K - 1))) % K;
          if (rogues.includes(who)) truth.add(i);
        }
        rows.push([...v.x, classes[c], `labeler ${who}`]);
      }
      writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
      return { dir, truth };
    };
    const attacked = make(24, [4, 9]);
    const a = await audit(attacked.dir, { labeler: 'labeler' });
    const named = a.report.findings.filter((f) => f.rule === 'audit/label-cells');
    expect(named.map((f) => f.evidence?.account).sort()).toEqual(['labeler 4', 'labeler 9']);
    expect(
      named.every(
        (f) => f.severity === 'high' && /contradicts \d+% of its \d+ labels across classes/.test(f.message),
      ),
    ).toBe(true);
    const pr = precisionRecall(a.q, attacked.truth);
    // Its strongly contradicted rows (label-cells) and the rest of its contradicted ones (audit/contributors).
    expect(pr.precision).toBeGreaterThanOrEqual(0.8);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    const clean = make(25, []);
    const c = await audit(clean.dir, { labeler: 'labeler' });
    // (Their own honest mistakes are other detectors' business.)
    expect(c.report.findings.filter((f) => f.rule === 'audit/label-cells')).toEqual([]);
  }, 180_000);
});
