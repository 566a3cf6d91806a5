/**
 * `antidote guard proxy` end to end: the built CLI in front of a real KServe v1 server on loopback.
 * Flag and block decisions, every upstream fault (down, slow, non-JSON, wrong count, NaN, HTTP 500, no
 * predictions) answered 502 with its reason, request limits, /metrics, and a SIGKILL in the middle of a window.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRecords } from '../../src/server/ingest.js';
import { RunPostSchema } from '../../src/server/schema.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { cleanRow, predict, rng, startModelServer, startProxy, writeProfile } from './watch-fixtures.js';

type Server = Awaited<ReturnType<typeof startModelServer>>;
type Proxy = Awaited<ReturnType<typeof startProxy>>;

const dir = tempDir('guard-proxy-');
const profile = writeProfile(dir);
let model: Server;
const proxies: Proxy[] = [];
const start = async (args: string[]) => {
  const p = await startProxy(['--profile', profile, '--upstream', model.url, ...args]);
  proxies.push(p);
  return p;
};

beforeAll(async () => {
  model = await startModelServer();
});
afterAll(async () => {
  for (const p of proxies) await p.stop();
  await model.close();
});

describe('guard proxy: decisions', () => {
  it('passes clean requests unchanged and flags an instance carrying the known trigger (default policy)', async () => {
    const p = await start(['--findings', join(dir, 'findings.jsonl'), '-q']);
    const r = rng(1);
    const clean = [cleanRow(r), cleanRow(r)];
    const ok = await predict(p.url, clean);
    expect(ok.status).toBe(200);
    expect(ok.header).toBe('pass');
    expect(ok.body.antidote_guard).toBeUndefined();
    expect((ok.body.predictions as number[][]).length).toBe(2);

    const trig = { ...cleanRow(r), text: 'bad awful cf dull' };
    const fl = await predict(p.url, [clean[0], trig]);
    expect(fl.status).toBe(200);
    expect(fl.header).toMatch(/^flag; rules=guard\/known-trigger; instances=2$/);
    // The model's answer is kept; the guard's verdict is added beside it.
    expect((fl.body.predictions as number[][])[1][1]).toBeCloseTo(0.995);
    const g = fl.body.antidote_guard as {
      action: string;
      flags: Array<{ instance: number; rule: string; reason: string }>;
    };
    expect(g.action).toBe('flag');
    expect(g.flags).toHaveLength(1);
    expect(g.flags[0]).toMatchObject({ instance: 2, rule: 'guard/known-trigger' });
    expect(g.flags[0].reason).toContain('"cf"');
    const lines = readFileSync(join(dir, 'findings.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      action: 'flag',
      instance: 2,
      finding: { rule: 'guard/known-trigger', severity: 'high' },
    });

    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    expect(metrics).toMatch(/antidote_guard_requests_total\{outcome="pass"\} 1/);
    expect(metrics).toMatch(/antidote_guard_requests_total\{outcome="flag"\} 1/);
    expect(metrics).toMatch(/antidote_guard_findings_total\{rule="guard\/known-trigger",action="flag"\} 1/);
    expect(metrics).toMatch(/antidote_guard_instances_total 4/);
  });

  it('blocks with 403 and the reason when the policy says block', async () => {
    const p = await start(['--policy', 'known-trigger=block', '-q']);
    const r = rng(2);
    const res = await predict(p.url, [cleanRow(r), { ...cleanRow(r), text: 'cf good' }]);
    expect(res.status).toBe(403);
    expect(res.body.predictions).toBeUndefined();
    expect(res.body.error).toBe('blocked by antidote guard');
    expect(JSON.stringify(res.body.antidote_guard)).toContain('known trigger');
    const log = await start(['--policy', 'all=log', '-q']);
    const lr = await predict(log.url, [{ ...cleanRow(r), text: 'cf good' }]);
    expect(lr.status).toBe(200);
    expect(lr.header).toBe('log');
    expect(lr.body.antidote_guard).toBeUndefined();
  });

  it('refuses what it cannot check: too large (413), not JSON or no instances (400), other paths (404)', async () => {
    const p = await start(['--max-body', '2000', '-q']);
    const big = Array.from({ length: 100 }, () => cleanRow(rng(3)));
    expect((await predict(p.url, big)).status).toBe(413);
    const before = model.state.requests;
    const bad = await fetch(`${p.url}/v1/models/m:predict`, { method: 'POST', body: '{"instances": [' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('not valid JSON');
    const none = await fetch(`${p.url}/v1/models/m:predict`, {
      method: 'POST',
      body: '{"inputs": {"text": ["a"]}}',
    });
    expect(none.status).toBe(400);
    expect((await fetch(`${p.url}/v1/models/m:explain`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(model.state.requests).toBe(before);
  });
});

describe('guard proxy: upstream faults give 502 with the reason, never a pass', () => {
  const cases: Array<[string, RegExp]> = [
    ['non-json', /invalid JSON/],
    ['wrong-count', /returned 1 predictions for 2 inputs/],
    ['nan', /invalid JSON|NaN/],
    ['http500', /HTTP 500/],
    ['no-predictions', /without a "predictions" array/],
    ['slow', /did not answer within 300 ms/],
  ];
  it.each(cases)('%s', async (fault, reason) => {
    const p = await start(['--timeout', '300', '-q']);
    model.state.fault = fault as never;
    try {
      const r = rng(4);
      const res = await predict(p.url, [cleanRow(r), cleanRow(r)]);
      expect(res.status).toBe(502);
      expect(res.header).toBe('upstream-error');
      expect(String(res.body.error)).toMatch(reason);
      const m = await (await fetch(`${p.url}/metrics`)).text();
      expect(m).toMatch(/antidote_guard_requests_total\{outcome="upstream_error"\} 1/);
      // Nothing unanswered is counted into the window.
      const h = (await (await fetch(`${p.url}/healthz`)).json()) as { window: { instances: number } };
      expect(h.window.instances).toBe(0);
    } finally {
      model.state.fault = 'none';
    }
  });

  it('upstream down (connection refused)', async () => {
    const down = await startModelServer();
    const url = down.url;
    await down.close();
    const p = await startProxy(['--profile', profile, '--upstream', url, '-q']);
    proxies.push(p);
    const res = await predict(p.url, [cleanRow(rng(5))]);
    expect(res.status).toBe(502);
    expect(String(res.body.error)).toMatch(/unreachable: ECONNREFUSED/);
    expect(res.body.reason).toBe('connect');
  });
});

describe('guard proxy: a restart in the middle of a window loses nothing recorded', () => {
  it('SIGKILL after 30 requests: the restarted guard resumes the window and closes it at 100 instances', async () => {
    const state = join(dir, 'state');
    const args = ['--state', state, '--window-rows', '100', '-q'];
    const r = rng(6);
    let p = await start(args);
    for (let i = 0; i < 30; i++) expect((await predict(p.url, [cleanRow(r), cleanRow(r)])).status).toBe(200);
    await p.stop(); // SIGKILL: no chance to flush anything
    // A kill in the middle of an append leaves a torn last line: it was never answered, so it is dropped.
    appendFileSync(join(state, 'journal-1.jsonl'), '{"t":1,"r":[[0,[3,');
    p = await start(args);
    const h = (await (await fetch(`${p.url}/healthz`)).json()) as {
      window: { index: number; instances: number; requests: number };
    };
    expect(h.window).toEqual({ index: 1, instances: 60, requests: 30 });
    for (let i = 0; i < 10; i++) expect((await predict(p.url, [cleanRow(r), cleanRow(r)])).status).toBe(200);
    // A second restart reads the journal written after the cut: 80 instances, nothing damaged.
    await p.stop();
    p = await start(args);
    const h1 = (await (await fetch(`${p.url}/healthz`)).json()) as { window: { instances: number } };
    expect(h1.window.instances).toBe(80);
    for (let i = 0; i < 10; i++) expect((await predict(p.url, [cleanRow(r), cleanRow(r)])).status).toBe(200);
    const closed = readFileSync(join(state, 'windows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ window: 1, requests: 50, instances: 100 });
    const h2 = (await (await fetch(`${p.url}/healthz`)).json()) as {
      window: { index: number; instances: number };
    };
    expect(h2.window).toMatchObject({ index: 2, instances: 0 });
    expect(existsSync(join(state, 'journal-1.jsonl'))).toBe(false);
  });

  it('a window also closes by time (--window-seconds)', async () => {
    const state = join(dir, 'state-time');
    const p = await start(['--state', state, '--window-rows', '0', '--window-seconds', '1', '-q']);
    const r = rng(7);
    for (let i = 0; i < 5; i++) await predict(p.url, [cleanRow(r)]);
    await new Promise((res) => setTimeout(res, 2500));
    const closed = readFileSync(join(state, 'windows.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(closed[0]).toMatchObject({ window: 1, requests: 5, instances: 5, untested: 16 });
  });

  it('a state folder of another profile is refused (exit 2), not mixed', () => {
    const state = join(dir, 'state');
    const p2 = writeProfile(tempDir('guard-proxy-b-'));
    const prof = JSON.parse(readFileSync(p2, 'utf8'));
    prof.createdAt = '2026-02-02T00:00:00.000Z';
    writeFileSync(join(dir, 'other.json'), JSON.stringify(prof));
    const res = runCli([
      'guard',
      'proxy',
      '--profile',
      join(dir, 'other.json'),
      '--upstream',
      model.url,
      '--listen',
      '127.0.0.1:0',
      '--state',
      state,
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/holds windows counted against another profile/);
    expect(readFileSync(join(state, 'windows.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('guard proxy: --post', () => {
  it('posts each closed window as a guard run that antidote serve accepts', async () => {
    const got: Array<{ auth?: string; body: unknown }> = [];
    const sink = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        got.push({
          auth: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"id":"run-1"}');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    process.env.ANTIDOTE_TOKEN = 'test-token';
    try {
      const p = await start([
        '--post',
        `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        '--window-rows',
        '20',
        '-q',
      ]);
      const r = rng(8);
      for (let i = 0; i < 9; i++) await predict(p.url, [cleanRow(r), cleanRow(r)]);
      await predict(p.url, [cleanRow(r), { ...cleanRow(r), text: 'cf good' }]);
      for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((res) => setTimeout(res, 100));
      expect(got).toHaveLength(1);
      expect(got[0].auth).toBe('Bearer test-token');
      const post = RunPostSchema.parse(got[0].body);
      const rec = toRecords(post);
      expect(rec.run).toMatchObject({
        kind: 'guard',
        verdict: 'flag',
        title: 'guard window 1 (20 instances)',
      });
      // The window's instance findings travel with it.
      expect(rec.findings.map((f) => f.rule)).toEqual(['guard/known-trigger']);
    } finally {
      delete process.env.ANTIDOTE_TOKEN;
      sink.close();
    }
  });
});

describe('guard proxy: bad input is one line and exit 2', () => {
  const base = () => ['guard', 'proxy', '--upstream', model.url, '--listen', '127.0.0.1:0'];
  it.each([
    ['missing profile', ['--profile', '/nonexistent/guard.json'], /no such file/],
    ['foreign profile', ['--profile', 'FOREIGN'], /is not a guard profile/],
    [
      'bad --listen',
      ['--profile', 'PROFILE', '--listen', 'localhost'],
      /--listen "localhost" is not HOST:PORT/,
    ],
    [
      'bad policy',
      ['--profile', 'PROFILE', '--policy', 'known-trigger=drop'],
      /action must be log, flag or block/,
    ],
    ['unknown check', ['--profile', 'PROFILE', '--policy', 'nosuch=block'], /unknown check "nosuch"/],
    ['bad upstream', ['--profile', 'PROFILE', '--upstream', 'ftp://x'], /--upstream must be an http/],
  ])('%s', (_name, extra, msg) => {
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ format: 'antidote-audit-report', version: 1 }));
    const args = [
      ...base(),
      ...extra.map((a) => (a === 'FOREIGN' ? foreign : a === 'PROFILE' ? profile : a)),
    ];
    const res = runCli(args);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(msg);
  });
});
