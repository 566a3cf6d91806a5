/**
 * Issue 10, class 3: targeted flips (the rows nearest one point relabelled, sent by 3 of 27 accounts) on a
 * small numeric table. Before the neighbour test nothing was found; now the pocket is quarantined and the
 * finding names the accounts. A clean batch of the same table quarantines nothing through this detector.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { gaussian, rng, tmpDir, writeCsv } from '../helpers.js';

function table(seed: number, n: number) {
  const r = rng(seed);
  const gauss = gaussian(r);
  return Array.from({ length: n }, () => {
    const x = [gauss(), gauss(), gauss(), gauss()];
    const y = x[0] + 0.5 * x[1] + 0.3 * gauss() > 0 ? 'approve' : 'deny';
    return { x, y, account: `acct-${Math.floor(r() * 27)}` };
  });
}

async function audit(dir: string) {
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    source: 'account',
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

const header = ['x0', 'x1', 'x2', 'x3', 'label', 'account'];
const csvRow = (v: { x: number[]; y: string; account: string }) => [
  ...v.x.map((a) => a.toFixed(4)),
  v.y,
  v.account,
];

describe('targeted flips: a pocket of labels their trusted neighbours contradict', () => {
  it('quarantines the 20 rows relabelled around one point and names the 3 accounts that sent them', async () => {
    const dir = tmpDir();
    writeCsv(join(dir, 'trusted.csv'), header, table(51, 400).map(csvRow));
    const rows = table(52, 3000);
    // The target: a point well inside "deny"; its 20 nearest "deny" rows are relabelled "approve".
    const target = [-1.2, -0.4, 0.3, 0.1];
    const dist = (x: number[]) => x.reduce((t, v, j) => t + (v - target[j]) ** 2, 0);
    const nearest = rows
      .map((v, i) => ({ i, d: dist(v.x), y: v.y }))
      .filter((v) => v.y === 'deny')
      .sort((a, b) => a.d - b.d)
      .slice(0, 20)
      .map((v) => v.i);
    const senders = ['acct-3', 'acct-7', 'acct-19'];
    const truth = new Set(nearest);
    nearest.forEach((i, k) => {
      rows[i].y = 'approve';
      rows[i].account = senders[k % 3];
    });
    writeCsv(join(dir, 'incoming.csv'), header, rows.map(csvRow));
    const { q, report } = await audit(dir);
    let tp = 0;
    for (const i of q) if (truth.has(i)) tp++;
    expect(tp / truth.size).toBeGreaterThanOrEqual(0.8);
    expect(tp / Math.max(1, q.size)).toBeGreaterThanOrEqual(0.7);
    const f = report.findings.find((x) => x.rule === 'audit/local-labels');
    expect(f).toBeDefined();
    for (const a of senders) expect(f!.message).toContain(`"${a}"`);
  }, 60_000);

  it('flags at most 0.2% of a clean batch of the same table', async () => {
    const dir = tmpDir();
    writeCsv(join(dir, 'trusted.csv'), header, table(53, 400).map(csvRow));
    writeCsv(join(dir, 'incoming.csv'), header, table(54, 3000).map(csvRow));
    const { report } = await audit(dir);
    const run = report.detectors.find((d) => d.id === 'audit/local-labels');
    expect(run?.status).toBe('ran');
    expect(run?.flaggedRows).toBeLessThanOrEqual(6);
    expect(report.findings.filter((f) => f.rule === 'audit/local-labels' && f.severity === 'high')).toEqual(
      [],
    );
  }, 60_000);
});
