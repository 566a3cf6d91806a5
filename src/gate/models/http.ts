/**
 * A model behind an HTTP endpoint speaking the TensorFlow Serving / KServe v1 JSON protocol:
 *   POST {"instances": [{"column": value, ...}, ...]}  ->  {"predictions": [p, ...]} or {"predictions": [[p0, p1], ...]}
 * Rows go in batches with a bounded number of requests in flight, each with a timeout; network errors,
 * timeouts, 429 and 5xx are retried with exponential backoff. Every answer is validated (count, shape,
 * NaN, probabilities in [0, 1]); a failure after the retries is a ModelError, which blocks the promotion.
 */
import { createHash } from 'node:crypto';
import { parseJsonBounded } from '../../core/json-depth.js';
import { LIMITS } from '../../core/limits.js';
import { type GateModel, type InputBatch, ModelError, toProbabilities } from './types.js';

export interface HttpOptions {
  classes: number;
  /** Columns sent in each instance (the label is never sent). */
  columns: string[];
  batchSize?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Total deadline of one scoring (every request, retry and backoff), so a slow endpoint cannot stall the gate. */
  deadlineMs?: number;
  retries?: number;
  backoffMs?: number;
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return url;
  }
}

export function httpModel(url: string, opts: HttpOptions): GateModel {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ModelError(`${url} is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ModelError(`${url}: only http(s) endpoints are supported`);
  const shown = redactUrl(url);
  // Credentials in the URL go in an Authorization header: fetch refuses such URLs and its error repeats them.
  const auth =
    parsed.username || parsed.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`
      : undefined;
  const what = `endpoint ${shown}`;
  const batchSize = opts.batchSize ?? LIMITS.gate.httpBatch;
  const concurrency = opts.concurrency ?? LIMITS.gate.httpConcurrency;
  const timeoutMs = opts.timeoutMs ?? LIMITS.gate.httpTimeoutMs;
  const retries = opts.retries ?? LIMITS.gate.httpRetries;
  const deadlineMs = opts.deadlineMs ?? LIMITS.gate.httpDeadlineMs;
  const backoffMs = opts.backoffMs ?? 250;

  const instances = (
    batch: InputBatch,
    lo: number,
    hi: number,
  ): Array<Record<string, string | number | null>> => {
    const out: Array<Record<string, string | number | null>> = [];
    for (let i = lo; i < hi; i++) {
      const rec: Record<string, string | number | null> = {};
      for (const name of opts.columns) {
        const col = batch.columns.get(name);
        if (!col) continue;
        if (col.kind === 'number') rec[name] = Number.isFinite(col.values[i]) ? col.values[i] : null;
        else rec[name] = col.values[i];
      }
      out.push(rec);
    }
    return out;
  };

  const once = async (body: string, total: AbortSignal): Promise<unknown> => {
    // One timer covers the whole exchange (connect, headers and every byte of the body): a server that
    // drips its answer is cut off at the timeout, not kept alive by each byte.
    const perRequest = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([perRequest, total]);
    let res: Response;
    try {
      res = await fetch(shown, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(auth ? { authorization: auth } : {}),
        },
        body,
        signal,
        redirect: 'error',
      });
    } catch (err) {
      if (total.aborted) throw total.reason;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const reason =
        e.name === 'TimeoutError'
          ? `timed out after ${timeoutMs} ms`
          : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new Retryable(`${what} did not answer: ${reason.split(url).join(shown)}`);
    }
    const text = await readLimited(res, what, signal).catch((err) => {
      throw total.aborted ? total.reason : err;
    });
    if (res.status === 429 || res.status >= 500) throw new Retryable(`${what} answered HTTP ${res.status}`);
    if (!res.ok)
      throw new ModelError(`${what} answered HTTP ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`);
    try {
      return parseJsonBounded(text);
    } catch {
      throw new ModelError(`${what} answered with invalid JSON (NaN or Infinity are not JSON)`);
    }
  };

  const request = async (body: string, total: AbortSignal): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once(body, total);
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        if (attempt >= retries)
          throw new ModelError(
            `${err.message} (after ${attempt + 1} tries)`,
            'check that the endpoint is up',
          );
        await new Promise((r) => setTimeout(r, backoffMs * 2 ** attempt));
        if (total.aborted) throw total.reason;
      }
    }
  };

  return {
    kind: 'http',
    source: shown,
    digest: `sha256:${createHash('sha256').update(shown).digest('hex')}`,
    runnable: true,
    async score(batch: InputBatch): Promise<Float64Array> {
      const k = opts.classes;
      const result = new Float64Array(batch.n * k);
      const starts: number[] = [];
      for (let lo = 0; lo < batch.n; lo += batchSize) starts.push(lo);
      let next = 0;
      let failure: unknown;
      const deadline = new AbortController();
      const timer = setTimeout(
        () =>
          deadline.abort(
            new ModelError(
              `${what} did not finish scoring ${batch.n} rows within ${deadlineMs} ms`,
              'the endpoint is too slow or stalls its answers; a gate never waits for ever',
            ),
          ),
        deadlineMs,
      );
      const worker = async () => {
        while (next < starts.length && failure === undefined) {
          const lo = starts[next++];
          const hi = Math.min(batch.n, lo + batchSize);
          try {
            const answer = await request(
              JSON.stringify({ instances: instances(batch, lo, hi) }),
              deadline.signal,
            );
            result.set(predictionsOf(answer, hi - lo, k, what), lo * k);
          } catch (err) {
            failure ??= err;
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(concurrency, starts.length) }, worker));
      } finally {
        clearTimeout(timer);
      }
      if (failure !== undefined) throw failure;
      return result;
    },
    async close() {},
  };
}

