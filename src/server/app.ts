/**
 * The server: routes of the REST API (described at /api/openapi.json) and the dashboard's assets, with
 * authentication, roles, body limits, rate limits and one JSON log line per request. Every route takes ids
 * and names from the request, never a file path: the only files read are the dashboard's own assets, loaded
 * once at start from the package.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { atLeast, bearer, hashToken, newToken } from './auth.js';
import {
  type Ctx,
  HttpError,
  jsonLogger,
  type Logger,
  type Principal,
  RateLimiter,
  type Route,
  Router,
  readJson,
  send,
} from './http.js';
import { IngestError, toRecords } from './ingest.js';
import { lineage } from './lineage.js';
import { openApi } from './openapi.js';
import {
  BaselinePostSchema,
  describeIssues,
  MODEL_NAME,
  parseRunPost,
  ReviewPostSchema,
  RUN_ID,
  RUN_KINDS,
  TokenPostSchema,
} from './schema.js';
import { type Store, TOKEN_ID } from './store.js';

export interface ServerOptions {
  store: Store;
  /** Largest accepted run post (bytes). */
  maxBody?: number;
  /** Requests per minute per token (and per address before authentication). */
  rateLimit?: number;
  log?: Logger;
  /** The dashboard's files by URL path (from loadAssets); none: API only. */
  assets?: Map<string, { type: string; body: Buffer }>;
  /** Server-rendered charts and reports for the dashboard. */
  views?: Views;
}

export interface Views {
  modelCharts(history: NonNullable<Awaited<ReturnType<Store['modelHistory']>>>): Promise<unknown>;
  dataCharts(overview: Awaited<ReturnType<Store['dataOverview']>>, key?: string): Promise<unknown>;
  reportHtml(kind: string, report: Record<string, unknown>): Promise<string>;
}

export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
const SMALL_BODY = 16 * 1024;

function intParam(q: URLSearchParams, name: string, def: number, max: number): number {
  const v = q.get(name);
  if (v === null) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, `${name} must be an integer between 0 and ${max}`);
  return n;
}

function runIdOf(ctx: Ctx): string {
  const id = ctx.params.id;
  if (!RUN_ID.test(id)) throw new HttpError(400, 'a run id is 32 hexadecimal characters');
  return id;
}

function modelOf(ctx: Ctx): string {
  const name = ctx.params.name;
  if (!MODEL_NAME.test(name) || name.includes('..')) throw new HttpError(400, 'not a model name');
  return name;
}

function topContributors(rows: Awaited<ReturnType<Store['dataOverview']>>['sources']) {
  const by = new Map<
    string,
    { who: string; rows: number; quarantined: number; batches: number; flagged: number }
  >();
  for (const r of rows) {
    const e = by.get(r.who) ?? { who: r.who, rows: 0, quarantined: 0, batches: 0, flagged: 0 };
    e.rows += r.rows;
    e.quarantined += r.quarantined;
    e.batches++;
    if (r.quarantined > 0) e.flagged++;
    by.set(r.who, e);
  }
  return [...by.values()].sort((a, b) => b.quarantined - a.quarantined || b.flagged - a.flagged).slice(0, 25);
}

/**
 * Authenticated tokens kept for a few seconds, so a busy server does not queue a lookup behind every write. A
 * token revoked through this server is forgotten at once; one revoked by another process (`antidote serve
 * token revoke` on a shared PostgreSQL store) is refused within TOKEN_CACHE_MS.
 */
export const TOKEN_CACHE_MS = 5_000;

class TokenCache {
  private readonly entries = new Map<string, { p: Principal | null; at: number }>();
  get(hash: string): Principal | null | undefined {
    const hit = this.entries.get(hash);
    return hit && Date.now() - hit.at < TOKEN_CACHE_MS ? hit.p : undefined;
  }
  set(hash: string, p: Principal | null): void {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(hash, { p, at: Date.now() });
  }
  clear(): void {
    this.entries.clear();
  }
}

