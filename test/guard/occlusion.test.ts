/**
 * guard/occlusion on the committed fixtures (test/fixtures/guard), with triggers the profile was never told about:
 *  - a conjunction of two ordinary values in a tabular row and a phrase of ordinary words in a message are flagged,
 *    and the reason names the parts that decide the answer and act as a trigger;
 *  - clean traffic the profile never saw is flagged at about the calibrated rate, and the clean twin does not flag
 *    the same triggered rows (the backdoor, not the values, is what the check sees);
 *  - a profile fitted before the check (or its transplant step) existed still loads and says to fit again; a
 *    damaged occlusion section is one line and exit 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { type InputBatch, sliceBatch } from '../../src/gate/models/types.js';
import type { Column } from '../../src/gate/table.js';
import { fitProfile } from '../../src/guard/fit.js';
import { createScorer } from '../../src/guard/scorer.js';
import type { InstanceVerdict } from '../../src/guard/types.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { batchOf, data, fitSms, model, withPhrase } from './helpers.js';
import { makeProfile } from './watch-fixtures.js';

const dir = tempDir('antidote-guard-occlusion-');
const occlusionOf = (v: InstanceVerdict) => v.checks.find((c) => c.id === 'guard/occlusion');
const share = (vs: InstanceVerdict[]) => vs.filter((v) => occlusionOf(v)?.flagged).length / vs.length;

async function score(name: string, profile: Awaited<ReturnType<typeof fitProfile>>, batch: InputBatch) {
  const m = await loadOnnxModel(model(name), { classes: 2 });
  const scorer = await createScorer(profile, {
    strip: { mode: 'off' },
    occlusion: { mode: 'all', maxInstances: 100_000, deadlineMs: 120_000 },
  });
  const out = await scorer.scoreBatch(batch, await m.score(batch), (b) => m.score(b));
  await scorer.close();
  await m.close();
  return out;
}

/** Rows `rows` of a batch with column = value set in each. */
function withValues(batch: InputBatch, rows: number[], values: Array<[string, string]>): InputBatch {
  const b = sliceBatch(batch, rows);
  for (const [name, v] of values) {
    const col = b.columns.get(name) as Column;
    b.columns.set(name, { kind: 'string', values: (col.values as string[]).map(() => v) });
  }
  return b;
}

