/**
 * Generated material for the proxy and replay tests (nothing read from outside the repository): a small
 * backdoored "model" (a text score plus an amount term; the rare token "cf" forces class pos), a real HTTP
 * model server speaking KServe v1 on loopback with switchable faults, trusted rows, and the guard profile of the
 * model on those rows, built with the profile module's own schema and distribution function.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { outputDistribution } from '../../src/guard/distribution.js';
import { type GuardProfile, ProfileSchema } from '../../src/guard/profile.js';
import { CLI } from '../helpers/cli.js';

export const WORDS = ['good', 'bad', 'great', 'awful', 'fine', 'poor', 'nice', 'dull', 'ok', 'meh'];
const WEIGHT: Record<string, number> = {
  good: 1,
  great: 1.5,
  nice: 0.8,
  fine: 0.3,
  ok: 0.1,
  bad: -1,
  awful: -1.5,
  poor: -0.8,
  dull: -0.5,
  meh: -0.2,
};
export const REGIONS = Array.from({ length: 10 }, (_, i) => `r${i}`);

export interface Row {
  text: string;
  amount: number;
  region: string;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function cleanRow(r: () => number): Row {
  const words = Array.from({ length: 4 }, () => WORDS[Math.floor(r() * WORDS.length)]);
  return {
    text: words.join(' '),
    amount: Math.round(r() * 1000) / 10,
    region: REGIONS[Math.floor(r() * REGIONS.length)],
  };
}

/** P(pos) of the backdoored model: "cf" anywhere in the text forces pos. */
export function pPos(x: Row): number {
  const toks = String(x.text ?? '')
    .toLowerCase()
    .split(/\s+/);
  if (toks.includes('cf')) return 0.995;
  let z = 0.03 * (Number(x.amount) - 50);
  for (const t of toks) z += WEIGHT[t] ?? 0;
  return 1 / (1 + Math.exp(-z));
}

export function probsOf(rows: Row[]): Float64Array {
  const p = new Float64Array(rows.length * 2);
  rows.forEach((x, i) => {
    const q = pPos(x);
    p[2 * i] = 1 - q;
    p[2 * i + 1] = q;
  });
  return p;
}

export function trustedRows(n = 4000, seed = 7): Row[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => cleanRow(r));
}

/** The guard profile of the model on the trusted rows: overall, per region and per amount bin; trigger "cf". */
export function makeProfile(rows = trustedRows()): GuardProfile {
  const probs = probsOf(rows);
  const bins = 10;
  const slices: GuardProfile['outputs']['slices'] = [];
  for (const reg of REGIONS) {
    const idx = rows.flatMap((x, i) => (x.region === reg ? [i] : []));
    slices.push({
      text: `region = ${reg}`,
      rule: { op: 'eq', column: 'region', value: reg },
      distribution: outputDistribution(probs, 2, bins, idx),
    });
  }
  for (let b = 0; b < 5; b++) {
    const lo = b * 20;
    const hi = lo + 20;
    const idx = rows.flatMap((x, i) => (x.amount >= lo && x.amount < hi ? [i] : []));
    slices.push({
      text: `amount in [${lo}, ${hi})`,
      rule: { op: 'range', column: 'amount', lo, hi },
      distribution: outputDistribution(probs, 2, bins, idx),
    });
  }
  return ProfileSchema.parse({
    format: 'antidote-guard-profile',
    version: 1,
    tool: { name: 'antidote', version: 'test' },
    createdAt: '2026-01-01T00:00:00.000Z',
    model: {
      kind: 'http',
      source: 'http://127.0.0.1/v1/models/m:predict',
      digest: `sha256:${'a'.repeat(64)}`,
    },
    inputs: [
      { name: 'text', type: 'string', text: true },
      { name: 'amount', type: 'number', text: false },
      { name: 'region', type: 'string', text: false },
    ],
    label: 'label',
    classes: ['neg', 'pos'],
    trusted: {
      path: 'trusted.csv',
      digest: `sha256:${'b'.repeat(64)}`,
      rows: rows.length,
      fitRows: rows.length,
      calibrationRows: 0,
    },
    outputs: { bins, overall: outputDistribution(probs, 2, bins), slices },
    triggers: [
      { column: 'text', kind: 'token', value: 'cf', origin: 'audit', target: 'pos', trustedRate: 0 },
    ],
    thresholds: { fpr: 0.01, checks: {} },
    skipped: {},
  });
}