export function buildRoutes(opts: ServerOptions, tokens = new TokenCache()): Router {
  const { store } = opts;
  const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
  const r = new Router();
  const add = (route: Route) => r.add(route);
  // The data page aggregates every stored row: computed once per change of the store (a run or a review).
  let overviewCache:
    | { key: string; overview: Promise<Awaited<ReturnType<Store['dataOverview']>>> }
    | undefined;
  const dataOverviewKeyed = async () => {
    const key = await store.version();
    if (overviewCache?.key !== key) {
      overviewCache = { key, overview: store.dataOverview() };
      overviewCache.overview.catch(() => {
        overviewCache = undefined;
      });
    }
    return { key, overview: await overviewCache.overview };
  };
  const dataOverview = async () => (await dataOverviewKeyed()).overview;

  add({
    method: 'GET',
    path: '/api/health',
    summary: 'liveness and the store in use',
    handler: async () => ({ ok: true, store: store.dialect }),
  });
  add({
    method: 'GET',
    path: '/api/openapi.json',
    summary: 'this API, described in OpenAPI 3.1',
    handler: async () => openApi(r.list()),
  });
  add({
    method: 'GET',
    path: '/api/me',
    role: 'viewer',
    summary: 'the role and name of the calling token',
    handler: async (ctx) => ctx.principal,
  });
  add({
    method: 'GET',
    path: '/api/runs',
    role: 'viewer',
    summary: 'runs, newest first (query: kind, limit, offset)',
    handler: async (ctx) => {
      const kind = ctx.query.get('kind') ?? undefined;
      if (kind && !(RUN_KINDS as readonly string[]).includes(kind))
        throw new HttpError(400, `kind must be ${RUN_KINDS.join(', ')}`);
      return store.listRuns({
        kind,
        limit: intParam(ctx.query, 'limit', 50, 500),
        offset: intParam(ctx.query, 'offset', 0, 10_000_000),
      });
    },
  });
  add({
    method: 'POST',
    path: '/api/runs',
    role: 'admin',
    maxBody,
    summary: 'record a run: {kind, report, rows?, inputs?, model?, batch?}; the report follows schemas/',
    handler: async (ctx) => {
      const parsed = parseRunPost(ctx.body);
      if (!parsed.ok) throw new HttpError(400, parsed.error);
      let records: ReturnType<typeof toRecords>;
      try {
        records = toRecords(parsed.post);
      } catch (err) {
        if (err instanceof IngestError) throw new HttpError(400, err.message);
        throw err;
      }
      const out = await store.addRun(records, ctx.principal?.name ?? 'unknown');
      ctx.res.statusCode = out.created ? 201 : 200;
      return { id: out.id, created: out.created, rows: records.rows.length };
    },
  });
  add({
    method: 'GET',
    path: '/api/runs/:id',
    role: 'viewer',
    summary: 'one run with its report JSON',
    handler: async (ctx) => {
      const run = await store.getRun(runIdOf(ctx));
      if (!run) throw new HttpError(404, 'no such run');
      return run;
    },
  });
  add({
    method: 'GET',
    path: '/api/runs/:id/report.html',
    role: 'viewer',
    summary: "the run's HTML report (the same renderer as the command's report.html)",
    handler: async (ctx) => {
      const run = await store.getRun(runIdOf(ctx));
      if (!run) throw new HttpError(404, 'no such run');
      if (!opts.views) throw new HttpError(404, 'reports are not rendered by this server');
      return { html: await opts.views.reportHtml(run.kind, run.report) };
    },
  });
  add({
    method: 'GET',
    path: '/api/runs/:id/queue',
    role: 'viewer',
    summary:
      "the audit's review sample with the decisions recorded, and the quarantine's estimated precision",
    handler: async (ctx) => {
      const id = runIdOf(ctx);
      const run = await store.getRun(id);
      if (!run || run.kind !== 'audit') throw new HttpError(404, 'no such audit run');
      const roles = (run.report.roles ?? {}) as Record<string, unknown>;
      const triggers = ((run.report.findings ?? []) as Array<Record<string, unknown>>)
        .filter((f) => f.rule === 'audit/trigger')
        .map((f) => String((f.evidence as Record<string, unknown> | undefined)?.pattern ?? ''))
        .filter(Boolean);
      const rows = await store.reviewQueue(id);
      return {
        run: { id, title: run.title, batch: run.batch, createdAt: run.createdAt },
        roles,
        triggers,
        rows,
        precision: await store.precision(id, { queue: rows, summary: run.summary }),
      };
    },
  });
  add({
    method: 'POST',
    path: '/api/runs/:id/reviews',
    role: 'reviewer',
    maxBody: SMALL_BODY,
    summary:
      'record a review decision on a row of the sample: {rowId, decision: confirm|clear, correctedLabel?, note?}',
    handler: async (ctx) => {
      const id = runIdOf(ctx);
      const parsed = ReviewPostSchema.safeParse(ctx.body);
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
      const out = await store.addReview({
        runId: id,
        ...parsed.data,
        reviewer: ctx.principal?.name ?? 'unknown',
      });
      if (!out) throw new HttpError(404, "no such row in this run's review sample");
      ctx.res.statusCode = 201;
      return { ...out, reviewer: ctx.principal?.name };
    },
  });
  add({
    method: 'GET',
    path: '/api/models',
    role: 'viewer',
    summary: 'models seen by the gate',
    handler: async () => ({ models: await store.listModels() }),
  });
  add({
    method: 'GET',
    path: '/api/models/:name',
    role: 'viewer',
    summary: "a model's versions, gate decisions and output distributions",
    handler: async (ctx) => {
      const h = await store.modelHistory(modelOf(ctx));
      if (!h) throw new HttpError(404, 'no such model');
      return { ...h, lineage: lineage(h) };
    },
  });
  add({
    method: 'GET',
    path: '/api/models/:name/charts',
    role: 'viewer',
    summary:
      "the models page's charts as SVG (timeline, distributions per version and slice, shifts, regions)",
    handler: async (ctx) => {
      const h = await store.modelHistory(modelOf(ctx));
      if (!h) throw new HttpError(404, 'no such model');
      if (!opts.views) throw new HttpError(404, 'charts are not rendered by this server');
      return opts.views.modelCharts(h);
    },
  });
  add({
    method: 'PUT',
    path: '/api/models/:name/baseline',
    role: 'admin',
    maxBody: SMALL_BODY,
    summary: 'pin the baseline version: {digest}',
    handler: async (ctx) => {
      const parsed = BaselinePostSchema.safeParse(ctx.body);
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
      const ok = await store.setBaseline(modelOf(ctx), parsed.data.digest);
      if (!ok) throw new HttpError(404, 'no such version of this model');
      return { ok };
    },
  });
  add({
    method: 'GET',
    path: '/api/data',
    role: 'viewer',
    summary: 'audited batches: quarantine and review rates, sources, labelers, recurring triggers, drift',
    handler: async () => {
      // Per source and labeler the page gets totals across batches (the per-batch detail feeds the charts).
      const o = await dataOverview();
      return {
        ...o,
        sources: topContributors(o.sources),
        labelers: topContributors(o.labelers),
        // The charts show every window; the page's table only the latest.
        driftWindows: o.driftWindows.slice(-1000),
      };
    },
  });
  add({
    method: 'GET',
    path: '/api/data/charts',
    role: 'viewer',
    summary: "the data page's charts as SVG (rates per batch, per source and per labeler)",
    handler: async () => {
      if (!opts.views) throw new HttpError(404, 'charts are not rendered by this server');
      const { key, overview } = await dataOverviewKeyed();
      return opts.views.dataCharts(overview, key);
    },
  });
  add({
    method: 'GET',
    path: '/api/tokens',
    role: 'admin',
    summary: 'the API tokens by id (never the token itself), role, name, creation and revocation',
    handler: async () => ({ tokens: await store.listTokens() }),
  });
  add({
    method: 'POST',
    path: '/api/tokens',
    role: 'admin',
    maxBody: SMALL_BODY,
    summary:
      'create a token: {role: viewer|reviewer|admin, name}; the answer holds the token, which is stored only as its SHA-256',
    handler: async (ctx) => {
      const parsed = TokenPostSchema.safeParse(ctx.body);
      if (!parsed.success) throw new HttpError(400, describeIssues(parsed.error));
      const t = newToken();
      const hash = hashToken(t);
      await store.addToken(hash, parsed.data.role, parsed.data.name);
      ctx.res.statusCode = 201;
      return { token: t, id: hash.slice(0, 12), role: parsed.data.role, name: parsed.data.name };
    },
  });
  add({
    method: 'POST',
    path: '/api/tokens/:id/revoke',
    role: 'admin',
    summary:
      'revoke a token (id as `antidote serve token list` shows it); it is refused on every route at once',
    handler: async (ctx) => {
      const id = ctx.params.id;
      if (!TOKEN_ID.test(id)) throw new HttpError(400, 'a token id is 12 hexadecimal characters');
      const out = await store.revokeToken(id);
      tokens.clear();
      if (out === 'unknown') throw new HttpError(404, 'no such token');
      return { id, revoked: true, already: out === 'already' };
    },
  });
  add({
    method: 'GET',
    path: '/api/export-trusted',
    role: 'viewer',
    summary: 'cleared rows and confirmed corrections, as additions to the trusted set (query: run)',
    handler: async (ctx) => {
      const run = ctx.query.get('run') ?? undefined;
      if (run !== undefined && !RUN_ID.test(run))
        throw new HttpError(400, 'a run id is 32 hexadecimal characters');
      return { runs: await store.exportTrusted(run) };
    },
  });
  return r;
}

