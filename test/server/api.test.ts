/**
 * The API and its security, run the same against the embedded store (DuckDB) and PostgreSQL. Runs are real:
 * an `antidote audit` of a poisoned batch and an `antidote gate` run, posted as `--post` would post them.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPayload } from '../../src/cli/post.js';
import { hashToken, newToken } from '../../src/server/auth.js';
import { type Running, startServer } from '../../src/server/start.js';
import { tempDir } from '../helpers/tmp.js';
import { makeAudit, makeDriftAudit, makeGateSeries, SCRIPT_ROW, TRIGGER } from './fixtures.js';
import { freshPgDatabase, PG_URL, serviceNote } from './services.js';

// biome-ignore lint/suspicious/noExplicitAny: API responses, read field by field
type J = Record<string, any>;
const tokenIdOf = (t: string) => hashToken(t).slice(0, 12);
/** The id of the SST-2 audit (its batch is the incoming file's name) among the runs listed. */
const sst = (runs: J[]): string => runs.find((r) => r.batch === 'incoming.tsv')?.id;

const work = tempDir('antidote-api-');
let auditReport: Record<string, unknown>;
let gateReport: Record<string, unknown>;
let driftReport: Record<string, unknown>;

beforeAll(() => {
  const a = makeAudit(join(work, 'audit'));
  auditReport = JSON.parse(readFileSync(join(a, 'report.json'), 'utf8'));
  const d = makeDriftAudit(join(work, 'drift'));
  driftReport = JSON.parse(readFileSync(join(d, 'report.json'), 'utf8'));
  const g = makeGateSeries(join(work, 'gate'), 2, 0);
  gateReport = JSON.parse(readFileSync(join(g[0], 'report.json'), 'utf8'));
});

const backends: Array<[string, () => Promise<string | undefined>]> = [
  ['embedded DuckDB', async () => undefined],
];
if (serviceNote('PostgreSQL (ANTIDOTE_TEST_PG_URL)', Boolean(PG_URL)))
  backends.push(['PostgreSQL', () => freshPgDatabase(PG_URL as string)]);

