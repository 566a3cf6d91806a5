/**
 * The HTTP layer, on node:http with a small router rather than a framework: the server has a dozen routes,
 * and the security-relevant parts (a body limit enforced while streaming, one place that sets status codes
 * and headers, no static file served from a request path) are short enough to read here in full. It also
 * keeps the dependency list of a security tool small.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Role } from './schema.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Principal {
  role: Role;
  name: string;
}

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  principal?: Principal;
  /** The JSON body (read with the route's size limit). */
  body?: unknown;
}

export type Handler = (ctx: Ctx) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** Minimum role; undefined for public routes. */
  role?: Role;
  /** Body limit in bytes for routes that take one. */
  maxBody?: number;
  handler: Handler;
  summary: string;
}

interface Compiled extends Route {
  re: RegExp;
  keys: string[];
}

export class Router {
  private readonly routes: Compiled[] = [];

  add(route: Route): void {
    const keys: string[] = [];
    const re = new RegExp(
      `^${route.path.replace(/[.]/g, '\\.').replace(/:(\w+)/g, (_, k) => {
        keys.push(k);
        return '([^/]+)';
      })}$`,
    );
    this.routes.push({ ...route, re, keys });
  }

  list(): Route[] {
    return this.routes;
  }

  match(
    method: string,
    path: string,
  ): { route: Compiled; params: Record<string, string> } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1]);
      });
      return { route: r, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

/** Read a JSON body, refusing it (413) as soon as it passes `limit` bytes; 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'the body must be application/json');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    throw new HttpError(413, `the body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `the body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Security headers on every response: no script but our own, no framing, no sniffing, no referrer. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
};

export function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): number {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : `${JSON.stringify(body)}\n`;
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': buf.length });
  res.end(buf);
  return buf.length;
}

/** Token buckets per client key: `perMinute` refill, bursts up to `burst`. Bounded: idle keys are dropped. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {}

  take(key: string, now = Date.now()): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size > 10_000) this.prune(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 60_000) * this.perMinute);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at > 120_000) this.buckets.delete(k);
  }
}

export type Logger = (entry: Record<string, unknown>) => void;

/** Structured logs: one JSON object per line. */
export function jsonLogger(out: NodeJS.WritableStream = process.stderr): Logger {
  return (entry) => out.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}