export function createApp(opts: ServerOptions): Server {
  const tokenCache = new TokenCache();
  const router = buildRoutes(opts, tokenCache);
  const log = opts.log ?? jsonLogger();
  const perMinute = opts.rateLimit ?? 600;
  const limiter = new RateLimiter(perMinute, Math.max(20, Math.ceil(perMinute / 4)));
  const anonLimiter = new RateLimiter(Math.max(60, perMinute / 10), 30);

  async function principalOf(req: IncomingMessage) {
    const token = bearer(req.headers.authorization);
    if (!token) return undefined;
    const hash = hashToken(token);
    const hit = tokenCache.get(hash);
    if (hit !== undefined) return { hash, p: hit };
    const p = (await opts.store.tokenByHash(hash)) ?? null;
    tokenCache.set(hash, p);
    return { hash, p };
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
  ): Promise<Record<string, unknown>> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (!path.startsWith('/api/')) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method not allowed');
      // Assets come from a fixed in-memory map; a request path is a key, never a file name.
      const asset = opts.assets?.get(path === '/' || !path.includes('.') ? '/index.html' : path);
      if (!asset) throw new HttpError(404, 'not found');
      return { bytes: send(res, 200, asset.body, asset.type) };
    }
    const m = router.match(method, path);
    if (m === 'method') throw new HttpError(405, 'method not allowed');
    if (!m) throw new HttpError(404, 'no such route');
    const { route, params } = m;
    const ctx: Ctx = { req, res, params, query: url.searchParams };
    const extra: Record<string, unknown> = { route: route.path };
    if (route.role) {
      const who = await principalOf(req);
      if (!who?.p) {
        if (!anonLimiter.take(req.socket.remoteAddress ?? '?')) throw new HttpError(429, 'too many requests');
        res.setHeader('www-authenticate', 'Bearer');
        throw new HttpError(
          401,
          who ? 'unknown or revoked token' : 'a bearer token is required (Authorization: Bearer ...)',
        );
      }
      extra.who = who.p.name;
      extra.role = who.p.role;
      if (!limiter.take(who.hash)) {
        res.setHeader('retry-after', '1');
        throw new HttpError(429, 'too many requests for this token; slow down');
      }
      if (!atLeast(who.p.role, route.role))
        throw new HttpError(403, `this needs the ${route.role} role (the token is ${who.p.role})`);
      ctx.principal = who.p;
    } else if (!anonLimiter.take(req.socket.remoteAddress ?? '?'))
      throw new HttpError(429, 'too many requests');
    if (route.maxBody !== undefined) ctx.body = await readJson(req, route.maxBody);
    const out = await route.handler(ctx);
    const status = res.statusCode && res.statusCode !== 200 ? res.statusCode : 200;
    extra.bytes = send(res, status, out);
    void reqId;
    return extra;
  }

  return createServer((req, res) => {
    const t0 = performance.now();
    const reqId = randomUUID();
    const path = (req.url ?? '/').split('?')[0];
    handle(req, res, reqId).then(
      (extra) =>
        log({
          level: 'info',
          msg: 'request',
          reqId,
          method: req.method,
          path,
          status: res.statusCode,
          ms: +(performance.now() - t0).toFixed(1),
          ...extra,
        }),
      (err) => {
        const http = err instanceof HttpError;
        const status = http ? err.status : 500;
        if (!res.headersSent) {
          // An unread body on a refused request: answer, then close, so the client stops sending.
          if (status === 413 || status === 401 || status === 403) res.setHeader('connection', 'close');
          send(res, status, { error: http ? err.message : 'internal error' });
        } else res.end();
        if (status === 413) req.destroy();
        log({
          level: status >= 500 ? 'error' : 'warn',
          msg: 'request',
          reqId,
          method: req.method,
          path,
          status,
          ms: +(performance.now() - t0).toFixed(1),
          error: http ? err.message : String((err as Error)?.message ?? err),
        });
      },
    );
  });
}
