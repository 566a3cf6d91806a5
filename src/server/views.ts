/**
 * What the dashboard shows besides JSON: charts rendered on the server from vega-lite specs by the same
 * component the HTML reports use (src/report/charts.ts: inline SVG, no script, text escaped by vega's SVG
 * renderer), the runs' HTML reports from the commands' own renderers, and the front end's files.
 */
import { readFile } from 'node:fs/promises';
import { chartSvg } from '../report/charts.js';
import type { Views } from './app.js';
import { lineage } from './lineage.js';
import { APP_CSS, INDEX_HTML } from './ui-shell.js';

const DECISION_COLOURS = {
  domain: ['promote', 'promote-with-caveats', 'block'],
  range: ['#2e7d32', '#b26a00', '#c62828'],
};

/**
 * Rendering a model's charts takes a second or two with vega on a busy machine; a model's history only grows,
 * so the charts are kept per (model, gate runs, baseline) and re-rendered when a run or a new baseline arrives.
 */
type Cached = (key: string, make: () => Promise<unknown>) => Promise<unknown>;

function cacheOf(): Cached {
  const cache = new Map<string, Promise<unknown>>();
  return (key, make) => {
    let p = cache.get(key);
    if (!p) {
      if (cache.size > 200) cache.clear();
      p = make();
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
}

function modelCharts(cached: Cached, h: Parameters<Views['modelCharts']>[0]) {
  const last = h.gates[h.gates.length - 1];
  return cached(`model\0${h.name}\0${h.gates.length}\0${last?.runId}\0${h.baseline}`, () =>
    renderModelCharts(h),
  );
}

async function renderModelCharts(h: Parameters<Views['modelCharts']>[0]) {
  const l = lineage(h);
  const order = l.versions.map((v) => v.label);
  const timeline = await chartSvg({
    title: 'Versions over time and the gate decision on each',
    width: 640,
    height: Math.max(60, 22 * order.length),
    data: { values: l.versions.map((v) => ({ version: v.label, at: v.createdAt, decision: v.decision })) },
    mark: { type: 'point', filled: true, size: 120 },
    encoding: {
      x: { field: 'at', type: 'temporal', title: 'gate run' },
      y: { field: 'version', type: 'ordinal', sort: order, title: null },
      color: { field: 'decision', type: 'nominal', scale: DECISION_COLOURS, title: 'gate' },
      shape: { field: 'decision', type: 'nominal', title: 'gate' },
    },
  });
  const scopes = ['overall', ...l.slices];
  const ridgeRows: Array<Record<string, unknown>> = [];
  for (const v of l.versions)
    for (const scope of scopes) {
      const c = scope === 'overall' ? v.overall : v.slices[scope];
      if (!c) continue;
      const total = c.reduce((a, b) => a + b, 0) || 1;
      c.forEach((x, i) => {
        ridgeRows.push({
          version: v.label,
          scope,
          bin: i / c.length,
          end: (i + 1) / c.length,
          share: x / total,
          decision: v.decision,
        });
      });
      // A step area ends at its last point: close the last bin at 1 so it is drawn.
      ridgeRows.push({
        version: v.label,
        scope,
        bin: 1,
        end: 1,
        share: c[c.length - 1] / total,
        decision: v.decision,
      });
    }
  const ridges = await chartSvg({
    title: 'Output distribution on the trusted set, per version (rows) and slice (columns)',
    data: { values: ridgeRows },
    facet: {
      row: {
        field: 'version',
        type: 'ordinal',
        sort: order,
        title: null,
        header: { labelAngle: 0, labelAlign: 'left' },
      },
      column: { field: 'scope', type: 'nominal', sort: scopes, title: null },
    },
    spec: {
      width: 150,
      height: 34,
      mark: { type: 'area', interpolate: 'step-after', opacity: 0.75 },
      encoding: {
        x: { field: 'bin', type: 'quantitative', title: 'score', scale: { domain: [0, 1] } },
        y: { field: 'share', type: 'quantitative', title: null, axis: null },
        color: { field: 'decision', type: 'nominal', scale: DECISION_COLOURS, title: 'gate' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
  const shiftRows: Array<Record<string, unknown>> = [];
  for (const v of l.versions) {
    for (const [scope, psi] of Object.entries(v.vsBaseline))
      shiftRows.push({ version: v.label, scope, against: 'baseline', psi });
    for (const [scope, psi] of Object.entries(v.vsPredecessor))
      shiftRows.push({ version: v.label, scope, against: 'predecessor', psi });
    if (v.regionShift)
      shiftRows.push({
        version: v.label,
        scope: 'region named by the gate',
        against: 'predecessor',
        psi: v.regionShift.psi,
      });
  }
  const shift = await chartSvg({
    title: 'Shift (PSI) of each version against the pinned baseline and its predecessor',
    data: { values: shiftRows },
    facet: { column: { field: 'scope', type: 'nominal', title: null } },
    spec: {
      width: 180,
      height: 140,
      layer: [
        { mark: { type: 'rule', color: '#f0a8a8', strokeDash: [4, 3] }, encoding: { y: { datum: 0.1 } } },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'version', type: 'ordinal', sort: order, title: null },
            y: { field: 'psi', type: 'quantitative', title: 'PSI' },
            color: { field: 'against', type: 'nominal', title: 'against' },
          },
        },
      ],
    },
  });
  const regionRows: Array<Record<string, unknown>> = [];
  // Only versions that moved in their region (PSI at least 0.1) or were blocked: the rest is noise.
  for (const v of l.versions) {
    if (!v.region || !((v.regionShift?.psi ?? 0) >= 0.1 || v.decision === 'block')) continue;
    for (const role of ['incumbent', 'candidate'] as const) {
      const d = h.distributions.find(
        (x) => x.runId === v.runId && x.role === role && x.scope === 'region' && x.slice === v.region,
      );
      if (!d) continue;
      const total = d.counts.reduce((a, b) => a + b, 0) || 1;
      d.counts.forEach((x, i) => {
        regionRows.push({
          panel: `${v.label}: ${v.region}`,
          series: role === 'candidate' ? 'this version' : 'predecessor',
          bin: i / d.counts.length,
          end: (i + 1) / d.counts.length,
          share: x / total,
        });
      });
    }
  }
  const regions = regionRows.length
    ? await chartSvg({
        title: 'In the region each gate named: this version against its predecessor',
        data: { values: regionRows },
        facet: { field: 'panel', type: 'nominal', title: null, columns: 2 },
        spec: {
          width: 190,
          height: 80,
          mark: { type: 'bar', opacity: 0.55, binSpacing: 0 },
          encoding: {
            x: { field: 'bin', type: 'quantitative', bin: { binned: true }, title: 'score' },
            x2: { field: 'end' },
            y: { field: 'share', type: 'quantitative', stack: null, title: 'share' },
            color: {
              field: 'series',
              type: 'nominal',
              scale: { domain: ['predecessor', 'this version'], range: ['#8a99a8', '#d62728'] },
              title: null,
            },
          },
        },
      })
    : null;
  return { svg: { timeline, ridges, shift, regions } };
}

/** Most columns of the per-source and per-labeler heat maps. */
const MAX_COLUMNS = 60;

function dataCharts(cached: Cached, o: Parameters<Views['dataCharts']>[0], key?: string) {
  return key ? cached(`data\0${key}`, () => renderDataCharts(o)) : renderDataCharts(o);
}

async function renderDataCharts(o: Parameters<Views['dataCharts']>[0]) {
  const rates = o.batches.flatMap((b) => [
    {
      batch: b.batch ?? b.runId,
      at: b.createdAt,
      rate: b.incoming ? b.quarantined / b.incoming : 0,
      what: 'quarantined',
    },
    {
      batch: b.batch ?? b.runId,
      at: b.createdAt,
      rate: b.incoming ? b.review / b.incoming : 0,
      what: 'sent to review',
    },
  ]);
  const batches = rates.length
    ? await chartSvg({
        title: 'Quarantine and review rates per batch',
        width: 640,
        height: 160,
        data: { values: rates },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'at', type: 'temporal', title: 'batch audited' },
          y: { field: 'rate', type: 'quantitative', axis: { format: '%' }, title: 'share of rows' },
          color: { field: 'what', type: 'nominal', title: null },
        },
      })
    : null;
  const who = async (rows: typeof o.sources, title: string) => {
    if (!rows.length) return null;
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.who, (totals.get(r.who) ?? 0) + r.quarantined);
    const top = [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map((e) => e[0]);
    // One column per batch while they fit; past MAX_COLUMNS batches, equal spans of time (a column per batch
    // made a 2 MB drawing of 900 batches that the browser took seconds to lay out).
    const picked = rows.filter((r) => top.includes(r.who));
    const times = [...new Set(picked.map((r) => r.createdAt))].sort();
    const spans = times.length > MAX_COLUMNS;
    const t0 = Date.parse(times[0]);
    const width = (Date.parse(times[times.length - 1]) - t0) / MAX_COLUMNS || 1;
    const cells = new Map<string, { who: string; at: string; rows: number; quarantined: number }>();
    for (const r of picked) {
      const at = spans
        ? new Date(
            t0 + Math.min(MAX_COLUMNS - 1, Math.floor((Date.parse(r.createdAt) - t0) / width)) * width,
          ).toISOString()
        : r.createdAt;
      const key = `${r.who}\0${at}`;
      const c = cells.get(key) ?? { who: r.who, at, rows: 0, quarantined: 0 };
      c.rows += r.rows;
      c.quarantined += r.quarantined;
      cells.set(key, c);
    }
    return chartSvg({
      title: spans ? `${title}, ${times.length} batches in ${MAX_COLUMNS} spans of time` : title,
      width: 560,
      data: {
        values: [...cells.values()].map((c) => ({
          who: c.who,
          at: c.at,
          rate: c.rows ? c.quarantined / c.rows : 0,
          rows: c.rows,
        })),
      },
      mark: { type: 'rect' },
      encoding: {
        x: {
          field: 'at',
          type: 'ordinal',
          timeUnit: 'yearmonthdatehoursminutes',
          title: spans ? 'batches audited (span start)' : 'batch',
        },
        y: { field: 'who', type: 'nominal', sort: top, title: null },
        color: {
          field: 'rate',
          type: 'quantitative',
          title: 'quarantined',
          scale: { scheme: 'reds' },
          legend: { format: '%' },
        },
      },
    });
  };
  const drift = await driftCharts(o.driftWindows);
  return {
    svg: {
      batches,
      ...drift,
      sources: await who(o.sources, 'Quarantine rate per source account across batches (top 15)'),
      labelers: await who(o.labelers, 'Quarantine rate per labeler across batches (top 15)'),
    },
  };
}

/** The labels whose share moved furthest from the trusted share in some window (at most three). */
export function driftClasses(windows: Parameters<Views['dataCharts']>[0]['driftWindows']): string[] {
  const dev = new Map<string, number>();
  for (const w of windows)
    for (const [c, v] of Object.entries(w.labelRates)) {
      const base = w.trustedRates[c];
      if (v === null || base === null || base === undefined) continue;
      dev.set(c, Math.max(dev.get(c) ?? 0, Math.abs(v - base)));
    }
  const ranked = [...dev.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
  // Two labels mirror each other: one line says it all.
  return ranked.slice(0, dev.size === 2 ? 1 : 3);
}

async function driftCharts(windows: Parameters<Views['dataCharts']>[0]['driftWindows']) {
  if (!windows.length) return { driftLabels: null, driftPsi: null };
  const classes = driftClasses(windows);
  const points: Array<Record<string, unknown>> = [];
  const baselines = new Map<string, number>();
  for (const w of windows) {
    if (!w.start) continue;
    for (const c of classes) {
      const v = w.labelRates[c];
      const base = w.trustedRates[c];
      if (v === null || v === undefined) continue;
      points.push({ at: w.start, label: c, share: v, batch: w.batch ?? w.runId, window: w.window });
      if (base !== null && base !== undefined) baselines.set(c, base);
    }
  }
  const driftLabels = points.length
    ? await chartSvg({
        title: 'Label share per time window, against the trusted share (dashed)',
        width: 640,
        height: 170,
        layer: [
          {
            data: { values: points },
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'at', type: 'temporal', title: 'window start' },
              y: { field: 'share', type: 'quantitative', axis: { format: '%' }, title: 'share of rows' },
              color: { field: 'label', type: 'nominal', title: 'label' },
              detail: { field: 'batch', type: 'nominal' },
            },
          },
          {
            data: { values: [...baselines].map(([label, share]) => ({ label, share })) },
            mark: { type: 'rule', strokeDash: [5, 4] },
            encoding: {
              y: { field: 'share', type: 'quantitative' },
              color: { field: 'label', type: 'nominal', title: 'label' },
            },
          },
        ],
      })
    : null;
  const psi = windows
    .filter((w) => w.start && w.maxPsi !== null)
    .map((w) => ({ at: w.start, psi: w.maxPsi, feature: w.psiFeature ?? '', batch: w.batch ?? w.runId }));
  const driftPsi = psi.length
    ? await chartSvg({
        title: 'Largest feature shift (PSI) per window against the trusted distribution',
        width: 640,
        height: 140,
        layer: [
          {
            data: { values: psi },
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'at', type: 'temporal', title: 'window start' },
              y: { field: 'psi', type: 'quantitative', title: 'PSI' },
              detail: { field: 'batch', type: 'nominal' },
            },
          },
          {
            data: { values: [{ psi: 0.25 }] },
            mark: { type: 'rule', color: '#c62828', strokeDash: [4, 3] },
            encoding: { y: { field: 'psi', type: 'quantitative' } },
          },
        ],
      })
    : null;
  return { driftLabels, driftPsi };
}

