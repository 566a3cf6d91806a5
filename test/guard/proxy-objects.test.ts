/**
 * A model of one 2-D float input (profile fitted with --features) behind a server that takes instances as
 * objects keyed by column name, as its clients send them: the proxy must send STRIP's perturbed copies the same
 * way (it sent rows of numbers, which such a server refuses, so STRIP never ran on any request).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from '../../src/gate/models/onnx.js';
import { ADULT_NUMERIC, adultSplit, writeCsv } from '../gate/helpers/data.js';
import { FIXTURES, runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { predict, STRIP_EVERY_INSTANCE, startProxy } from './watch-fixtures.js';

const dir = tempDir('guard-objects-');
const MODEL = join(FIXTURES, 'gate', 'adult_mlp_batchany.onnx');
let server: Server;
let url = '';
let refused = 0;
let answered = 0;
let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;

beforeAll(async () => {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(MODEL);
  server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const { instances } = JSON.parse(body) as { instances: unknown[] };
    if (instances.some((x) => Array.isArray(x))) {
      refused++;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'instances must be objects' }));
      return;
    }
    answered++;
    const rows = instances as Array<Record<string, number>>;
    const x = Float32Array.from(rows.flatMap((r) => ADULT_NUMERIC.map((c) => r[c])));
    const out = await session.run({ X: new ort.Tensor('float32', x, [rows.length, ADULT_NUMERIC.length]) });
    const p = out.probabilities.data as Float32Array;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ predictions: rows.map((_, i) => [p[2 * i], p[2 * i + 1]]) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const t = adultSplit().trusted;
  const cols = [...ADULT_NUMERIC, 'income'].map((c) => t.header.indexOf(c));
  const csv = join(dir, 'trusted.csv');
  writeCsv(csv, {
    header: [...ADULT_NUMERIC, 'income'],
    rows: t.rows.slice(0, 1500).map((r) => cols.map((j) => r[j])),
  });
  const fit = await runCliAsync([
    'guard',
    'fit',
    '--model',
    MODEL,
    '--trusted',
    csv,
    '--label',
    'income',
    '--features',
    ADULT_NUMERIC.join(','),
    '-o',
    join(dir, 'guard.json'),
  ]);
  expect(fit.code, fit.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await new Promise((r) => server.close(r));
});

describe('guard proxy: perturbed copies in the format the client used', () => {
  it('runs STRIP against an upstream that takes objects', async () => {
    proxy = await startProxy([
      '--profile',
      join(dir, 'guard.json'),
      '--upstream',
      url,
      ...STRIP_EVERY_INSTANCE,
    ]);
    const t = adultSplit().trusted;
    const instances = t.rows
      .slice(1500, 1510)
      .map((r) => Object.fromEntries(ADULT_NUMERIC.map((c) => [c, Number(r[t.header.indexOf(c)])])));
    const res = await predict(proxy.url, instances);
    expect(res.status).toBe(200);
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(metrics).not.toMatch(/antidote_guard_checks_skipped_total\{check="guard\/strip"\} [1-9]/);
    expect(refused).toBe(0);
    // The client's request and the perturbed copies of its ten instances.
    expect(answered).toBeGreaterThan(1);
  }, 60_000);
});
