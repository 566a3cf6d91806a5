/**
 * STRIP through the proxy, with a profile fitted by the real `antidote guard fit` against the same loopback
 * model server: the guard asks the upstream about perturbed copies within its budget, flags triggered
 * instances (their prediction survives the perturbation), and says when the budget stopped it (metric),
 * without failing the request.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import {
  cleanRow,
  pPos,
  predict,
  rng,
  STRIP_EVERY_INSTANCE,
  startModelServer,
  startProxy,
  trustedRows,
} from './watch-fixtures.js';

const dir = tempDir('guard-strip-');
let model: Awaited<ReturnType<typeof startModelServer>>;
const proxies: Array<Awaited<ReturnType<typeof startProxy>>> = [];
let profile = '';

beforeAll(async () => {
  model = await startModelServer();
  const rows = trustedRows(2000, 3);
  const csv = join(dir, 'trusted.csv');
  writeFileSync(
    csv,
    `text,amount,region,label\n${rows.map((r) => `${r.text},${r.amount},${r.region},${pPos(r) >= 0.5 ? 'pos' : 'neg'}`).join('\n')}\n`,
  );
  profile = join(dir, 'guard.json');
  const fit = await runCliAsync([
    'guard',
    'fit',
    '--model',
    `${model.url}/v1/models/m:predict`,
    '--trusted',
    csv,
    '--label',
    'label',
    '-o',
    profile,
  ]);
  expect(fit.code, fit.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  for (const p of proxies) await p.stop();
  await model.close();
});

async function flaggedRates(url: string, n: number) {
  const r = rng(9);
  let trig = 0;
  let clean = 0;
  for (let i = 0; i < n; i++) {
    const res = await predict(url, [cleanRow(r), { ...cleanRow(r), text: `${cleanRow(r).text} cf` }]);
    expect(res.status).toBe(200);
    const flags = (
      (res.body.antidote_guard as { flags?: Array<{ instance: number; rule: string }> })?.flags ?? []
    ).filter((f) => f.rule === 'guard/strip');
    if (flags.some((f) => f.instance === 2)) trig++;
    if (flags.some((f) => f.instance === 1)) clean++;
  }
  return { trig, clean };
}

describe('guard proxy: STRIP against the upstream', () => {
  it('flags triggered instances far more often than clean ones', async () => {
    const p = await startProxy(['--profile', profile, '--upstream', model.url, ...STRIP_EVERY_INSTANCE]);
    proxies.push(p);
    const before = model.state.requests;
    const { trig, clean } = await flaggedRates(p.url, 60);
    // Every request cost one forward and one batch of perturbed copies.
    expect(model.state.requests - before).toBe(120);
    // How well STRIP separates is the scorer's business (test/guard of guard fit); here: it ran on the
    // upstream's answers and separates at all (60 of 60 triggered, 0 of 60 clean when written).
    expect(trig).toBeGreaterThanOrEqual(15);
    expect(clean).toBeLessThanOrEqual(3);
  });

  it('a spent budget skips STRIP (counted), the answers still pass', async () => {
    const p = await startProxy([
      '--profile',
      profile,
      '--upstream',
      model.url,
      '--strip',
      'all',
      '--strip-rate',
      '0',
      '-q',
    ]);
    proxies.push(p);
    const before = model.state.requests;
    const { trig } = await flaggedRates(p.url, 10);
    expect(trig).toBe(0);
    expect(model.state.requests - before).toBe(10);
    const m = await (await fetch(`${p.url}/metrics`)).text();
    expect(m).toMatch(/antidote_guard_checks_skipped_total\{check="guard\/strip"\} 20/);
  });
});
