/**
 * `antidote guard proxy`: a sidecar in front of a TF Serving / KServe v1 endpoint. For each
 * `POST .../predict` it reads the instances (bounded), forwards the request bytes unchanged, validates the
 * answer (count, shape, NaN, probabilities), scores every instance, counts it into the open window (journal
 * first), and answers: the model's bytes unchanged (pass or log), the answer with an `antidote_guard` field and
 * an `x-antidote-guard` header (flag), or 403 with the reasons (block). An upstream that is down, slow or
 * answers nonsense gets 502 with the reason, never a silent pass. `/metrics` serves Prometheus metrics and
 * `/healthz` the open window. Nothing else is forwarded: what the guard cannot check does not reach the model.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parseJsonBounded } from '../../core/json-depth.js';
import { predictionsOf } from '../../gate/models/http.js';
import type { InputBatch } from '../../gate/models/types.js';
import type { Decision, GuardEngine } from './engine.js';
import { instancesOf, RequestError, toBatch } from './instances.js';
import type { GuardMetrics } from './metrics.js';
import { type Upstream, UpstreamError } from './upstream.js';

export interface ProxyOptions {
  maxBodyBytes: number;
  maxInstances: number;
  /** Upstream requests per second STRIP may spend on perturbed copies (0: none). */
  stripRate: number;
  /** Checks that cannot run at all in this configuration (the scorer's `unavailable`), and why. */
  unavailable: Record<string, string>;
}

const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
  'content-length',
  'expect',
]);

