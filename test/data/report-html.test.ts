/**
 * The audit's HTML report draws the trigger-candidate chart only when some candidate carries evidence: a clean
 * numeric batch mines candidates that all have p = 1, and a chart of zero-length bars would say nothing. (The
 * ONION test in test/cli/audit.test.ts checks the chart is drawn when triggers are found.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/data/audit.js';
import { renderAuditHtml } from '../../src/data/report-html.js';
import { rng, tmpDir, writeCsv } from './helpers.js';

describe('audit report.html', () => {
  it('leaves out the trigger chart when no candidate carries any evidence', async () => {
    const dir = tmpDir();
    const r = rng(11);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const row = () => {
      const y = r() < 0.5 ? 1 : 0;
      return [(y + gauss()).toFixed(3), (y + gauss()).toFixed(3), String(y)];
    };
    writeCsv(join(dir, 'trusted.csv'), ['a', 'b', 'label'], Array.from({ length: 400 }, row));
    writeCsv(join(dir, 'incoming.csv'), ['a', 'b', 'label'], Array.from({ length: 3000 }, row));
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'label',
      threads: 1,
    });
    run.source.close();
    const candidates = run.report.charts.triggers as Array<{ p: number }>;
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((c) => c.p === 1)).toBe(true);
    const html = await renderAuditHtml(run.report);
    expect(html).not.toContain('Trigger candidates');
    expect(html).toContain('What the audit could see');
  }, 60_000);
});