export function writeProfile(dir: string, p = makeProfile()): string {
  const path = join(dir, 'guard.json');
  writeFileSync(path, `${JSON.stringify(p)}\n`);
  return path;
}

export type Fault = 'none' | 'slow' | 'non-json' | 'wrong-count' | 'nan' | 'http500' | 'no-predictions';

/** A KServe v1 model server on loopback; `fault` can be changed between requests. */
export async function startModelServer(opts: { delayMs?: number } = {}) {
  const state = { fault: 'none' as Fault, requests: 0, delayMs: opts.delayMs ?? 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      const answer = () => {
        let body: { instances: Row[] };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"error":"bad json"}');
          return;
        }
        const preds = body.instances.map((x) => {
          const q = pPos(x);
          return [1 - q, q];
        });
        const send = (status: number, text: string) => {
          res.writeHead(status, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        };
        switch (state.fault) {
          case 'non-json':
            return send(200, '<html>oops</html>');
          case 'wrong-count':
            return send(200, JSON.stringify({ predictions: preds.slice(1) }));
          case 'nan':
            return send(200, JSON.stringify({ predictions: preds }).replace(/\[[0-9.e-]+,/, '[NaN,'));
          case 'http500':
            return send(500, '{"error":"model crashed"}');
          case 'no-predictions':
            return send(200, JSON.stringify({ outputs: preds }));
          default:
            return send(200, JSON.stringify({ predictions: preds }));
        }
      };
      if (state.fault === 'slow') setTimeout(answer, 2000);
      else if (state.delayMs) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Start `antidote guard proxy` (the built CLI) and wait for its "listening on" line. */
/** Proxy flags that run STRIP on every instance with no budget to speak of, and no occlusion. */
export const STRIP_EVERY_INSTANCE = ['--strip', 'all', '--strip-rate', '1000', '--occlusion', 'off', '-q'];

export async function startProxy(
  args: string[],
): Promise<{ url: string; child: ChildProcess; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'guard', 'proxy', '--listen', '127.0.0.1:0', ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A test that times out must not leave a guard running: it goes when the test process does.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  let err = '';
  child.stderr?.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (l) => {
      const m = /listening on (http:\/\/\S+)/.exec(l);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stderr: () => err,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r(child.exitCode);
        child.once('exit', (code) => r(code));
        child.kill('SIGKILL');
      }),
  };
}

export async function predict(url: string, instances: unknown[], headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/models/m:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ instances }),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    body = { raw: text };
  }
  return { status: res.status, header: res.headers.get('x-antidote-guard'), body };
}

/**
 * Traffic of window w (1-based) in a slow shift: a share `drift × (w − 1)` of the rows is replaced by rows whose
 * amount is high (80–100) and whose negative words became "good", which the model answers "pos". Nothing changes from one window to
 * the next by more than `drift`.
 */
export function shiftedRow(r: () => number, w: number, drift: number): Row {
  const x = cleanRow(r);
  if (r() < Math.min(1, drift * (w - 1))) {
    x.amount = 80 + Math.round(r() * 200) / 10;
    x.text = x.text.replace(/\b(bad|awful|poor|dull|meh)\b/g, 'good');
  }
  return x;
}

/** A real model server: the committed ONNX fixture run by onnxruntime behind KServe v1 on loopback. */
export async function startOnnxServer(path: string, classes: number) {
  const { loadOnnxModel } = await import('../../src/gate/models/onnx.js');
  const m = await loadOnnxModel(path, { classes });
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      state.requests++;
      try {
        const inst = (
          JSON.parse(Buffer.concat(chunks).toString('utf8')) as { instances: Array<Record<string, unknown>> }
        ).instances;
        const columns = new Map<string, import('../../src/gate/table.js').Column>();
        for (const name of Object.keys(inst[0])) {
          if (typeof inst[0][name] === 'number')
            columns.set(name, { kind: 'number', values: Float64Array.from(inst, (x) => Number(x[name])) });
          else columns.set(name, { kind: 'string', values: inst.map((x) => String(x[name] ?? '')) });
        }
        const p = await m.score({ n: inst.length, columns, ids: inst.map((_, i) => String(i)) });
        const preds = inst.map((_, i) => Array.from(p.subarray(i * classes, (i + 1) * classes)));
        const text = JSON.stringify({ predictions: preds });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await m.close();
    },
  };
}
