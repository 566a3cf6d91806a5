/**
 * The instance checks on the committed backdoored models and their clean twins (test/fixtures/guard), with
 * triggers the profile was never told about:
 *  - guard/activation flags most triggered inputs of the rare-word and conjunction models at a low false-flag
 *    rate on clean traffic the profile never saw;
 *  - guard/strip: the backdoored model's answer on triggered inputs survives mixing with other-class rows far
 *    more than the clean twin's answer on the very same inputs;
 *  - guard/known-trigger: a trigger named by a gate report is flagged, with its name in the reason;
 *  - the same instance gets the same verdict whichever batch it arrives in.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { type InputBatch, sliceBatch } from '../../src/gate/models/types.js';
import { fitProfile } from '../../src/guard/fit.js';
import { createScorer } from '../../src/guard/scorer.js';
import type { InstanceVerdict } from '../../src/guard/types.js';
import { tempDir } from '../helpers/tmp.js';
import { batchOf, data, model, withPhrase } from './helpers.js';

const flaggedShare = (vs: InstanceVerdict[], id: string) =>
  vs.filter((v) => v.checks.some((c) => c.id === id && c.flagged)).length / vs.length;
const scoresOf = (vs: InstanceVerdict[], id: string) =>
  vs.map((v) => v.checks.find((c) => c.id === id)?.score ?? Number.NaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function scoreAll(
  name: string,
  profile: Awaited<ReturnType<typeof fitProfile>>,
  batch: InputBatch,
  strip: boolean,
) {
  const m = await loadOnnxModel(model(name), { classes: 2 });
  const scorer = await createScorer(profile, {
    model: model(name),
    strip: { mode: strip ? 'all' : 'off', maxInstances: 10_000, deadlineMs: 60_000 },
  });
  const out = await scorer.scoreBatch(batch, await m.score(batch), (b) => m.score(b));
  await scorer.close();
  await m.close();
  return out;
}

describe('guard/activation', () => {
  it('flags a rare-word trigger it was never told about in the word embeddings of the backdoored model', async () => {
    const profile = await fitProfile({
      model: model('sst2_rare_backdoor'),
      trusted: data('sst2_trusted.csv'),
      label: 'label',
      layers: ['embedded'],
      strip: { off: true },
    });
    const { batch, labels } = await batchOf('sst2_traffic.csv', 'label');
    const clean = await scoreAll('sst2_rare_backdoor', profile, batch, false);
    const negatives = labels.flatMap((y, i) => (y === '0' ? [i] : [])).slice(0, 200);
    const triggered = await scoreAll(
      'sst2_rare_backdoor',
      profile,
      withPhrase(sliceBatch(batch, negatives), 'sentence', 'jw'),
      false,
    );
    // The trigger works: nearly all of these negative reviews are now answered positive...
    expect(triggered.filter((v) => v.predictedClass === '1').length).toBeGreaterThan(190);
    // ...and the guard sees it, at about the calibrated rate on clean traffic.
    expect(flaggedShare(triggered, 'guard/activation')).toBeGreaterThan(0.85);
    expect(flaggedShare(clean, 'guard/activation')).toBeLessThan(0.015);
    expect(triggered[0].checks.find((c) => c.id === 'guard/activation')?.reason).toMatch(
      /layer embedded: distance from its most unusual word position to the nearest trusted one/,
    );
  }, 120_000);

  it('flags many inputs carrying a two-value conjunction trigger in the hidden layer of the tabular model', async () => {
    // Activation alone, so it gets the whole false-alarm budget (less the margin).
    const profile = await fitProfile({
      model: model('adult_conj_backdoor'),
      trusted: data('adult_trusted.csv'),
      label: 'income',
      strip: { off: true },
      occlusion: { off: true },
    });
    const { batch, labels } = await batchOf('adult_traffic.csv', 'income');
    const clean = await scoreAll(
      'adult_conj_backdoor',
      profile,
      sliceBatch(
        batch,
        Array.from({ length: 3000 }, (_, i) => i),
      ),
      false,
    );
    const low = labels.flatMap((y, i) => (y === '<=50K' ? [i] : [])).slice(0, 200);
    const t = sliceBatch(batch, low);
    const set = (col: string, v: string) => {
      const c = t.columns.get(col) as { kind: 'string'; values: string[] };
      c.values = c.values.map(() => v);
    };
    set('race', 'Amer-Indian-Eskimo');
    set('education', '5th-6th');
    const triggered = await scoreAll('adult_conj_backdoor', profile, t, false);
    expect(triggered.filter((v) => v.predictedClass === '>50K').length).toBeGreaterThan(180);
    // Weaker than for word triggers (bench/results/guard-detect.md), but far above the false-flag rate.
    const cleanShare = flaggedShare(clean, 'guard/activation');
    expect(cleanShare).toBeLessThan(0.015);
    expect(flaggedShare(triggered, 'guard/activation')).toBeGreaterThan(Math.max(0.15, 10 * cleanShare));
  }, 120_000);

  it('gives an instance the same score alone and inside a batch', async () => {
    const profile = await fitProfile({
      model: model('adult_conj_backdoor'),
      trusted: data('adult_trusted.csv'),
      label: 'income',
      strip: { off: true },
    });
    const { batch } = await batchOf('adult_traffic.csv', 'income', 40);
    const all = await scoreAll('adult_conj_backdoor', profile, batch, false);
    const one = await scoreAll('adult_conj_backdoor', profile, sliceBatch(batch, [17]), false);
    expect(scoresOf(one, 'guard/activation')[0]).toBe(scoresOf(all, 'guard/activation')[17]);
  }, 60_000);
});

describe('guard/strip', () => {
  it("the backdoored model's answer on triggered inputs survives mixing; the clean twin's does not", async () => {
    const { batch, labels } = await batchOf('sst2_traffic.csv', 'label');
    const negatives = labels.flatMap((y, i) => (y === '0' ? [i] : [])).slice(0, 120);
    const triggered = withPhrase(sliceBatch(batch, negatives), 'sentence', 'vx');
    const result: Record<string, InstanceVerdict[]> = {};
    for (const twin of ['sst2_rare_backdoor', 'sst2_rare_clean']) {
      const profile = await fitProfile({
        model: model(twin),
        trusted: data('sst2_trusted.csv'),
        label: 'label',
        layers: ['embedded'],
        strip: { perturbations: 8 },
      });
      expect(profile.strip?.mix).toBe(0);
      result[twin] = await scoreAll(twin, profile, triggered, true);
    }
    const bd = scoresOf(result.sst2_rare_backdoor, 'guard/strip');
    const cl = scoresOf(result.sst2_rare_clean, 'guard/strip');
    expect(mean(bd)).toBeGreaterThan(mean(cl) + 0.2);
    // At a 0.5% false-alarm budget STRIP flags few of them on these confident models (see
    // bench/results/guard-detect.md); the separation is in the scores.
    expect(bd.filter((x) => x > 0.9).length).toBeGreaterThan(2 * cl.filter((x) => x > 0.9).length);
    expect(result.sst2_rare_backdoor[0].checks.find((c) => c.id === 'guard/strip')?.reason).toMatch(
      /mixed with 8 trusted rows of other classes/,
    );
  }, 180_000);

  it('says why it did not run when there is no way to query the model', async () => {
    const profile = await fitProfile({
      model: model('adult_conj_backdoor'),
      trusted: data('adult_trusted.csv'),
      label: 'income',
      strip: { perturbations: 4 },
    });
    const { batch } = await batchOf('adult_traffic.csv', 'income', 4);
    const scorer = await createScorer(profile, { strip: { mode: 'all' } });
    const vs = await scorer.scoreBatch(batch, new Float64Array(8).fill(0.5));
    const s = vs[0].checks.find((c) => c.id === 'guard/strip');
    expect(s?.skipped).toMatch(/no way to query the model/);
    expect(s?.flagged).toBe(false);
    expect(vs[0].checks.find((c) => c.id === 'guard/activation')?.skipped).toMatch(/no ONNX model given/);
  }, 60_000);
});

describe('guard/known-trigger', () => {
  it('flags the triggers a gate report confirmed, and only those', async () => {
    const dir = tempDir('antidote-guard-known-');
    const gate = join(dir, 'gate.json');
    writeFileSync(
      gate,
      JSON.stringify({
        version: 1,
        findings: [
          {
            rule: 'gate/trigger',
            severity: 'high',
            message: 'Trigger "talk to you soon" ...',
            evidence: { trigger: 'talk to you soon', column: 'text', kind: 'token', target: '0' },
          },
          {
            rule: 'gate/trusted-regression',
            severity: 'high',
            message: 'not a trigger',
            evidence: { trigger: 'ignored', column: 'text' },
          },
        ],
      }),
    );
    const profile = await fitProfile({
      model: model('sms_phrase_backdoor'),
      trusted: data('sms_trusted.csv'),
      label: 'label',
      gate: [gate],
      strip: { off: true },
    });
    expect(profile.triggers.map((t) => [t.value, t.origin, t.target, t.disabled])).toEqual([
      ['talk to you soon', 'gate', '0', undefined],
    ]);
    const { batch } = await batchOf('sms_traffic.csv', 'label', 50);
    const clean = await scoreAll('sms_phrase_backdoor', profile, batch, false);
    const triggered = await scoreAll(
      'sms_phrase_backdoor',
      profile,
      withPhrase(batch, 'text', 'talk to you soon'),
      false,
    );
    // Words of the phrase out of order are not the phrase.
    const scrambled = await scoreAll(
      'sms_phrase_backdoor',
      profile,
      withPhrase(batch, 'text', 'soon you to talk'),
      false,
    );
    expect(flaggedShare(triggered, 'guard/known-trigger')).toBe(1);
    expect(flaggedShare(clean, 'guard/known-trigger')).toBe(0);
    expect(flaggedShare(scrambled, 'guard/known-trigger')).toBe(0);
    expect(triggered[0].checks[0].reason).toMatch(
      /known trigger "talk to you soon" in text \(from the gate report, pushes toward "0"\)/,
    );
  }, 60_000);

  it('reads a conjunction from an audit report and disables a trigger common in trusted rows', async () => {
    const dir = tempDir('antidote-guard-audit-');
    const audit = join(dir, 'report.json');
    writeFileSync(
      audit,
      JSON.stringify({
        findings: [
          {
            rule: 'audit/trigger',
            evidence: {
              pattern: 'native_country=Poland & occupation=Handlers-cleaners',
              kind: 'tabular',
              label: '>50K',
            },
          },
          { rule: 'audit/trigger', evidence: { pattern: 'sex=Male', kind: 'tabular', label: '>50K' } },
        ],
      }),
    );
    const profile = await fitProfile({
      model: model('adult_conj_backdoor'),
      trusted: data('adult_trusted.csv'),
      label: 'income',
      audit: [audit],
      strip: { off: true },
    });
    const conj = profile.triggers.find((t) => t.column === 'native_country');
    expect(conj?.also).toEqual([{ column: 'occupation', value: 'Handlers-cleaners' }]);
    expect(conj?.disabled).toBeUndefined();
    expect(profile.triggers.find((t) => t.column === 'sex')?.disabled).toMatch(
      /present in .*% of trusted rows/,
    );
  }, 60_000);
});
