/**
 * The proxy's client for the model server: node:http(s) with a keep-alive agent (a new connection per request
 * would cost more than everything else the guard does), one timer over the whole exchange (connect, headers and
 * every byte of the body), and a bound on the answer's size. Failures are typed by reason so the proxy can
 * answer 502 with it and count it.
 */
import http from 'node:http';
import https from 'node:https';

export type UpstreamFailure = 'connect' | 'timeout' | 'status' | 'malformed' | 'too_large';

export class UpstreamError extends Error {
  constructor(
    readonly reason: UpstreamFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface UpstreamAnswer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface Upstream {
  /** POST `body` to `path` (the client's path, unless the upstream URL fixes one). */
  post(path: string, body: Buffer | string, headers: http.OutgoingHttpHeaders): Promise<UpstreamAnswer>;
  readonly shown: string;
  close(): void;
}

export function upstreamClient(url: URL, timeoutMs: number, maxBytes: number): Upstream {
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 256 })
    : new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 256 });
  const fixedPath = url.pathname !== '/' ? `${url.pathname}${url.search}` : undefined;
  const auth =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  const lib = secure ? https : http;
  return {
    shown,
    post(path, body, headers) {
      return new Promise<UpstreamAnswer>((resolve, reject) => {
        let done = false;
        const fail = (e: UpstreamError) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          req.destroy();
          reject(e);
        };
        const req = lib.request(
          {
            protocol: url.protocol,
            hostname: url.hostname,
            port: url.port || (secure ? 443 : 80),
            method: 'POST',
            path: fixedPath ?? path,
            agent,
            headers: {
              ...headers,
              ...(auth ? { authorization: auth } : {}),
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const declared = Number(res.headers['content-length'] ?? '0');
            if (declared > maxBytes) {
              res.destroy();
              fail(
                new UpstreamError(
                  'too_large',
                  `the upstream answered ${declared} bytes, more than the ${maxBytes} allowed`,
                ),
              );
              return;
            }
            const chunks: Buffer[] = [];
            let total = 0;
            res.on('data', (c: Buffer) => {
              total += c.length;
              if (total > maxBytes) {
                res.destroy();
                fail(new UpstreamError('too_large', `the upstream answered more than ${maxBytes} bytes`));
                return;
              }
              chunks.push(c);
            });
            res.on('end', () => {
              if (done) return;
              done = true;
              clearTimeout(timer);
              resolve({
                status: res.statusCode ?? 0,
                contentType: res.headers['content-type'],
                body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
              });
            });
            res.on('error', (e) =>
              fail(new UpstreamError('connect', `the upstream broke off its answer: ${e.message}`)),
            );
            res.on('aborted', () => fail(new UpstreamError('connect', 'the upstream broke off its answer')));
          },
        );
        const timer = setTimeout(
          () => fail(new UpstreamError('timeout', `the upstream did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
        req.on('error', (e: NodeJS.ErrnoException) =>
          fail(new UpstreamError('connect', `the upstream ${shown} is unreachable: ${e.code ?? e.message}`)),
        );
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