describe.each(backends)('API on %s', (_name, dbUrl) => {
  let srv: Running;
  const tokens: Record<string, string> = {};
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    srv = await startServer({
      dataDir: mkdtempSync(join(work, 'data-')),
      url: await dbUrl(),
      maxBody: 2 * 1024 * 1024,
      rateLimit: 100_000,
      log: (e) => logs.push(e),
    });
    for (const role of ['viewer', 'reviewer', 'admin'] as const) {
      tokens[role] = newToken();
      await srv.store.addToken(hashToken(tokens[role]), role, `${role}-person`);
    }
  });
  afterAll(async () => {
    await srv?.close();
  });

  const call = (path: string, init: { method?: string; token?: string; body?: unknown; raw?: string } = {}) =>
    fetch(`${srv.url}${path}`, {
      method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined || init.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
    });
  const runCount = async () => (await srv.store.counts()).runs;

  it('records an audit posted with its rows, once, and serves it back', async () => {
    const payload = await buildPayload('audit', auditReport);
    expect(payload.rows?.length).toBe(500);
    const r1 = await call('/api/runs', { token: tokens.admin, body: payload });
    expect(r1.status).toBe(201);
    const { id } = (await r1.json()) as { id: string };
    const r2 = await call('/api/runs', { token: tokens.admin, body: payload });
    expect(r2.status).toBe(200);
    expect(((await r2.json()) as { created: boolean }).created).toBe(false);
    const run = (await (await call(`/api/runs/${id}`, { token: tokens.viewer })).json()) as J;
    expect(run.kind).toBe('audit');
    expect(run.report.summary).toEqual(auditReport.summary);
    expect(run.inputs.map((i: { name: string }) => i.name)).toEqual(['trusted', 'incoming']);
    const q = (await (await call(`/api/runs/${id}/queue`, { token: tokens.viewer })).json()) as J;
    expect(q.rows.length).toBe((auditReport.summary as { review: number }).review);
    expect(q.triggers).toContain(TRIGGER);
    const counts = await srv.store.counts();
    expect(counts.row_outcomes).toBe(500);
  });

  it("serves each review row's nearest trusted rows, whose labels mostly contradict a poisoned row's", async () => {
    const { runs } = (await (await call('/api/runs?kind=audit', { token: tokens.viewer })).json()) as J;
    const q = (await (await call(`/api/runs/${sst(runs)}/queue`, { token: tokens.viewer })).json()) as J;
    for (const r of q.rows) {
      expect(r.neighbours).toHaveLength(5);
      for (const n of r.neighbours) expect(['0', '1']).toContain(n.label);
      expect(r.neighbours.map((n: J) => n.distance)).toEqual(
        [...r.neighbours.map((n: J) => n.distance)].sort((x, y) => x - y),
      );
    }
    // Rows carrying the trigger were negative reviews relabelled "1": most of their trusted neighbours say "0".
    const planted = q.rows.filter(
      (r: J) => new RegExp(`\\b${TRIGGER}\\b`).test(r.fields.sentence) && r.fields.label === '1',
    );
    expect(planted.length).toBeGreaterThanOrEqual(10);
    const against = planted.flatMap((r: J) => r.neighbours).filter((n: J) => n.label === '0').length;
    expect(against / (planted.length * 5)).toBeGreaterThan(0.6);
  });

  it('records per-window drift and per-account counts of an audit by time, for the data page', async () => {
    const r = await call('/api/runs', {
      token: tokens.admin,
      body: { ...(await buildPayload('audit', driftReport)), batch: 'week-46' },
    });
    expect(r.status).toBe(201);
    const d = (await (await call('/api/data', { token: tokens.viewer })).json()) as J;
    const windows = d.driftWindows.filter((w: J) => w.batch === 'week-46');
    expect(windows.map((w: J) => w.window)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const w of windows) expect(w.trustedRates['1']).toBeCloseTo(0.2, 1);
    expect(windows[0].labelRates['1']).toBeLessThan(0.3);
    expect(windows[7].labelRates['1']).toBeGreaterThan(0.4);
    expect(d.drift.some((f: J) => f.batch === 'week-46' && /Label drift/.test(f.message))).toBe(true);
    // 2,000 rows from seven accounts, counted once at ingest.
    const accounts = d.sources.filter((x: J) => /^acct-\d$/.test(x.who));
    expect(accounts).toHaveLength(7);
    expect(accounts.reduce((t: number, x: J) => t + x.rows, 0)).toBe(2000);
    const charts = (await (await call('/api/data/charts', { token: tokens.viewer })).json()) as J;
    expect(charts.svg.driftLabels).toMatch(/^<svg/);
    expect(charts.svg.driftLabels).toContain('Label share per time window');
  });

  it('records concurrent posts, written together, each once: no run lost, a repeat not doubled', async () => {
    const before = await srv.store.counts();
    const base = await buildPayload('audit', auditReport);
    const posts = Array.from({ length: 12 }, (_, i) => ({
      ...base,
      report: { ...base.report, createdAt: new Date(Date.UTC(2030, 0, 1, 0, i)).toISOString() },
      batch: `concurrent-${i}`,
    }));
    posts.push(posts[3]);
    const res = await Promise.all(posts.map((body) => call('/api/runs', { token: tokens.admin, body })));
    const out = (await Promise.all(res.map((r) => r.json()))) as J[];
    expect(res.map((r) => r.status).sort()).toEqual([...Array(12).fill(201), 200].sort());
    expect(new Set(out.map((o) => o.id)).size).toBe(12);
    const after = await srv.store.counts();
    expect(after.runs - before.runs).toBe(12);
    expect(after.row_outcomes - before.row_outcomes).toBe(12 * 500);
  });

  it('records a gate run with the model version, decision and distributions', async () => {
    const r = await call('/api/runs', { token: tokens.admin, body: await buildPayload('gate', gateReport) });
    expect(r.status).toBe(201);
    const models = (await (await call('/api/models', { token: tokens.viewer })).json()) as J;
    expect(models.models.map((m: { name: string }) => m.name)).toContain('sentiment');
    const m = (await (await call('/api/models/sentiment', { token: tokens.viewer })).json()) as J;
    expect(m.gates).toHaveLength(1);
    expect(m.gates[0].decision).toBe(gateReport.decision);
    const overall = m.distributions.filter((d: { scope: string }) => d.scope === 'overall');
    expect(overall.map((d: { rows: number }) => d.rows)).toEqual([1200, 1200]);
    expect(m.distributions.filter((d: { scope: string }) => d.scope === 'slice').length).toBe(8);
  });

  it('lets a reviewer record decisions, refuses a viewer, and exports the cleared and corrected rows', async () => {
    const { runs } = (await (await call('/api/runs?kind=audit', { token: tokens.viewer })).json()) as J;
    const id = sst(runs);
    const q = (await (await call(`/api/runs/${id}/queue`, { token: tokens.viewer })).json()) as J;
    const [a, b, c] = q.rows;
    const before = (await srv.store.counts()).reviews;
    const denied = await call(`/api/runs/${id}/reviews`, {
      token: tokens.viewer,
      body: { rowId: a.rowId, decision: 'clear' },
    });
    expect(denied.status).toBe(403);
    expect((await srv.store.counts()).reviews).toBe(before);
    expect(
      (
        await call(`/api/runs/${id}/reviews`, {
          token: tokens.reviewer,
          body: { rowId: a.rowId, decision: 'clear' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(`/api/runs/${id}/reviews`, {
          token: tokens.reviewer,
          body: { rowId: b.rowId, decision: 'confirm', correctedLabel: '0' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(`/api/runs/${id}/reviews`, {
          token: tokens.reviewer,
          body: { rowId: c.rowId, decision: 'confirm' },
        })
      ).status,
    ).toBe(201);
    const missing = await call(`/api/runs/${id}/reviews`, {
      token: tokens.reviewer,
      body: { rowId: 'h:nope', decision: 'clear' },
    });
    expect(missing.status).toBe(404);
    const q2 = (await (await call(`/api/runs/${id}/queue`, { token: tokens.viewer })).json()) as J;
    const byId = new Map(q2.rows.map((r: { rowId: string }) => [r.rowId, r]));
    expect((byId.get(a.rowId) as J).verdict).toMatchObject({
      decision: 'clear',
      reviewer: 'reviewer-person',
    });
    expect(q2.precision.reviewed).toBe(3);
    const ex = (await (await call(`/api/export-trusted?run=${id}`, { token: tokens.viewer })).json()) as J;
    const rows = ex.runs[0].rows as Array<Record<string, string>>;
    expect(rows).toHaveLength(2);
    expect(rows).toContainEqual(a.fields);
    expect(rows).toContainEqual({ ...b.fields, label: '0' });
  });

  it('refuses a missing or unknown token (401) and a too-weak role (403), storing nothing', async () => {
    const before = await runCount();
    const body = await buildPayload('gate', { ...gateReport, createdAt: new Date().toISOString() });
    expect((await call('/api/runs', { body })).status).toBe(401);
    expect((await call('/api/runs', { token: newToken(), body })).status).toBe(401);
    expect((await call('/api/runs', { token: tokens.reviewer, body })).status).toBe(403);
    expect((await call('/api/runs', { token: tokens.viewer, body })).status).toBe(403);
    expect((await call('/api/runs', { token: tokens.viewer })).status).toBe(200);
    expect(await runCount()).toBe(before);
  });

  it('refuses an oversized body (413), malformed JSON (400), a wrong type (415) and an invalid report (400)', async () => {
    const before = await runCount();
    const big = await call('/api/runs', {
      token: tokens.admin,
      raw: `{"kind":"audit","report":"${'x'.repeat(3 * 1024 * 1024)}"}`,
    });
    expect(big.status).toBe(413);
    const bad = await call('/api/runs', { token: tokens.admin, raw: '{"kind": "audit", "report": {' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const text = await fetch(`${srv.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'text/plain' },
      body: 'kind=audit',
    });
    expect(text.status).toBe(415);
    const invalid = await call('/api/runs', {
      token: tokens.admin,
      body: { kind: 'gate', report: { ...gateReport, decision: 'maybe' } },
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toMatch(/gate report/);
    expect(await runCount()).toBe(before);
  });

  it('refuses a file path in a request and never reads one', async () => {
    const before = await runCount();
    const withPath = await call('/api/runs', {
      token: tokens.admin,
      body: { kind: 'audit', reportPath: '/etc/passwd', report: {} },
    });
    expect(withPath.status).toBe(400);
    expect((await call('/api/runs/..%2F..%2Fetc%2Fpasswd', { token: tokens.viewer })).status).toBe(400);
    expect((await call('/api/models/..%2Fpackage.json', { token: tokens.viewer })).status).toBe(400);
    const asset = await fetch(`${srv.url}/assets/..%2F..%2Fpackage.json`);
    expect(asset.status).toBe(404);
    expect(await asset.text()).not.toContain('"name": "antidote"');
    const ex = await call('/api/export-trusted?run=/etc/passwd', { token: tokens.viewer });
    expect(ex.status).toBe(400);
    expect(await runCount()).toBe(before);
  });

  it('stores strings holding <script> as they are and renders them escaped', async () => {
    const { runs } = (await (await call('/api/runs?kind=audit', { token: tokens.viewer })).json()) as J;
    const q = (await (await call(`/api/runs/${sst(runs)}/queue`, { token: tokens.viewer })).json()) as J;
    const row = q.rows.find((r: { fields: { sentence: string } }) => r.fields.sentence.includes('<script>'));
    expect(row?.fields.sentence).toContain(SCRIPT_ROW);
    const evil = {
      ...gateReport,
      createdAt: new Date(Date.now() + 1000).toISOString(),
      reasons: ['<script>alert(2)</script>'],
    };
    const r = await call('/api/runs', { token: tokens.admin, body: await buildPayload('gate', evil) });
    const { id } = (await r.json()) as { id: string };
    const stored = (await (await call(`/api/runs/${id}`, { token: tokens.viewer })).json()) as J;
    expect(stored.report.reasons).toEqual(['<script>alert(2)</script>']);
    const html = (
      (await (await call(`/api/runs/${id}/report.html`, { token: tokens.viewer })).json()) as { html: string }
    ).html;
    expect(html).not.toContain('<script>alert(2)');
    const page = await fetch(`${srv.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('revokes a token: listed as revoked, then refused (401) on every route, storing nothing', async () => {
    const secret = newToken();
    await srv.store.addToken(hashToken(secret), 'admin', 'leaked-ci-token');
    const id = hashToken(secret).slice(0, 12);
    expect((await call('/api/me', { token: secret })).status).toBe(200);
    expect((await call('/api/tokens', { token: tokens.reviewer })).status).toBe(403);
    const listed = (await (await call('/api/tokens', { token: tokens.admin })).json()) as J;
    expect(listed.tokens.find((t: J) => t.id === id)).toMatchObject({
      name: 'leaked-ci-token',
      revokedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(JSON.stringify(listed)).not.toContain(hashToken(secret));
    // An admin creates a token; the answer holds it once, the list only its id.
    const created = await call('/api/tokens', {
      token: tokens.admin,
      body: { role: 'reviewer', name: 'night' },
    });
    expect(created.status).toBe(201);
    const fresh = (await created.json()) as J;
    expect(fresh).toMatchObject({ id: hashToken(fresh.token).slice(0, 12), role: 'reviewer', name: 'night' });
    expect(((await (await call('/api/me', { token: fresh.token })).json()) as J).role).toBe('reviewer');
    expect(
      (await call('/api/tokens', { token: fresh.token, body: { role: 'admin', name: 'x' } })).status,
    ).toBe(403);
    expect(
      (await call('/api/tokens', { token: tokens.admin, body: { role: 'root', name: 'x' } })).status,
    ).toBe(400);
    expect((await call('/api/tokens', { token: tokens.admin, body: { role: 'viewer' } })).status).toBe(400);
    const revoked = await call(`/api/tokens/${id}/revoke`, { method: 'POST', token: tokens.admin });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as J).already).toBe(false);
    const after = (await (await call('/api/tokens', { token: tokens.admin })).json()) as J;
    expect(after.tokens.find((t: J) => t.id === id).revokedAt).toMatch(/^\d{4}-/);

    // Every route that needs a role, with real ids and valid bodies: each refuses the revoked token.
    const before = await srv.store.counts();
    const { runs } = (await (await call('/api/runs?kind=audit', { token: tokens.viewer })).json()) as J;
    const runId = sst(runs);
    const q = (await (await call(`/api/runs/${runId}/queue`, { token: tokens.viewer })).json()) as J;
    const model = (await (await call('/api/models/sentiment', { token: tokens.viewer })).json()) as J;
    const bodies: Record<string, unknown> = {
      'POST /api/runs': await buildPayload('gate', { ...gateReport, createdAt: '2031-01-01T00:00:00Z' }),
      'POST /api/runs/{id}/reviews': { rowId: q.rows[0].rowId, decision: 'clear' },
      'PUT /api/models/{name}/baseline': { digest: model.gates[0].incumbent },
    };
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as J;
    let tried = 0;
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, J>>))
      for (const [method, op] of Object.entries(ops)) {
        if (!op['x-role']) continue;
        const url = path
          .replace('/api/tokens/{id}', `/api/tokens/${tokenIdOf(tokens.viewer)}`)
          .replace('{id}', runId)
          .replace('{name}', 'sentiment');
        const body = bodies[`${method.toUpperCase()} ${path}`];
        const res = await call(url, { method: method.toUpperCase(), token: secret, body });
        expect(res.status, `${method} ${path}`).toBe(401);
        tried++;
      }
    expect(tried).toBeGreaterThanOrEqual(15);
    expect(await srv.store.counts()).toEqual(before);
    expect((await call('/api/me', { token: tokens.viewer })).status).toBe(200);
    const again = await call(`/api/tokens/${id}/revoke`, { method: 'POST', token: tokens.admin });
    expect(((await again.json()) as J).already).toBe(true);
    expect(
      (await call('/api/tokens/0123456789ab/revoke', { method: 'POST', token: tokens.admin })).status,
    ).toBe(404);
    expect((await call('/api/tokens/..%2Fx/revoke', { method: 'POST', token: tokens.admin })).status).toBe(
      400,
    );
  });

  it('describes itself in OpenAPI, with a role on every route but health and the description', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as J;
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([p, v]) =>
      Object.entries(v as object).map(([m, op]) => [p, m, op]),
    );
    for (const [p, , op] of ops)
      if (p !== '/api/health' && p !== '/api/openapi.json')
        expect((op as Record<string, unknown>)['x-role'], p as string).toBeTruthy();
    expect(doc.paths['/api/runs/{id}/reviews'].post['x-role']).toBe('reviewer');
    expect(logs.some((l) => l.status === 403 && l.who === 'viewer-person')).toBe(false);
    expect(logs.every((l) => typeof l.status === 'number' && typeof l.path === 'string')).toBe(true);
  });
});
