/**
 * The proxy in front of a real model server (the committed rare-word backdoored SST-2 classifier, ONNX, run by
 * onnxruntime behind KServe v1 on loopback), with a profile from `antidote guard fit` and `--model` for
 * activations: every instance is scored by guard/activation and the answers carry exactly the verdicts the
 * scorer gives in process on the model's own probabilities (how well the check separates is measured by the
 * scorer's own tests and benchmark); a profile of another model is refused (exit 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { readProfile } from '../../src/guard/profile.js';
import { createScorer } from '../../src/guard/scorer.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { data, fitSst2Args, model, writeReplayLog } from './helpers.js';
import { predict, startOnnxServer, startProxy } from './watch-fixtures.js';

const dir = tempDir('guard-onnx-');
const profile = join(dir, 'guard.json');
let server: Awaited<ReturnType<typeof startOnnxServer>>;
let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;

beforeAll(async () => {
  server = await startOnnxServer(model('sst2_rare_backdoor'), 2);
  // Per-word embeddings: a bag-of-embeddings model averages a trigger word away in later layers.
  const fit = await runCliAsync(fitSst2Args(profile, ['--layer', 'embedded']));
  expect(fit.code, fit.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await proxy?.stop();
  await server.close();
});

function sentences(n: number): string[] {
  const lines = readFileSync(data('sst2_traffic.csv'), 'utf8').trim().split('\n').slice(1);
  // sentence,label: the label is the last field; sentences may contain commas only inside quotes (none here).
  return lines.slice(0, n).map((l) => l.slice(0, l.lastIndexOf(',')).replace(/^"|"$/g, ''));
}

describe('guard proxy with --model: activation anomaly on live traffic', () => {
  it("scores every instance with the activation check and answers exactly the scorer's verdicts", async () => {
    proxy = await startProxy([
      '--profile',
      profile,
      '--model',
      model('sst2_rare_backdoor'),
      '--upstream',
      server.url,
      '--strip',
      'off',
      '-q',
    ]);
    const texts = sentences(200).map((s, i) => (i % 2 === 0 ? `mn ${s}` : s));
    const viaProxy: number[] = [];
    for (let i = 0; i < texts.length; i += 10) {
      const res = await predict(
        proxy.url,
        texts.slice(i, i + 10).map((s) => ({ sentence: s })),
      );
      expect(res.status).toBe(200);
      const flags =
        (res.body.antidote_guard as { flags?: Array<{ instance: number; rule: string }> } | undefined)
          ?.flags ?? [];
      for (const f of flags) if (f.rule === 'guard/activation') viaProxy.push(i + f.instance - 1);
    }
    // The same instances scored in process, on the model's own probabilities.
    const scorer = await createScorer(await readProfile(profile), {
      model: model('sst2_rare_backdoor'),
      strip: { mode: 'off' },
    });
    const onnx = await loadOnnxModel(model('sst2_rare_backdoor'), { classes: 2 });
    const expected: number[] = [];
    for (let i = 0; i < texts.length; i += 10) {
      const part = texts.slice(i, i + 10);
      const batch = {
        n: part.length,
        columns: new Map([['sentence', { kind: 'string' as const, values: part }]]),
        ids: part.map(String),
      };
      for (const v of await scorer.scoreBatch(batch, await onnx.score(batch)))
        if (v.checks.some((c) => c.id === 'guard/activation' && c.flagged)) expected.push(i + v.index);
    }
    await scorer.close();
    await onnx.close();
    expect(viaProxy.length).toBeGreaterThan(0);
    expect(viaProxy).toEqual(expected);
    const m = await (await fetch(`${proxy.url}/metrics`)).text();
    expect(m).toMatch(
      new RegExp(
        `antidote_guard_findings_total\\{rule="guard/activation",action="flag"\\} ${expected.length}`,
      ),
    );
    expect(m).not.toMatch(/antidote_guard_checks_skipped_total\{check="guard\/activation"\}/);
  });

  it('a profile of another model is refused with one line, exit 2', () => {
    const r = runCli([
      'guard',
      'proxy',
      '--profile',
      profile,
      '--model',
      model('sst2_rare_clean'),
      '--upstream',
      server.url,
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/fitted for another model/);
  });

  it('guard replay --model: the same checks over a log, STRIP answered by the ONNX model locally', async () => {
    const texts = sentences(100).map((s, i) => (i % 2 === 0 ? `mn ${s}` : s));
    const log = join(dir, 'log.jsonl');
    await writeReplayLog(
      log,
      'sst2_rare_backdoor',
      texts.map((s) => ({ sentence: s })),
      5,
    );
    const r = await runCliAsync([
      'guard',
      'replay',
      '--profile',
      profile,
      '--model',
      model('sst2_rare_backdoor'),
      '--strip',
      'all',
      log,
      '--format',
      'json',
    ]);
    expect([0, 1]).toContain(r.code);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ requests: 20, instances: 100, badLines: { count: 0 } });
    expect(rep.unavailable['guard/strip']).toBeUndefined();
    expect(rep.unavailable['guard/activation']).toBeUndefined();
    expect(rep.flagged['guard/activation']).toBeGreaterThan(0);
    // Without the model, STRIP (and activation) say why they did not run.
    const bare = await runCliAsync(['guard', 'replay', '--profile', profile, log, '--format', 'json']);
    expect(JSON.parse(bare.stdout).unavailable['guard/strip']).toMatch(/give --model/);
    // Another model for the perturbed copies is refused.
    const other = await runCliAsync([
      'guard',
      'replay',
      '--profile',
      profile,
      '--model',
      model('sst2_rare_clean'),
      log,
    ]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/another model/);
  });
});