/**
 * The validated probabilities of a v1 answer `{"predictions": [...]}` for n instances and k classes (also used
 * by `guard proxy` on the answers it relays). Throws a ModelError naming what is wrong.
 */
export function predictionsOf(answer: unknown, n: number, k: number, what: string): Float64Array {
  const preds = (answer as { predictions?: unknown })?.predictions;
  if (!Array.isArray(preds)) throw new ModelError(`${what} answered without a "predictions" array`);
  const nested = preds.length > 0 && Array.isArray(preds[0]);
  const width = nested ? (preds[0] as unknown[]).length : 1;
  if (nested && preds.some((p) => !Array.isArray(p) || p.length !== width))
    throw new ModelError(`${what} answered rows of different widths`);
  if (!nested && preds.some((p) => typeof p !== 'number' && p !== null))
    throw new ModelError(`${what} answered predictions that are not numbers`);
  const rows = nested
    ? (preds as unknown[][]).map((r) => r.map((x) => (typeof x === 'number' ? x : Number.NaN)))
    : (preds as unknown[]).map((x) => (typeof x === 'number' ? x : Number.NaN));
  return toProbabilities(rows as number[] | number[][], n, k, width, what);
}

class Retryable extends Error {}

async function readLimited(res: Response, what: string, signal: AbortSignal): Promise<string> {
  const max = LIMITS.gate.maxResponseBytes;
  const len = Number(res.headers.get('content-length') ?? '0');
  if (len > max) {
    // An unread body keeps its socket open and the process alive; drop it.
    await res.body?.cancel().catch(() => {});
    throw new ModelError(`${what} answered ${len} bytes, more than the ${max} allowed`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (signal.aborted) throw signal.reason;
      total += chunk.length;
      if (total > max) throw new ModelError(`${what} answered more than ${max} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ModelError) throw err;
    const e = err as Error;
    if (e.name === 'TimeoutError' || signal.aborted)
      throw new Retryable(`${what} broke off its answer: timed out`);
    throw new Retryable(
      `${what} broke off its answer: ${e.name === 'TimeoutError' ? 'timed out' : e.message}`,
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}
