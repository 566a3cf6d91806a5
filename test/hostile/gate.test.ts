/**
 * Hostile model endpoints for `antidote gate`: dripping and huge bodies, stalls, wrong shapes, NaN, deep
 * JSON, redirects to other hosts, errors. The promise: a gate never waits for ever, never runs out of memory,
 * and never promotes a candidate it could not score (exit 0 only for a well-behaved candidate).
 */

import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type Case, hostileSuite } from './harness.js';

type Handler = (n: number, req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** Count the instances of a KServe v1 request. */
async function instances(req: IncomingMessage): Promise<number> {
  let body = '';
  for await (const c of req) body += c;
  try {
    return (JSON.parse(body).instances as unknown[]).length;
  } catch {
    return 0;
  }
}

function serve(h: Handler): Promise<string> {
  const srv = createServer(async (req, res) => {
    const n = await instances(req);
    h(n, req, res);
  });
  servers.push(srv);
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(srv.address() as { port: number }).port}/`),
    ),
  );
}

const json = (res: ServerResponse, v: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof v === 'string' ? v : JSON.stringify(v));
};
const good: Handler = (n, _q, res) =>
  json(res, { predictions: Array.from({ length: n }, (_, i) => (i % 3 === 0 ? [0.2, 0.8] : [0.7, 0.3])) });

const trusted = () => {
  let s = 'a,b,label\n';
  for (let i = 0; i < 120; i++) s += `${i % 7},${(i * 13) % 10},${i % 3 === 0 ? 'p' : 'n'}\n`;
  return s;
};

const gate =
  (candidate: Handler | string, extra: string[] = []) =>
  async (dir: string) => {
    writeFileSync(join(dir, 't.csv'), trusted());
    const inc = await serve(good);
    const cand = typeof candidate === 'string' ? candidate : await serve(candidate);
    return {
      args: [
        'gate',
        '--trusted',
        't.csv',
        '--label',
        'label',
        '--incumbent',
        inc,
        '--candidate',
        cand,
        '--timeout',
        '1500',
        '--deadline',
        '8000',
        ...extra,
      ],
    };
  };

const NOT_PROMOTED = [1, 2];
const cases: Case[] = [];
const add = (
  name: string,
  prepare: Case['prepare'],
  code: number | number[],
  extra: Partial<Case> = {},
): void => {
  cases.push({ name, prepare, code, seconds: 40, rssMiB: 700, asMiB: 32768, ...extra });
};

add('well-behaved candidate is judged', gate(good), [0, 1]);
add(
  'body dripped one byte at a time (timeout)',
  gate((_n, _q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"predictions": [');
    const t = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(t));
  }),
  NOT_PROMOTED,
);
add(
  'each answer slow but within the timeout (total deadline)',
  gate(
    (n, _q, res) => {
      setTimeout(() => good(n, _q, res), 1200);
    },
    // Each answer (1.2 s) is within the 1.5 s request timeout; the total deadline is shorter than one answer,
    // so only the deadline can stop it, whatever the machine's load.
    ['--deadline', '1000'],
  ),
  NOT_PROMOTED,
  {
    check: (r) => {
      if (!/did not finish scoring .* within 1000 ms/.test(r.stdout + r.stderr))
        throw new Error(`no deadline reason:\n${r.stdout}`);
    },
  },
);
add(
  'headers never sent',
  gate(() => undefined),
  NOT_PROMOTED,
);
add(
  'body of 80 MB',
  gate((_n, _q, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < 80 && res.write(chunk)) sent++;
      if (sent < 80) res.once('drain', pump);
      else res.end();
    };
    pump();
  }),
  NOT_PROMOTED,
);
add(
  'content-length of 10^12',
  gate((_n, _q, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000000000000' });
    res.write('{');
  }),
  NOT_PROMOTED,
);
add(
  'gzip bomb as content-encoding',
  gate(async (_n, _q, res) => {
    const { gzipSync } = await import('node:zlib');
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    res.end(gzipSync(Buffer.alloc(200 << 20, 0x20)));
  }),
  NOT_PROMOTED,
);
add(
  'one prediction too few',
  gate((n, _q, res) =>
    json(res, { predictions: Array.from({ length: Math.max(0, n - 1) }, () => [0.5, 0.5]) }),
  ),
  NOT_PROMOTED,
);
add(
  'three probabilities for two classes',
  gate((n, _q, res) => json(res, { predictions: Array.from({ length: n }, () => [0.2, 0.3, 0.5]) })),
  NOT_PROMOTED,
);
add(
  'rows of different widths',
  gate((n, _q, res) =>
    json(res, { predictions: Array.from({ length: n }, (_, i) => (i ? [0.5, 0.5] : [1])) }),
  ),
  NOT_PROMOTED,
);
add(
  'NaN in the answer',
  gate((n, _q, res) =>
    json(res, `{"predictions": [${Array.from({ length: n }, () => '[NaN, 0.5]').join(',')}]}`),
  ),
  NOT_PROMOTED,
);
add(
  'Infinity in the answer',
  gate((n, _q, res) =>
    json(res, `{"predictions": [${Array.from({ length: n }, () => '[Infinity, 0]').join(',')}]}`),
  ),
  NOT_PROMOTED,
);
add(
  'negative probabilities',
  gate((n, _q, res) => json(res, { predictions: Array.from({ length: n }, () => [-0.5, 1.5]) })),
  NOT_PROMOTED,
);
add(
  'strings instead of numbers',
  gate((n, _q, res) => json(res, { predictions: Array.from({ length: n }, () => 'p') })),
  NOT_PROMOTED,
);
add(
  'predictions is an object',
  gate((_n, _q, res) => json(res, { predictions: { a: 1 } })),
  NOT_PROMOTED,
);
add(
  'predictions missing',
  gate((_n, _q, res) => json(res, { outputs: [] })),
  NOT_PROMOTED,
);
add(
  'answer nested 100,000 deep',
  gate((_n, _q, res) => json(res, `{"predictions": ${'['.repeat(100000)}${']'.repeat(100000)}}`)),
  NOT_PROMOTED,
);
add(
  'not JSON',
  gate((_n, _q, res) => json(res, '<html>oops</html>')),
  NOT_PROMOTED,
);
add(
  'empty body',
  gate((_n, _q, res) => json(res, '')),
  NOT_PROMOTED,
);
add(
  'HTTP 500 every time',
  gate((_n, _q, res) => json(res, { error: 'x' }, 500)),
  NOT_PROMOTED,
);
add(
  'HTTP 429 every time',
  gate((_n, _q, res) => json(res, { error: 'slow down' }, 429)),
  NOT_PROMOTED,
);
add(
  'HTTP 404',
  gate((_n, _q, res) => json(res, { error: 'x' }, 404)),
  NOT_PROMOTED,
);
add(
  'redirect to another host',
  gate((_n, _q, res) => {
    res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/' });
    res.end();
  }),
  NOT_PROMOTED,
);
add(
  'connection reset mid-answer',
  gate((_n, req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"predictions": [[0.5');
    setTimeout(() => req.socket.destroy(), 20);
  }),
  NOT_PROMOTED,
);
add('nothing listening', gate('http://127.0.0.1:9/'), NOT_PROMOTED);
add('file:// endpoint', gate('file:///etc/passwd'), 2);
add(
  'endpoint with credentials in the URL is not echoed',
  gate('http://user:s3cret@127.0.0.1:9/'),
  NOT_PROMOTED,
  {
    check: (r) => {
      if (/s3cret/.test(r.stdout + r.stderr)) throw new Error('credentials echoed');
    },
  },
);
add('--timeout 0', gate(good, ['--timeout', '0']), 2);
add('--deadline that is not a number', gate(good, ['--deadline', 'soon']), 2);
add(
  'trusted file nested JSON 100,000 deep',
  async (dir) => {
    writeFileSync(join(dir, 't.jsonl'), `{"a":1,"label":${'['.repeat(100000)}${']'.repeat(100000)}}\n`);
    const inc = await serve(good);
    return {
      args: ['gate', '--trusted', 't.jsonl', '--label', 'label', '--incumbent', inc, '--candidate', inc],
    };
  },
  2,
);
add(
  'candidate ONNX file that is random bytes',
  async (dir) => {
    writeFileSync(join(dir, 't.csv'), trusted());
    writeFileSync(join(dir, 'c.onnx'), Buffer.from('not an onnx model at all'.repeat(20)));
    const inc = await serve(good);
    return {
      args: ['gate', '--trusted', 't.csv', '--label', 'label', '--incumbent', inc, '--candidate', 'c.onnx'],
    };
  },
  NOT_PROMOTED,
);
add(
  'predictions file with unknown ids',
  async (dir) => {
    writeFileSync(
      join(dir, 't.csv'),
      trusted()
        .split('\n')
        .map((l, i) => (l ? `${i ? i : 'id'},${l}` : l))
        .join('\n'),
    );
    writeFileSync(join(dir, 'p.csv'), 'id,p\nzz,0.5\n');
    const inc = await serve(good);
    return {
      args: [
        'gate',
        '--trusted',
        't.csv',
        '--label',
        'label',
        '--id',
        'id',
        '--incumbent',
        inc,
        '--candidate',
        'p.csv',
      ],
    };
  },
  NOT_PROMOTED,
);

hostileSuite('hostile gate', cases);
