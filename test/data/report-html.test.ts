/**
 * The audit's HTML report draws the trigger-candidate chart only when some candidate carries evidence: a clean
 * numeric batch mines candidates that all have p = 1, and a chart of zero-length bars would say nothing. It
 * draws the confirmed triggers first. (The ONION test in test/cli/audit.test.ts checks the chart is drawn when
 * triggers are found.)
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/data/audit.js';
import { renderAuditHtml } from '../../src/data/report-html.js';
import { gaussian, rng, tmpDir, writeCsv } from './helpers.js';

/** The audit report of dir's trusted.csv and incoming.csv (label column `label`). */
async function auditReport(dir: string) {
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    threads: 1,
  });
  run.source.close();
  return run.report;
}

/** The audit report of a small table of one column (60 trusted rows, 200 incoming), whose charts a test sets. */
async function smallReport() {
  const dir = tmpDir();
  const rows = (n: number) => Array.from({ length: n }, (_, i) => [String(i % 7), String(i % 2)]);
  writeCsv(join(dir, 'trusted.csv'), ['a', 'label'], rows(60));
  writeCsv(join(dir, 'incoming.csv'), ['a', 'label'], rows(200));
  return auditReport(dir);
}

describe('audit report.html', () => {
  it('leaves out the trigger chart when no candidate carries any evidence', async () => {
    const dir = tmpDir();
    const r = rng(11);
    const gauss = gaussian(r);
    const row = () => {
      const y = r() < 0.5 ? 1 : 0;
      return [(y + gauss()).toFixed(3), (y + gauss()).toFixed(3), String(y)];
    };
    writeCsv(join(dir, 'trusted.csv'), ['a', 'b', 'label'], Array.from({ length: 400 }, row));
    writeCsv(join(dir, 'incoming.csv'), ['a', 'b', 'label'], Array.from({ length: 3000 }, row));
    const report = await auditReport(dir);
    const candidates = report.charts.triggers as Array<{ p: number }>;
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((c) => c.p === 1)).toBe(true);
    const html = await renderAuditHtml(report);
    expect(html).not.toContain('Trigger candidates');
    expect(html).toContain('What the audit could see');
  }, 60_000);

  it('draws the confirmed triggers in the candidate chart first, however many candidates have a smaller p', async () => {
    const report = await smallReport();
    // Thirty supersets of one plant tie on a smaller p than the pattern explaining away kept.
    const candidate = (pattern: string, p: number, confirmed: boolean) => ({
      pattern,
      label: '1',
      p,
      incoming: 93,
      trusted: 1,
      confirmed,
    });
    report.charts.triggers = [
      ...Array.from({ length: 30 }, (_, k) => candidate(`superset-${k} & capitalTotal=67`, 1e-9, false)),
      candidate('kept & capitalTotal=67', 1e-6, true),
    ];
    const html = await renderAuditHtml(report);
    expect(html).toContain('Trigger candidates');
    expect(html).toMatch(/kept (&|&amp;|\\u0026) capitalTotal=67/);
    expect(html).toMatch(/superset-0 /);
    expect(html).not.toMatch(/superset-29 /);
  }, 60_000);

  it('draws the label rate by window when a label holds a dot', async () => {
    // Shuttle's radiator states ("Rad.Flow", "Fpv.Open"): folded as field names, a dot reads as a nested path and
    // the chart was drawn empty.
    const report = await smallReport();
    report.charts.labelRateByWindow = [1, 2, 3].map((w) => ({
      window: w,
      start: `2026-01-0${w}T00:00:00Z`,
      end: `2026-01-0${w}T23:00:00Z`,
      'Rad.Flow': 0.8 - w / 100,
      'Fpv.Open': 0.2 + w / 100,
    }));
    const html = await renderAuditHtml(report);
    const chart = html.slice(html.indexOf('Label rate by time window'));
    const svg = chart.slice(0, chart.indexOf('</svg>'));
    // Two lines with a point per window, and both labels in the legend.
    expect(svg.match(/role-mark[^>]*mark-line|mark-line[^>]*role-mark/g)?.length ?? 0).toBeGreaterThan(0);
    expect(svg).toContain('Rad.Flow');
    expect(svg).toContain('Fpv.Open');
  }, 60_000);
});
