/**
 * Trusted-reference disagreement: the per-class local false-discovery rate on synthetic probabilities, and
 * the detector on seeded SMS Spam Collection batches (seed 4: not one the benchmark reports) with random
 * label noise and with none.
 */
import { describe, expect, it } from 'vitest';
import { DISAGREEMENT_DEFAULTS } from '../../../src/data/config.js';
import { classReference, labelLocalFdr, run } from '../../../src/data/detectors/disagreement.js';
import { CASES } from '../../../src/data/generators/cases.js';
import { contextOf } from '../../../src/data/generators/dataset.js';
import { testData } from '../../helpers/cli.js';
import { rng } from '../helpers.js';

const OPTS = { lambda: 0.5 };
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** P(label) of clean rows: logits normal around `mu` (a strong model: large mu, a weak one: small). */
function cleanP(r: () => number, n: number, mu: number, sd: number): number[] {
  return Array.from({ length: n }, () => {
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return sigmoid(mu + sd * g);
  });
}

describe('labelLocalFdr', () => {
  it('leaves a clean batch alone: every row more likely right than wrong', () => {
    const r = rng(7);
    const ref = classReference(cleanP(r, 400, 4, 1.5));
    const p = Float64Array.from(cleanP(r, 3000, 4, 1.5));
    const { lfdr, pi0 } = labelLocalFdr(p, new Int32Array(p.length), [ref], OPTS);
    expect(Math.min(...lfdr)).toBeGreaterThanOrEqual(0.5);
    expect(pi0[0]).toBeGreaterThan(0.9);
  });

  it('calls flipped rows wrong without dragging plausible rows along', () => {
    const r = rng(8);
    const ref = classReference(cleanP(r, 400, 4, 1.5));
    const clean = cleanP(r, 2700, 4, 1.5);
    const flipped = cleanP(r, 300, -4, 1.5); // P(given label) of a flipped row = 1 - P(true label)
    const p = Float64Array.from([...clean, ...flipped]);
    const { lfdr } = labelLocalFdr(p, new Int32Array(p.length), [ref], OPTS);
    const found = flipped.filter((_, k) => lfdr[clean.length + k] < 0.5).length;
    const falsely = clean.filter((_, k) => lfdr[k] < 0.5).length;
    expect(found / flipped.length).toBeGreaterThan(0.85);
    expect(falsely).toBeLessThan(0.3 * found);
    // Rows the model finds plausible stay "right", however many blatant flips sit below them.
    for (let k = 0; k < clean.length; k++) if (clean[k] > 0.5) expect(lfdr[k]).toBeGreaterThan(0.5);
  });

  it('with a weak model (wide clean reference) flags few rows, and those mostly flipped', () => {
    const r = rng(9);
    const ref = classReference(cleanP(r, 400, 1, 1.5));
    const clean = cleanP(r, 2900, 1, 1.5);
    const flipped = cleanP(r, 100, -1, 1.5);
    const p = Float64Array.from([...clean, ...flipped]);
    const { lfdr } = labelLocalFdr(p, new Int32Array(p.length), [ref], OPTS);
    const flagged = Array.from(lfdr.keys()).filter((i) => lfdr[i] < 0.5);
    const right = flagged.filter((i) => i >= clean.length).length;
    expect(flagged.length).toBeLessThan(flipped.length);
    expect(right).toBeGreaterThanOrEqual(flagged.length / 2);
  });
});

/** Best recall over the rows ranked by score (score >= 0.5 only) while precision stays >= 0.7. */
function recallAtP70(scores: Float64Array, truth: Set<number>): { recall: number; flagged: number } {
  const order = Array.from(scores.keys())
    .filter((i) => scores[i] >= 0.5)
    .sort((a, b) => scores[b] - scores[a]);
  let hits = 0;
  let best = 0;
  order.forEach((i, k) => {
    if (truth.has(i)) hits++;
    if (hits / (k + 1) >= 0.7) best = Math.max(best, hits / truth.size);
  });
  return { recall: best, flagged: order.length };
}

function detect(name: string, seed: number) {
  const c = CASES[name]({ dataDir: testData(), seed });
  const ctx = contextOf(c, 1);
  ctx.settings = { ...DISAGREEMENT_DEFAULTS };
  const out = run(ctx);
  const scores = new Float64Array(ctx.incoming.n);
  for (const f of out.rows) scores[f.row] = Math.max(scores[f.row], f.score);
  const ids = new Set(c.truth.poisoned);
  const truth = new Set(ctx.incoming.ids.flatMap((id, i) => (ids.has(id) ? [i] : [])));
  return { scores, truth, out, ctx };
}

describe('disagreement detector on SMS spam', () => {
  it('finds random label noise: recall above 0.8 at precision 0.7, above the quarantine threshold', () => {
    const { scores, truth, out } = detect('noise-10', 4);
    expect(truth.size).toBeGreaterThan(300);
    expect(recallAtP70(scores, truth).recall).toBeGreaterThan(0.8);
    expect(out.findings.some((f) => f.severity === 'high')).toBe(true);
  }, 60_000);

  it('stays quiet on a clean batch', () => {
    const { scores, out } = detect('clean-sms', 4);
    expect(Array.from(scores).filter((s) => s >= 0.5).length).toBe(0);
    expect(out.findings.every((f) => f.severity === 'info')).toBe(true);
  }, 60_000);
});

describe('disagreement beside a planted campaign', () => {
  it("never quarantines a row whose label is the trusted model's own first choice", () => {
    // Seed 3: the campaign opens the gate and borderline genuine rows sit at its level of P(label).
    const { scores, out, ctx } = detect('phrase-campaign', 3);
    const proba = out.publish?.trustedProba as Float32Array;
    const K = ctx.classes.length;
    let agreeing = 0;
    for (let i = 0; i < ctx.incoming.n; i++) {
      if (scores[i] < 0.5) continue;
      const y = ctx.incoming.labels[i];
      let best = 0;
      for (let k = 1; k < K; k++) if (proba[i * K + k] > proba[i * K + best]) best = k;
      if (best === y) agreeing++;
    }
    expect(agreeing).toBe(0);
    expect(out.rows.length).toBeGreaterThan(0);
  }, 60_000);

  // As the detector that explains them publishes them: the attack's rows are set aside, and with them left in,
  // its flips make honest rows at the same level of P(label) look flipped too (the rogue labelers' batch: 45
  // honest rows quarantined before label-cells' rows were set aside). The rest of each batch is clean, so
  // nothing else reaches quarantine.
  it.each([
    ['a confirmed trigger explains', 'phrase-campaign', 3, 'triggerRows'],
    ['in the cells of accounts found flipping', 'rogue-labelers', 5, 'labelCellRows'],
  ] as const)(
    'sets aside rows %s when judging the rest',
    (_what, name, seed, key) => {
      const c = CASES[name]({ dataDir: testData(), seed });
      const ids = new Set(c.truth.poisoned);
      const ctx = contextOf(c, 1);
      ctx.settings = { ...DISAGREEMENT_DEFAULTS };
      ctx.shared[key] = Uint8Array.from(ctx.incoming.ids, (id) => (ids.has(id) ? 1 : 0));
      const out = run(ctx);
      const falsely = out.rows.filter((f) => f.score >= 0.5 && !ids.has(ctx.incoming.ids[f.row])).length;
      expect(falsely).toBe(0);
    },
    60_000,
  );
});
