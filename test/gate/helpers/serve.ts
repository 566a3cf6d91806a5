/**
 * A real HTTP model server on 127.0.0.1 for the gate's tests, speaking the KServe v1 / TF Serving JSON
 * protocol: it turns `instances` into a column batch, scores it with any GateModel and answers
 * `{"predictions": [[p0, p1], ...]}`. Fault modes reproduce what endpoints do wrong. The server picks a free
 * port, counts requests, and closes itself (with every open connection) on close() or after `lifetimeMs`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GateModel, InputBatch } from '../../../src/gate/models/types.js';
import type { Column } from '../../../src/gate/table.js';

export type Fault =
  | 'none'
  | 'status500'
  | 'status400'
  | 'hang'
  | 'wrong-count'
  | 'wrong-width'
  | 'nan'
  | 'out-of-range'
  | 'not-json'
  | 'no-predictions'
  | 'flaky';

export interface Served {
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}

function batchFrom(instances: Array<Record<string, unknown>>): InputBatch {
  const columns = new Map<string, Column>();
  const names = Object.keys(instances[0] ?? {});
  for (const name of names) {
    const numeric = instances.every((r) => typeof r[name] === 'number' || r[name] === null);
    if (numeric)
      columns.set(name, {
        kind: 'number',
        values: Float64Array.from(instances, (r) => (r[name] === null ? Number.NaN : (r[name] as number))),
      });
    else columns.set(name, { kind: 'string', values: instances.map((r) => String(r[name] ?? '')) });
  }
  return { n: instances.length, columns, ids: instances.map((_, i) => String(i)) };
}

export async function serveModel(
  model: GateModel | undefined,
  opts: { fault?: Fault; classes?: number; lifetimeMs?: number; flakyFailures?: number } = {},
): Promise<Served> {
  const fault = opts.fault ?? 'none';
  const k = opts.classes ?? 2;
  let count = 0;
  let failuresLeft = opts.flakyFailures ?? 2;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      count++;
      if (fault === 'hang') return; // never answers
      if (fault === 'status500' || (fault === 'flaky' && failuresLeft-- > 0)) {
        res.writeHead(500).end('internal error');
        return;
      }
      if (fault === 'status400') {
        res.writeHead(400).end('{"error": "bad instances"}');
        return;
      }
      let body: { instances?: Array<Record<string, unknown>> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('bad json');
        return;
      }
      const inst = body.instances ?? [];
      let probs: number[][];
      if (model) {
        const p = await model.score(batchFrom(inst));
        probs = inst.map((_, i) => Array.from(p.subarray(i * k, i * k + k)));
      } else probs = inst.map(() => [0.5, 0.5]);
      let text: string;
      switch (fault) {
        case 'wrong-count':
          text = JSON.stringify({ predictions: probs.slice(1) });
          break;
        case 'wrong-width':
          text = JSON.stringify({ predictions: probs.map((r) => [...r, 0]) });
          break;
        case 'nan':
          text = JSON.stringify({ predictions: probs.map((r) => r[1]) }).replace(
            /^(\{"predictions":\[)[^,\]]+/,
            '$1NaN',
          );
          break;
        case 'out-of-range':
          text = JSON.stringify({ predictions: probs.map((r) => r[1] * 7 - 3) });
          break;
        case 'not-json':
          text = '<html>gateway</html>';
          break;
        case 'no-predictions':
          text = JSON.stringify({ outputs: probs });
          break;
        default:
          text = JSON.stringify({ predictions: probs });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const timer = setTimeout(() => void close(), opts.lifetimeMs ?? 120_000);
  timer.unref();
  const close = () =>
    new Promise<void>((resolve) => {
      clearTimeout(timer);
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}/v1/models/m:predict`, requests: () => count, close };
}