function send(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The header value: the action, the rules and the instances they concern (1-based). */
function headerOf(d: Decision): string {
  const rules = [...new Set(d.flags.map((f) => f.rule))].join(',');
  const inst = [...new Set(d.flags.map((f) => f.instance + 1))].slice(0, 50).join(',');
  return `${d.action}; rules=${rules}; instances=${inst}`;
}

export function createProxy(
  engine: GuardEngine,
  upstream: Upstream,
  metrics: GuardMetrics,
  opts: ProxyOptions,
) {
  const k = engine.profile.classes.length;
  const features = engine.profile.model.features;
  const inputs = engine.profile.inputs;
  let seq = 0;
  const boot = Date.now().toString(36);
  // STRIP and occlusion budget: a token bucket refilled at stripRate per second, at most one second's worth banked.
  let tokens = opts.stripRate;
  let refilled = Date.now();
  const takeToken = () => {
    const now = Date.now();
    tokens = Math.min(opts.stripRate, tokens + ((now - refilled) / 1000) * opts.stripRate);
    refilled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  // Perturbed copies are sent as the client sent its instances: rows of numbers, or objects keyed by name.
  const predictFor =
    (path: string, headers: http.OutgoingHttpHeaders, objects: boolean) =>
    async (b: InputBatch): Promise<Float64Array> => {
      if (!takeToken())
        throw new Error(
          `the budget of ${opts.stripRate} upstream requests per second for STRIP and occlusion is spent`,
        );
      const rows: unknown[] = [];
      for (let i = 0; i < b.n; i++) {
        if (features && !objects) rows.push(features.map((f) => b.columns.get(f)?.values[i] ?? null));
        else {
          const r: Record<string, unknown> = {};
          for (const name of features ?? inputs.map((c) => c.name)) {
            const v = b.columns.get(name)?.values[i];
            r[name] = typeof v === 'number' && Number.isNaN(v) ? null : v;
          }
          rows.push(r);
        }
      }
      const ans = await upstream.post(path, JSON.stringify({ instances: rows }), headers);
      if (ans.status < 200 || ans.status >= 300) throw new Error(`the upstream answered HTTP ${ans.status}`);
      return predictionsOf(parseJsonBounded(ans.body.toString('utf8')), b.n, k, 'the upstream');
    };

  const guarded = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, path: string) => {
    const t0 = performance.now();
    const given = req.headers['x-request-id'];
    const requestId =
      typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : `${boot}-${++seq}`;
    let batch: InputBatch;
    let objects = false;
    try {
      let doc: unknown;
      try {
        doc = parseJsonBounded(body.toString('utf8'));
      } catch {
        throw new RequestError('the request body is not valid JSON');
      }
      const instances = instancesOf(doc, opts.maxInstances);
      objects = instances.some((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
      batch = toBatch(engine.profile, instances, requestId);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      metrics.requests.inc({ outcome: 'bad_request' });
      send(res, 400, { error: `antidote guard: ${err.message}` }, { 'x-antidote-guard': 'refused' });
      return;
    }
    const slices = engine.slices(batch);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, v] of Object.entries(req.headers))
      if (!HOP.has(name) && v !== undefined) headers[name] = v;
    const tUp = performance.now();
    let answer: { status: number; contentType?: string; body: Buffer };
    try {
      answer = await upstream.post(path, body, headers);
    } catch (err) {
      if (!(err instanceof UpstreamError)) throw err;
      metrics.upstreamErrors.inc({ reason: err.reason });
      metrics.requests.inc({ outcome: 'upstream_error' });
      send(
        res,
        502,
        { error: `antidote guard: ${err.message}`, reason: err.reason },
        { 'x-antidote-guard': 'upstream-error' },
      );
      return;
    }
    const upMs = performance.now() - tUp;
    if (answer.status >= 400 && answer.status < 500) {
      // The model server refused the client's request: its answer goes back as it is, nothing was predicted.
      metrics.requests.inc({ outcome: 'upstream_client_error' });
      res.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'application/json',
        'content-length': answer.body.length,
        'x-antidote-guard': 'upstream-refused',
      });
      res.end(answer.body);
      return;
    }
    const bad = (reason: 'status' | 'malformed', message: string) => {
      metrics.upstreamErrors.inc({ reason });
      metrics.requests.inc({ outcome: 'upstream_error' });
      send(
        res,
        502,
        { error: `antidote guard: ${message}`, reason },
        { 'x-antidote-guard': 'upstream-error' },
      );
    };
    if (answer.status < 200 || answer.status >= 300)
      return bad('status', `the upstream answered HTTP ${answer.status}`);
    let parsed: unknown;
    let probs: Float64Array;
    try {
      parsed = parseJsonBounded(answer.body.toString('utf8'));
    } catch {
      return bad('malformed', 'the upstream answered with invalid JSON (NaN or Infinity are not JSON)');
    }
    try {
      probs = predictionsOf(parsed, batch.n, k, 'the upstream');
    } catch (err) {
      return bad('malformed', (err as Error).message);
    }
    let d: Decision;
    try {
      d = await engine.check(batch, probs, requestId, Date.now(), predictFor(path, headers, objects), slices);
    } catch (err) {
      metrics.requests.inc({ outcome: 'error' });
      send(
        res,
        500,
        { error: `antidote guard: the request could not be checked or recorded: ${(err as Error).message}` },
        {
          'x-antidote-guard': 'error',
        },
      );
      return;
    }
    metrics.instances.inc(batch.n);
    // Counted: a check that should have run and could not (budget, upstream failure); not the ordinary
    // sampling ("not flagged", "not sampled") nor a check unavailable for the whole run.
    for (const v of d.verdicts)
      for (const c of v.checks)
        if (c.skipped && !c.skipped.startsWith('not ') && c.skipped !== opts.unavailable[c.id])
          metrics.skipped.inc({ check: c.id });
    metrics.windowInstances.set(engine.window.overall.n);
    metrics.windowIndex.set(engine.window.index);
    const report = {
      action: d.action,
      request: requestId,
      flags: d.flags.map((f) => ({ ...f, instance: f.instance + 1 })),
    };
    if (d.action === 'block') {
      metrics.requests.inc({ outcome: 'block' });
      send(
        res,
        403,
        { error: 'blocked by antidote guard', antidote_guard: report },
        { 'x-antidote-guard': headerOf(d) },
      );
    } else if (d.action === 'flag' && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      metrics.requests.inc({ outcome: 'flag' });
      send(res, 200, { ...(parsed as object), antidote_guard: report }, { 'x-antidote-guard': headerOf(d) });
    } else {
      metrics.requests.inc({ outcome: d.action === 'log' ? 'log' : 'pass' });
      res.writeHead(answer.status, {
        'content-type': answer.contentType ?? 'application/json',
        'content-length': answer.body.length,
        'x-antidote-guard': d.action === 'log' ? headerOf({ ...d, flags: [] }).split(';')[0] : 'pass',
      });
      res.end(answer.body);
    }
    metrics.overhead.observe((performance.now() - t0 - upMs) / 1000);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    const bare = path.split('?')[0];
    if (req.method === 'GET' && bare === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(res, 200, text, { 'content-type': metrics.registry.contentType }),
        () => send(res, 500, { error: 'metrics unavailable' }),
      );
      return;
    }
    if (req.method === 'GET' && bare === '/healthz') {
      send(res, 200, {
        ok: true,
        window: {
          index: engine.window.index,
          instances: engine.window.overall.n,
          requests: engine.window.requests,
        },
        alarms: engine.activeAlarms(),
      });
      return;
    }
    if (req.method !== 'POST' || !/(:|\/)predict$/.test(bare)) {
      req.resume();
      send(res, 404, { error: 'antidote guard forwards only POST .../predict (TF Serving / KServe v1)' });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    const tooLarge = () => {
      metrics.requests.inc({ outcome: 'too_large' });
      send(
        res,
        413,
        { error: `antidote guard: the request is larger than ${opts.maxBodyBytes} bytes` },
        { connection: 'close' },
      );
      req.destroy();
    };
    if (declared > opts.maxBodyBytes) return tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      total += c.length;
      if (total > opts.maxBodyBytes) {
        over = true;
        tooLarge();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (over) return;
      guarded(req, res, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), path).catch((err) => {
        metrics.requests.inc({ outcome: 'error' });
        if (!res.headersSent)
          send(res, 500, { error: `antidote guard: internal error: ${(err as Error).message}` });
        else res.destroy();
      });
    });
  };

  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 120_000 }, handler);
  return server;
}
