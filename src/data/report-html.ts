/**
 * report.html: one self-contained page (inline CSS and inline SVG, no script, no network) for people.
 * Charts are vega-lite specs compiled to vega and rendered to SVG in Node at build time (`View.toSVG()`,
 * renderer 'none', shared with the gate report in src/report/charts.ts), so the page opens anywhere, offline,
 * and can be attached to a ticket.
 */

import type { Finding } from '../core/finding.js';
import { chartSvg as svgOf, type VegaLiteSpec } from '../report/charts.js';
import type { AuditReport } from './audit.js';
import { describeFloors } from './floors.js';

const esc = (s: unknown): string =>
  String(s ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

type VlSpec = VegaLiteSpec;

interface Section {
  title: string;
  text: string;
  spec?: VlSpec;
}

function chartSections(r: AuditReport): Section[] {
  const out: Section[] = [];
  const s = r.summary;
  out.push({
    title: 'Outcome',
    text: `${s.incoming} incoming rows: ${s.accepted} accepted, ${s.quarantined} quarantined${s.rejected ? `, ${s.rejected} malformed records rejected` : ''}.`,
    spec: {
      width: 520,
      height: 90,
      data: {
        values: [
          { outcome: 'accepted', rows: s.accepted },
          { outcome: 'quarantined', rows: s.quarantined },
          ...(s.rejected ? [{ outcome: 'rejected', rows: s.rejected }] : []),
        ],
      },
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'outcome', type: 'nominal', title: null, sort: null },
        x: { field: 'rows', type: 'quantitative', title: 'rows' },
        color: {
          field: 'outcome',
          type: 'nominal',
          legend: null,
          scale: {
            domain: ['accepted', 'quarantined', 'rejected'],
            range: ['#4c956c', '#d1495b', '#8d99ae'],
          },
        },
        tooltip: [{ field: 'rows' }],
      },
    },
  });
  const hist = r.charts.scoreHistogram as Array<{ bin: number; rows: number }> | undefined;
  if (hist?.length) {
    out.push({
      title: 'Suspicion scores',
      text: `Combined score per row (noisy-OR of the detectors). Rows at or above ${r.settings.threshold} are quarantined. Symmetric-log scale, so single rows stay visible.`,
      spec: {
        width: 520,
        height: 160,
        layer: [
          {
            data: { values: hist.filter((h) => h.rows > 0) },
            mark: { type: 'bar', width: 20 },
            encoding: {
              x: { field: 'bin', type: 'quantitative', title: 'score', scale: { domain: [0, 1] } },
              y: { field: 'rows', type: 'quantitative', scale: { type: 'symlog' }, title: 'rows' },
              color: { value: '#6c757d' },
            },
          },
          {
            data: { values: [{ t: r.settings.threshold }] },
            mark: { type: 'rule', color: '#d1495b', strokeDash: [4, 3] },
            encoding: { x: { field: 't', type: 'quantitative' } },
          },
        ],
      },
    });
  }
  const rates = r.charts.suspectRates as
    | {
        bySource?: Array<{ source: string; rows: number; rate: number }>;
        byWindow?: Array<{ start: string; rate: number; rows: number }>;
      }
    | undefined;
  if (rates?.bySource?.length) {
    out.push({
      title: 'Suspect rate by source',
      text: "Share of each source account's rows that were quarantined (accounts with the most quarantined rows first).",
      spec: {
        width: 520,
        height: { step: 16 },
        data: { values: rates.bySource },
        mark: 'bar',
        encoding: {
          y: { field: 'source', type: 'nominal', sort: null, title: null },
          x: { field: 'rate', type: 'quantitative', axis: { format: '%' }, title: 'quarantined share' },
          color: { field: 'rate', type: 'quantitative', scale: { scheme: 'orangered' }, legend: null },
          tooltip: [{ field: 'source' }, { field: 'rows' }, { field: 'rate', format: '.1%' }],
        },
      },
    });
  }
  if (rates?.byWindow?.length) {
    out.push({
      title: 'Suspect rate by time window',
      text: 'Share of rows quarantined in each time window of the incoming batch.',
      spec: {
        width: 520,
        height: 160,
        data: { values: rates.byWindow.map((w, i) => ({ ...w, window: i + 1 })) },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'window', type: 'ordinal', title: 'window' },
          y: { field: 'rate', type: 'quantitative', axis: { format: '%' }, title: 'quarantined share' },
          color: { value: '#d1495b' },
          tooltip: [{ field: 'start' }, { field: 'rows' }, { field: 'rate', format: '.1%' }],
        },
      },
    });
  }
  const triggers = r.charts.triggers as
    | Array<{
        pattern: string;
        label: string;
        p: number;
        incoming: number;
        trusted: number;
        confirmed: boolean;
      }>
    | undefined;
  // Only candidates with some evidence (p < 1): a chart of zero-length bars says nothing.
  const withEvidence = triggers?.filter((t) => t.p < 1) ?? [];
  if (withEvidence.length) {
    // Confirmed triggers first: in a wide table many supersets of one pattern tie on the strongest p.
    const top = [...withEvidence]
      .sort((a, b) => Number(b.confirmed) - Number(a.confirmed) || a.p - b.p)
      .slice(0, 20)
      .map((t) => ({
        ...t,
        name: `${t.pattern} → ${t.label}`.slice(0, 60),
        evidence: Math.min(300, -Math.log10(Math.max(t.p, 1e-300))),
        status: t.confirmed ? 'confirmed trigger' : 'candidate',
      }));
    out.push({
      title: 'Trigger candidates',
      text: 'Patterns over-represented in the batch, pure in one label, on rows the content model reads otherwise: the confirmed triggers, then the strongest of the rest. Longer bars = stronger evidence (−log10 p).',
      spec: {
        width: 520,
        height: { step: 16 },
        data: { values: top },
        mark: 'bar',
        encoding: {
          y: { field: 'name', type: 'nominal', sort: null, title: null },
          x: { field: 'evidence', type: 'quantitative', title: '−log10 p' },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['confirmed trigger', 'candidate'], range: ['#d1495b', '#adb5bd'] },
            title: null,
          },
          tooltip: [
            { field: 'pattern' },
            { field: 'label' },
            { field: 'incoming' },
            { field: 'trusted' },
            { field: 'p' },
          ],
        },
      },
    });
  }
  const drift = r.charts.driftByFeature as
    | Array<{ feature: string; window: number; psi: number | null }>
    | undefined;
  if (drift?.length) {
    out.push({
      title: 'Drift by feature',
      text: 'Population stability index of each feature in each time window against the trusted baseline (darker = further from the reference).',
      spec: {
        width: 520,
        height: { step: 16 },
        data: { values: drift.filter((d) => d.psi !== null) },
        mark: 'rect',
        encoding: {
          x: { field: 'window', type: 'ordinal', title: 'window' },
          y: { field: 'feature', type: 'nominal', title: null },
          color: { field: 'psi', type: 'quantitative', scale: { scheme: 'orangered' }, title: 'PSI' },
          tooltip: [{ field: 'feature' }, { field: 'window' }, { field: 'psi' }],
        },
      },
    });
  }
  const labelRates = r.charts.labelRateByWindow as Array<Record<string, unknown>> | undefined;
  if (labelRates?.length) {
    const keys = Object.keys(labelRates[0]).filter((k) => !['window', 'start', 'end'].includes(k));
    if (keys.length) {
      out.push({
        title: 'Label rate by time window',
        text: 'Share of each label per window; slow conditioning shows as a steady creep away from the trusted rate.',
        spec: {
          width: 520,
          height: 160,
          // Long rows, not a fold over the label columns: a label may hold a dot ("Rad.Flow"), which a field
          // name would read as a nested path, and draw nothing.
          data: {
            values: labelRates.flatMap((w) =>
              keys.map((label) => ({ window: w.window, label, rate: w[label] })),
            ),
          },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'window', type: 'ordinal' },
            y: { field: 'rate', type: 'quantitative', axis: { format: '%' } },
            color: { field: 'label', type: 'nominal' },
          },
        },
      });
    }
  }
  return out;
}