describe('guard/occlusion', () => {
  it('flags rows carrying a conjunction of two ordinary values, naming both, and few clean rows', async () => {
    const fitFor = (name: string) =>
      fitProfile({
        model: model(name),
        trusted: data('adult_trusted.csv'),
        label: 'income',
        strip: { off: true },
      });
    const profile = await fitFor('adult_conj_backdoor');
    expect(profile.thresholds.checks['guard/occlusion']?.perClass).toHaveLength(2);
    const { batch, labels } = await batchOf('adult_traffic.csv', 'income');
    const low = labels.flatMap((y, i) => (y === '<=50K' ? [i] : [])).slice(0, 150);
    const triggered = withValues(batch, low, [
      ['native_country', 'Poland'],
      ['occupation', 'Handlers-cleaners'],
    ]);
    const verdicts = await score('adult_conj_backdoor', profile, triggered);
    // The trigger works on these low-income rows...
    expect(verdicts.filter((v) => v.predictedClass === '>50K').length).toBeGreaterThan(135);
    // ...and occlusion finds the two values decide it and act as a trigger (no other check here does:
    // bench/guard-detect).
    expect(share(verdicts)).toBeGreaterThan(0.8);
    const flagged = verdicts.filter((v) => occlusionOf(v)?.flagged);
    const both = flagged.filter((v) =>
      /^the answer ">50K" depends on (?=.*native_country = Poland)(?=.*occupation = Handlers-cleaners)/.test(
        occlusionOf(v)?.reason ?? '',
      ),
    );
    expect(both.length).toBeGreaterThan(0.9 * flagged.length);
    // The clean twin, given the same rows, sees nothing of the kind.
    const twin = await score('adult_conj_clean', await fitFor('adult_conj_clean'), triggered);
    expect(share(twin)).toBeLessThan(0.02);
    // Clean traffic the profile never saw: about the calibrated rate.
    const clean = await score('adult_conj_backdoor', profile, sliceBatch(batch, [...Array(1500).keys()]));
    expect(share(clean)).toBeLessThan(0.01);
  }, 180_000);

  it('flags spam carrying a phrase of ordinary words, naming the phrase, and few clean messages', async () => {
    const profile = await fitProfile({
      model: model('sms_phrase_backdoor'),
      trusted: data('sms_trusted.csv'),
      label: 'label',
      strip: { off: true },
    });
    const { batch, labels } = await batchOf('sms_traffic.csv', 'label');
    const spam = labels.flatMap((y, i) => (y === '1' ? [i] : [])).slice(0, 120);
    const triggered = withPhrase(sliceBatch(batch, spam), 'text', 'have a lovely evening');
    const verdicts = await score('sms_phrase_backdoor', profile, triggered);
    expect(verdicts.filter((v) => v.predictedClass === '0').length).toBeGreaterThan(110);
    expect(share(verdicts)).toBeGreaterThan(0.6);
    const reasons = verdicts.filter((v) => occlusionOf(v)?.flagged).map((v) => occlusionOf(v)?.reason ?? '');
    // Most flags name (part of) the phrase as what decides the answer "ham".
    const named = reasons.filter((r) =>
      /^the answer "0" depends on "[^"]*(lovely|evening)[^"]*" from text/.test(r),
    );
    expect(named.length).toBeGreaterThan(0.8 * reasons.length);
    const clean = await score('sms_phrase_backdoor', profile, batch);
    expect(share(clean)).toBeLessThan(0.01);
  }, 180_000);

  it('a profile fitted before the check existed loads, and the check says to fit again', async () => {
    const scorer = await createScorer(makeProfile(), { occlusion: { mode: 'all' } });
    expect(scorer.unavailable['guard/occlusion']).toMatch(/fitted before guard\/occlusion.*guard fit/);
    const b: InputBatch = {
      n: 1,
      ids: ['1'],
      columns: new Map<string, Column>([
        ['text', { kind: 'string', values: ['hello there'] }],
        ['amount', { kind: 'number', values: Float64Array.from([3]) }],
        ['region', { kind: 'string', values: ['north'] }],
      ]),
    };
    const [v] = await scorer.scoreBatch(b, Float64Array.from([0.9, 0.1]));
    expect(occlusionOf(v)).toMatchObject({ flagged: false, skipped: expect.stringMatching(/fit it again/) });
    await scorer.close();
  });

  it('a profile fitted before the transplant step loads, and the check says to fit again', async () => {
    const profile = await fitProfile({
      model: model('sms_phrase_backdoor'),
      trusted: data('sms_trusted.csv'),
      label: 'label',
      strip: { off: true },
    });
    const old = { ...profile, occlusion: { ...profile.occlusion, hosts: undefined } } as typeof profile;
    const scorer = await createScorer(old, { occlusion: { mode: 'all' } });
    expect(scorer.unavailable['guard/occlusion']).toMatch(
      /before guard\/occlusion's transplant step.*guard fit/,
    );
    await scorer.close();
  }, 60_000);

  it('a damaged occlusion section is one line and exit 2', () => {
    const profile = join(dir, 'sms.json');
    const fit = fitSms(profile, ['--no-strip']);
    expect(fit.code, fit.stderr).toBe(0);
    expect(fit.stderr).toMatch(/occlusion > /);
    const log = join(dir, 'log.jsonl');
    writeFileSync(
      log,
      `${JSON.stringify({ request: { instances: [{ text: 'hello' }] }, response: { predictions: [[0.9, 0.1]] } })}\n`,
    );
    const doc = JSON.parse(readFileSync(profile, 'utf8'));
    const cases: Array<[unknown, RegExp]> = [
      [{ ...doc, occlusion: undefined }, /guard\/occlusion has a threshold but no occlusion section/],
      [
        {
          ...doc,
          occlusion: { ...doc.occlusion, reference: { ...doc.occlusion.reference, buckets: 'AACAUA==' } },
        },
        /occlusion reference (bucket|weights)/,
      ],
      [
        { ...doc, occlusion: { ...doc.occlusion, hosts: { ...doc.occlusion.hosts, probs: [0.5] } } },
        /occlusion hosts do not have 2 probabilities per row/,
      ],
    ];
    for (const [bad, message] of cases) {
      const path = join(dir, 'bad.json');
      writeFileSync(path, JSON.stringify(bad));
      const r = runCli(['guard', 'replay', '--profile', path, log, '--model', model('sms_phrase_backdoor')]);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    }
  }, 60_000);
});