async function reportHtml(kind: string, report: Record<string, unknown>): Promise<string> {
  if (kind === 'audit') {
    const { renderAuditHtml } = await import('../data/report-html.js');
    return renderAuditHtml(report as never);
  }
  if (kind === 'gate') {
    const { renderGateHtml } = await import('../gate/report-html.js');
    return renderGateHtml(report as never);
  }
  if (kind === 'guard') {
    const { renderGuardWindowHtml } = await import('../guard/watch/window-html.js');
    return renderGuardWindowHtml(report);
  }
  const { page, esc } = await import('../report/html.js');
  const results = Array.isArray(report.results) ? (report.results as Array<Record<string, unknown>>) : [];
  const rows = results
    .map(
      (r) =>
        `<tr><td>${esc(r.path)}</td><td>${esc(r.format)}</td><td>${esc(r.verdict)}</td><td>${esc(
          ((r.findings as Array<Record<string, unknown>>) ?? [])
            .map((f) => `${f.severity} ${f.rule}: ${f.message}`)
            .join('\n'),
        )}</td></tr>`,
    )
    .join('');
  return page(
    'antidote scan',
    `<h1>Scan</h1><table><tr><th>file</th><th>format</th><th>verdict</th><th>findings</th></tr>${rows}</table>`,
  );
}

/** The views of one server, with their own cache (a cache key is only meaningful for one store). */
export function createViews(): Views {
  const cached = cacheOf();
  return {
    modelCharts: (h) => modelCharts(cached, h),
    dataCharts: (o, key) => dataCharts(cached, o, key),
    reportHtml,
  };
}

/** The dashboard: the shell and stylesheet from the build, the script esbuild bundled into dist/server/ui. */
export async function loadAssets(): Promise<Map<string, { type: string; body: Buffer }>> {
  const m = new Map<string, { type: string; body: Buffer }>();
  m.set('/index.html', { type: 'text/html; charset=utf-8', body: Buffer.from(INDEX_HTML) });
  m.set('/assets/app.css', { type: 'text/css; charset=utf-8', body: Buffer.from(APP_CSS) });
  let js: Buffer;
  try {
    js = await readFile(new URL('./ui/app.js', import.meta.url)).catch(() =>
      readFile(new URL('../../dist/server/ui/app.js', import.meta.url)),
    );
  } catch {
    js = Buffer.from('document.body.textContent = "The dashboard was not built: run npm run build.";');
  }
  m.set('/assets/app.js', { type: 'text/javascript; charset=utf-8', body: js });
  return m;
}
