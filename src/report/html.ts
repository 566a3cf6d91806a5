/**
 * Building blocks of the self-contained HTML reports (shared by `antidote audit` and `antidote gate`):
 * escaping, one page skeleton with inline CSS, a verdict banner, tables and finding lists. No script, no
 * external resource: a report opens offline and can be attached to a ticket as is.
 * D1 (audit report): build src/data/report-html.ts on these helpers and src/report/charts.ts.
 */
import type { Finding } from '../core/finding.js';
import { formatLocation } from './text.js';

export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e6;padding-bottom:4px}
.banner{padding:14px 18px;border-radius:8px;margin:16px 0;font-size:16px;font-weight:600}
.banner.ok{background:#e3f4e8;color:#135c2b;border:1px solid #9fd3af}.banner.warn{background:#fff4dc;color:#7a4a00;border:1px solid #f0cf86}.banner.bad{background:#fde8e8;color:#8a1616;border:1px solid #f0a8a8}
.banner ul{font-weight:400;margin:8px 0 0 0;padding-left:20px}
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0;font-size:13px}
th,td{border:1px solid #e1e4e8;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f0f2f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.sev{display:inline-block;min-width:64px;font-weight:600;font-size:12px}.sev-critical,.sev-high{color:#b01c1c}.sev-medium{color:#a35b00}.sev-low{color:#1f6f8b}.sev-info{color:#667}
.meta{color:#5a6270;font-size:12px}.note{color:#5a6270}.chart{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:8px;margin:8px 0;overflow-x:auto}
code{background:#eef0f3;padding:1px 4px;border-radius:3px}
`;

export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>${body}</main></body></html>\n`;
}

/** A verdict banner: green (ok), red (bad), or amber for a pass that comes with caveats ('warn'). */
export function banner(ok: boolean | 'warn', headline: string, reasons: string[] = []): string {
  return `<div class="banner ${ok === 'warn' ? 'warn' : ok ? 'ok' : 'bad'}">${esc(headline)}${reasons.length ? `<ul>${reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}</div>`;
}

export function table(
  headers: string[],
  rows: Array<Array<string | number>>,
  numeric: number[] = [],
): string {
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table>${head}${body}</table>`;
}

export function findingsList(findings: readonly Finding[]): string {
  if (!findings.length) return '<p class="note">No findings.</p>';
  return table(
    ['severity', 'finding', 'where', 'rule'],
    findings.map((f) => [f.severity.toUpperCase(), f.message, formatLocation(f), f.rule]),
  );
}

export function chart(svg: string): string {
  return `<div class="chart">${svg}</div>`;
}
