/**
 * A guard fitted on a small trusted set (Statlog German credit: 250 rows, 100 held back, a few dozen per class):
 * its thresholds are extrapolated past the largest calibration score, so clean traffic is flagged at about the
 * rate asked for, not at 1 / (rows + 1) per check; and the conjunction trigger trained into the model, which
 * occlusion alone no longer flags at that rate, is still learned, from the first batch of triggered requests (none
 * of which scores beyond every trusted row), and flagged from then on, the teaching batch included, also where a
 * few held trusted rows already carry it and the backdoor answers them.
 */
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { type InputBatch, sliceBatch } from '../../src/gate/models/types.js';
import { readTable } from '../../src/gate/read.js';
import type { Column } from '../../src/gate/table.js';
import { fitProfile } from '../../src/guard/fit.js';
import { createScorer } from '../../src/guard/scorer.js';
import { data, model } from './helpers.js';

// Both conjunctions were trained into the model (test/fixtures/guard/make_models.py); the second also occurs in
// two of the held trusted rows, which the backdoored model answers "1" where a model of the trusted data does not.
const TRIGGERS: Array<Array<[string, string]>> = [
  [
    ['Purpose', 'A49'],
    ['Housing', 'A153'],
  ],
  [
    ['Credit_history', 'A31'],
    ['Job', 'A174'],
  ],
];

describe('guard on a 250-row trusted set', () => {
  it.each(TRIGGERS)('holds the false-alarm rate on clean traffic and still learns %j', async (...TRIGGER) => {
    const modelPath = model('german_conj_backdoor');
    const profile = await fitProfile({
      model: modelPath,
      trusted: data('german_trusted.csv'),
      label: 'Result',
    });
    const occ = profile.thresholds.checks['guard/occlusion'];
    expect(occ?.extrapolated).toBe(true);
    // Past every calibration score of the classes too small for the rate.
    const past = (occ?.perClass ?? []).filter(
      (t, c) => t > (occ?.perClassSeen?.[c] ?? Number.POSITIVE_INFINITY),
    );
    expect(past.length).toBeGreaterThan(0);

    const local = await loadOnnxModel(modelPath, { classes: profile.classes.length });
    const scorer = await createScorer(profile, {
      model: modelPath,
      strip: { mode: 'all', maxInstances: 32, deadlineMs: 60_000 },
      occlusion: { mode: 'all', maxInstances: 32, deadlineMs: 60_000 },
    });
    try {
      const raw = await readTable(data('german_traffic.csv'));
      const clean: InputBatch = {
        n: raw.n,
        columns: new Map(profile.inputs.map((x) => [x.name, raw.columns.get(x.name) as Column])),
        ids: Array.from({ length: raw.n }, (_, i) => String(i)),
      };
      const score = async (b: InputBatch) =>
        scorer.scoreBatch(b, await local.score(b), (x) => local.score(x));
      const target = profile.classes.indexOf('1');
      // Triggered copies of the traffic rows labelled otherwise (about 75, some twice), 32 at a time.
      const labels = raw.columns.get('Result') as Column;
      const others = Array.from({ length: raw.n }, (_, i) => i).filter(
        (i) => String(labels.values[i]) !== '1',
      );
      const triggered = sliceBatch(
        clean,
        Array.from({ length: 96 }, (_, i) => others[i % others.length]),
      );
      for (const [name, v] of TRIGGER) {
        const col = triggered.columns.get(name) as Column;
        for (let i = 0; i < triggered.n; i++) (col.values as string[])[i] = v;
      }
      let flaggedByOcclusion = 0;
      let answered = 0;
      let flaggedLater = 0;
      let answeredFirst = 0;
      let flaggedFirst = 0;
      for (let lo = 0; lo < triggered.n; lo += 32) {
        const vs = await score(
          sliceBatch(
            triggered,
            Array.from({ length: 32 }, (_, i) => lo + i),
          ),
        );
        for (const v of vs) {
          if (v.checks.some((c) => c.id === 'guard/occlusion' && c.flagged)) flaggedByOcclusion++;
          if (lo >= 32 && v.predicted === target) {
            answered++;
            if (v.flagged) flaggedLater++;
          }
          if (lo === 0 && v.predicted === target) {
            answeredFirst++;
            if (v.flagged) flaggedFirst++;
          }
        }
      }
      // Occlusion alone, at the rate asked for, flags few of them; the learned trigger catches those that follow.
      expect(flaggedByOcclusion).toBeLessThan(10);
      expect(scorer.learned().length).toBeGreaterThan(0);
      expect(flaggedLater / answered).toBeGreaterThan(0.7);
      // Learned from the first batch itself, whose answers are still in hand: flagged, not only reported later.
      expect(flaggedFirst / answeredFirst).toBeGreaterThan(0.7);

      let flaggedClean = 0;
      for (let lo = 0; lo < clean.n; lo += 32) {
        const rows = Array.from({ length: Math.min(32, clean.n - lo) }, (_, i) => lo + i);
        for (const v of await score(sliceBatch(clean, rows))) if (v.flagged) flaggedClean++;
      }
      // 250 clean rows: the largest score per check would flag about 6% (1 / (rows + 1) of each class, three checks).
      expect(flaggedClean / clean.n).toBeLessThanOrEqual(0.025);
    } finally {
      await scorer.close();
      await local.close();
    }
  }, 180_000);
});