function findingRow(f: Finding): string {
  const loc = f.location;
  const rows = loc?.rowCount ?? loc?.rows?.length;
  const sample = loc?.rows?.length
    ? ` <span class="muted">e.g. ${esc(loc.rows.slice(0, 5).join(', '))}</span>`
    : '';
  return `<tr><td><span class="sev ${esc(f.severity)}">${esc(f.severity)}</span></td><td>${esc(f.message)}${sample}</td><td>${rows ?? ''}</td><td class="muted">${esc(f.rule)}</td></tr>`;
}

export async function renderAuditHtml(r: AuditReport): Promise<string> {
  const sections = chartSections(r);
  const svgs = await Promise.all(sections.map((s) => (s.spec ? svgOf(s.spec) : Promise.resolve(''))));
  const s = r.summary;
  const verdict =
    s.verdict === 'block' ? '<span class="badge block">BLOCK</span>' : '<span class="badge pass">PASS</span>';
  const reasons = s.topReasons.length
    ? `<table><tr><th>rows</th><th>main reason</th></tr>${s.topReasons.map((t) => `<tr><td>${t.rows}</td><td>${esc(t.reason)}</td></tr>`).join('')}</table>`
    : s.verdict === 'block'
      ? '<p class="muted">No row was quarantined: the batch is held by a finding about it as a whole (see Findings).</p>'
      : '<p class="muted">No row was quarantined.</p>';
  const findings = r.findings.length
    ? `<table><tr><th>severity</th><th>finding</th><th>rows</th><th>rule</th></tr>${r.findings.map(findingRow).join('')}</table>`
    : '<p class="muted">No findings.</p>';
  const floors = r.floors ? describeFloors(r.floors) : [];
  const floorTable = floors.length
    ? `<p class="muted">The smallest attack each detector could see in this batch, from its own test at the audit's error control (report.json <code>floors</code>); a smaller attack passes unseen.</p><table><tr><th>detector</th><th>smallest attack it could see</th></tr>${floors.map((x) => `<tr><td>${esc(x.detector)}</td><td>${esc(x.floor)}</td></tr>`).join('')}</table>`
    : '';
  const detectors = `<table><tr><th>detector</th><th>status</th><th>findings</th><th>rows flagged</th><th>seconds</th></tr>${r.detectors
    .map(
      (d) =>
        `<tr><td>${esc(d.title)} <span class="muted">${esc(d.id)}</span></td><td>${esc(d.status)}${d.reason ? `: ${esc(d.reason)}` : ''}</td><td>${d.findings}</td><td>${d.flaggedRows}</td><td>${d.seconds}</td></tr>`,
    )
    .join('')}</table>`;
  const roles = Object.entries(r.roles)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `<b>${esc(k)}</b> ${esc(Array.isArray(v) ? v.join(', ') : v)}`)
    .join(' · ');
  const outputs = r.outputs
    ? `<ul>${(['accepted', 'quarantined', 'review', 'rejects', 'reportJson'] as const)
        .filter((k) => r.outputs?.[k])
        .map((k) => `<li>${esc(k)}: <code>${esc(r.outputs?.[k])}</code></li>`)
        .join('')}</ul>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>antidote audit: ${esc(r.inputs.incoming.path)}</title>
<style>
body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#212529;max-width:1100px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
.muted{color:#6c757d}.badge{font-weight:bold;padding:2px 8px;border-radius:4px;color:#fff}.block{background:#d1495b}.pass{background:#4c956c}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-bottom:1px solid #e9ecef;padding:4px 6px;text-align:left;vertical-align:top}
.sev{font-size:12px;font-weight:bold;text-transform:uppercase}.critical,.high{color:#b00020}.medium{color:#b36b00}.low{color:#0b7285}.info{color:#6c757d}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px 28px}.chart svg{max-width:100%;height:auto}
code{background:#f1f3f5;padding:1px 4px;border-radius:3px}
</style></head><body>
<h1>${verdict} Audit of <code>${esc(r.inputs.incoming.path)}</code></h1>
<p class="muted">against the trusted reference <code>${esc(r.inputs.trusted.path)}</code> (${r.inputs.trusted.rows} rows) · antidote ${esc(r.tool.version)} · ${esc(r.createdAt)} · fail on ${esc(r.settings.failOn)}</p>
<p>${s.incoming} incoming rows: <b>${s.accepted}</b> accepted, <b>${s.quarantined}</b> quarantined${s.rejected ? `, <b>${s.rejected}</b> malformed records rejected` : ''}; ${s.review} rows in the review sample.</p>
<p class="muted">${roles}</p>
${r.notes.length ? `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<h2>Why rows were quarantined</h2>${reasons}
<h2>Charts</h2><div class="grid">${sections
    .map(
      (sec, i) =>
        `<div class="chart"><h3>${esc(sec.title)}</h3><p class="muted">${esc(sec.text)}</p>${svgs[i]}</div>`,
    )
    .join('')}</div>
<h2>Findings</h2>${findings}
${floorTable ? `<h2>What the audit could see</h2>${floorTable}` : ''}
<h2>Detectors</h2>${detectors}
<h2>Outputs</h2>${outputs}
</body></html>
`;
}
