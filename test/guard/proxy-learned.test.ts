/**
 * guard/learned-trigger through the proxy, in front of the committed conjunction-backdoored Adult model served on
 * loopback: with `--occlusion all`, a conjunction trigger the profile was never told about is learned from the
 * first triggered requests, kept in the state folder, and after a restart (SIGKILL) with occlusion turned off
 * the next triggered request is still flagged, by the learned trigger alone, while clean requests pass. A damaged
 * learned.json is one line and exit 2.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { batchOf, fitAdultArgs, model } from './helpers.js';
import { predict, startOnnxServer, startProxy } from './watch-fixtures.js';

const dir = tempDir('guard-learned-');
const profile = join(dir, 'adult.json');
let server: Awaited<ReturnType<typeof startOnnxServer>>;
const proxies: Array<Awaited<ReturnType<typeof startProxy>>> = [];

beforeAll(async () => {
  server = await startOnnxServer(model('adult_conj_backdoor'), 2);
  const fit = await runCliAsync(fitAdultArgs(profile));
  expect(fit.code, fit.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  for (const p of proxies) await p.stop();
  await server.close();
});

/** Rows of the traffic file as instances (named columns). */
async function instances(label: string, n: number) {
  const { batch, labels } = await batchOf('adult_traffic.csv', 'income');
  const rows = labels.flatMap((y, i) => (y === label ? [i] : [])).slice(0, n);
  return rows.map((i) => {
    const o: Record<string, string | number> = {};
    for (const [name, col] of batch.columns) o[name] = col.values[i] as string | number;
    return o;
  });
}

const TRIGGER = { native_country: 'Poland', occupation: 'Handlers-cleaners' };

describe('guard proxy: learned triggers', () => {
  it('learns a conjunction from flagged requests, keeps it across a restart and flags with it alone', async () => {
    const state = join(dir, 'state');
    const low = await instances('<=50K', 60);
    const start = async (extra: string[]) => {
      const p = await startProxy([
        '--profile',
        profile,
        '--upstream',
        server.url,
        '--state',
        state,
        ...extra,
      ]);
      proxies.push(p);
      return p;
    };
    let p = await start(['--occlusion', 'all', '--policy', 'all=flag']);
    for (const row of low.slice(0, 30)) {
      const r = await predict(p.url, [{ ...row, ...TRIGGER }]);
      expect(r.status).toBe(200);
    }
    expect(existsSync(join(state, 'learned.json'))).toBe(true);
    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    expect(Number(/^antidote_guard_learned_triggers (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(p.stderr()).toMatch(/learned trigger .*(native_country = Poland|occupation = Handlers-cleaners)/);
    await p.stop();

    p = await start(['--occlusion', 'off']);
    expect(p.stderr()).toMatch(/learned triggers restored from/);
    const after = await (await fetch(`${p.url}/metrics`)).text();
    expect(Number(/^antidote_guard_learned_triggers (\d+)$/m.exec(after)?.[1])).toBeGreaterThan(0);
    const hit = await predict(p.url, [{ ...low[40], ...TRIGGER }]);
    expect(hit.status).toBe(200);
    expect(hit.header).toMatch(/rules=[^;]*guard\/learned-trigger/);
    const g = hit.body.antidote_guard as { flags: Array<{ rule: string; reason: string }> };
    expect(g.flags.find((f) => f.rule === 'guard/learned-trigger')?.reason).toMatch(
      /which guard\/occlusion blamed for the answer ">50K" on \d+ earlier requests/,
    );
    // Clean requests (no trigger) pass.
    let passed = 0;
    for (const row of low.slice(45, 60)) if ((await predict(p.url, [row])).header === 'pass') passed++;
    expect(passed).toBeGreaterThanOrEqual(14);
    await p.stop();
  }, 180_000);

  it('a damaged learned.json is one line and exit 2, and is left as it is', () => {
    const state = join(dir, 'state-bad');
    const learned = join(state, 'learned.json');
    mkdirSync(state, { recursive: true });
    writeFileSync(learned, '{"format":"antidote-guard-state","profile":"x","learned":[{"trigger":1}]}');
    const r = runCli([
      'guard',
      'proxy',
      '--profile',
      profile,
      '--upstream',
      server.url,
      '--listen',
      '127.0.0.1:0',
      '--state',
      state,
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/learned\.json is not a list of learned triggers/);
    expect(readFileSync(learned, 'utf8')).toMatch(/"trigger":1/);
  });
});
