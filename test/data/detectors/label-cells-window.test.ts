/**
 * A labeler conditioned slowly starts flipping late in the batch: audit/label-cells names it, and with a time
 * column says in which of the audit's time windows its flips first stood out from its peers', where its review
 * should begin. Two of twelve labelers relabel half their positive reviews negative from the fifth of eight
 * windows on; before, the finding named them with no time at all.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { review, rng, tmpDir, writeCsv, writeReviews } from '../helpers.js';

describe('a labeler whose flips begin mid-batch', () => {
  it('is named with the window in which its flips stood out, not before they began', async () => {
    const dir = tmpDir();
    const r = rng(31);
    const row = () => review(r);
    writeReviews(join(dir, 'trusted.csv'), r, 400);
    const n = 4800;
    const start = Date.parse('2026-01-01T00:00:00Z');
    const rows: string[][] = [];
    for (let i = 0; i < n; i++) {
      const x = row();
      const who = i % 12;
      let y = x.y;
      // Rows arrive in time order, 600 a window: flips from row 2,400 (window 5) on.
      if ((who === 3 || who === 8) && i >= n / 2 && y === 1 && r() < 0.5) y = 0;
      rows.push([x.text, y ? 'pos' : 'neg', `labeler-${who}`, new Date(start + i * 60_000).toISOString()]);
    }
    writeCsv(join(dir, 'incoming.csv'), ['text', 'label', 'labeler', 'at'], rows);
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'label',
      text: 'text',
      labeler: 'labeler',
      time: 'at',
      threads: 1,
    });
    try {
      const found = run.report.findings.filter((f) => f.rule === 'audit/label-cells');
      expect(found.map((f) => f.evidence?.account).sort()).toEqual(['labeler-3', 'labeler-8']);
      for (const f of found) {
        const w = Number(f.evidence?.firstWindow);
        expect(w).toBeGreaterThanOrEqual(5);
        expect(w).toBeLessThanOrEqual(8);
        expect(f.message).toMatch(new RegExp(`by the end of window ${w} of 8 \\(the one starting 2026-01-0`));
      }
    } finally {
      run.source.close();
    }
  }, 120_000);
});
