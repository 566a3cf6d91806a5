/**
 * One closed guard window as an HTML page (the dashboard's run view of a `guard` run): what was counted, which
 * instance checks flagged how many, the output shift per scope against the profile, and the findings. Every value
 * comes from a posted report, so everything is escaped (the shared table and banner helpers escape).
 */
import { banner, esc, page, table } from '../../report/html.js';

type Json = Record<string, unknown>;

const num = (v: unknown, digits = 3) =>
  typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-';
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const text = (v: unknown) => (v === undefined || v === null ? '-' : String(v));

export function renderGuardWindowHtml(report: Json): string {
  const findings = list(report.findings);
  const flagged = Object.entries((report.flagged as Record<string, unknown> | undefined) ?? {});
  const scopes = list(report.scopes);
  const shifted = scopes.filter((s) => s.shifted).length;
  const window = text(report.window);
  const head = banner(
    findings.length ? 'warn' : true,
    findings.length
      ? `${findings.length} finding${findings.length === 1 ? '' : 's'} in window ${window}`
      : `Window ${window}: nothing flagged`,
    findings.slice(0, 5).map((f) => `${text(f.severity)} ${text(f.rule)}: ${text(f.message)}`),
  );
  const notPosted =
    typeof report.instanceFindingsNotPosted === 'number' ? report.instanceFindingsNotPosted : 0;
  const counts = `<p>${esc(
    `${text(report.start)} to ${text(report.end)} · ${text(report.requests)} requests · ${text(report.instances)} instances · profile ${text(report.profile)}${
      notPosted > 0 ? ` · ${notPosted} more instance findings counted, not posted` : ''
    }`,
  )}</p>`;
  const untested =
    typeof report.untested === 'number' && report.untested > 0
      ? `; ${report.untested} too small to test`
      : '';
  return page(
    `antidote guard window ${window}`,
    [
      `<h1>${esc(`Guard window ${window}`)}</h1>`,
      head,
      counts,
      '<h2>Instances flagged, per check</h2>',
      table(
        ['check', 'flagged'],
        flagged.map(([k, n]) => [k, text(n)]),
        [1],
      ),
      `<h2>${esc(`Output shift against the profile (${shifted} of ${scopes.length} scopes shifted${untested})`)}</h2>`,
      table(
        ['scope', 'instances', 'class PSI', 'p (chi-square)', 'score PSI', 'class moved most', 'shift'],
        scopes.map((s) => [
          text(s.scope),
          text(s.n),
          num(s.classPsi),
          num(s.p, 4),
          num(s.scorePsi),
          text(s.scoreClass),
          text(s.shifted),
        ]),
        [1, 2, 3, 4],
      ),
      '<h2>Findings</h2>',
      table(
        ['severity', 'rule', 'message'],
        findings.map((f) => [text(f.severity), text(f.rule), text(f.message)]),
      ),
    ].join(''),
  );
}
