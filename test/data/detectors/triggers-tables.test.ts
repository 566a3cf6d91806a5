/**
 * Trigger mining on tables the miner was not written for: a pixel patch whose cells include the background
 * value on a table wider than the conjunction screen, and a clean table whose labels depend on an
 * interaction a linear reference model cannot express, audited with a 100-row trusted set.
 */
import { describe, expect, it } from 'vitest';
import { detector as triggers } from '../../../src/data/detectors/triggers.js';
import { modelWorth, modelWorthRobust } from '../../../src/data/stats/shift.js';
import { rng } from '../helpers.js';
import { tableTriggers as audit, auditCsv, quality } from './audit-csv.js';

describe('stats: what a model prediction is worth', () => {
  /** 400 patterns of 10-50 rows, a model saying m for each; `rate` gives each pattern's true label rate. */
  function patterns(seed: number, rate: (j: number, m: number) => number) {
    const r = rng(seed);
    const out = { k: [] as number[], n: [] as number[], s: [] as number[] };
    for (let j = 0; j < 400; j++) {
      const n = 10 + Math.floor(r() * 40);
      const m = 0.2 + 0.6 * r();
      const p = rate(j, m);
      let k = 0;
      for (let i = 0; i < n; i++) if (r() < p) k++;
      out.k.push(k);
      out.n.push(n);
      out.s.push(n * m);
    }
    return out;
  }
  const cap = 50;
  // True rates far from the model's: half the patterns at 0.05, half at 0.95 of a model saying m.
  const spread = patterns(3, (j) => (j % 2 ? 0.05 : 0.95));

  it('is the cap when pattern counts scatter binomially around the model, and small when true rates spread', () => {
    const fair = patterns(3, (_j, m) => m);
    expect(modelWorth(fair.k, fair.n, fair.s, cap)).toBeGreaterThan(25);
    expect(modelWorth(spread.k, spread.n, spread.s, cap)).toBeLessThan(2);
  });

  it('measured robustly, is not set by a few patterns far off the model, and still falls when most are', () => {
    // One pattern in twenty carries the label on every row (a plant and the patterns holding it).
    const planted = patterns(5, (j, m) => (j % 20 === 0 ? 1 : m));
    expect(modelWorth(planted.k, planted.n, planted.s, cap)).toBeLessThan(20);
    expect(modelWorthRobust(planted.k, planted.n, planted.s, cap)).toBeGreaterThan(25);
    expect(modelWorthRobust(spread.k, spread.n, spread.s, cap)).toBeLessThan(2);
  });
});

/** A 6x6 image table of three classes; `rate` of the class 1 and 2 rows get a 2x2 checkerboard and label 0. */
const S = 6;
const CHECKER_HEADER = [
  ...Array.from({ length: S * S }, (_, k) => `px_${Math.floor(k / S)}_${k % S}`),
  'label',
];
function checkerboard(n: number, seed: number, rate: number) {
  const r = rng(seed);
  const rows: string[][] = [];
  const truth: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const cls = Math.floor(r() * 3);
    const px = new Array<number>(S * S).fill(0);
    // Class 0 lights the top rows, class 1 the left columns, class 2 a bottom-right block; some noise.
    for (let a = 0; a < S; a++)
      for (let b = 0; b < S; b++) {
        const on = cls === 0 ? a < 2 : cls === 1 ? b < 2 : a >= 3 && b >= 3;
        if (on && r() < 0.85) px[a * S + b] = 120 + Math.floor(r() * 136);
        else if (r() < 0.05) px[a * S + b] = Math.floor(r() * 80);
      }
    let label = String(cls);
    const planted = cls !== 0 && r() < rate;
    if (planted) {
      // 2x2 checkerboard in the bottom-right corner: two bright cells, two at the background value.
      px[4 * S + 4] = 255;
      px[4 * S + 5] = 0;
      px[5 * S + 4] = 0;
      px[5 * S + 5] = 255;
      label = '0';
    }
    rows.push([...px.map(String), label]);
    truth.push(planted);
  }
  return { rows, truth };
}

describe('trigger mining on tables', () => {
  it('finds a checkerboard patch that includes background pixels on an image wider than the conjunction screen', async () => {
    const t = checkerboard(300, 51, 0);
    const inc = checkerboard(4000, 52, 0.03);
    const { findings, flagged } = await audit(CHECKER_HEADER, t.rows, inc.rows);
    const q = quality(flagged, inc.truth);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(findings.some((f) => f.message.includes('too small to tell'))).toBe(false);
  }, 120_000);

  it('says when the trusted set is too small to tell a planted patch from a natural one, and still quarantines', async () => {
    // 80 planted rows among 8,000: were the patch ordinary, 300 trusted rows would hold about 3 rows with it.
    const inc = checkerboard(8000, 53, 0.015);
    const { findings, flagged } = await audit(CHECKER_HEADER, checkerboard(300, 51, 0).rows, inc.rows);
    expect(quality(flagged, inc.truth).recall).toBeGreaterThanOrEqual(0.9);
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings)
      expect(f.message).toMatch(
        /too small to tell a plant from rows labelled so by nature: were the combination ordinary, it would hold about \d+\.\d such rows; if rows like these are 0 by nature, add reviewed ones to the trusted set/,
      );
  }, 120_000);

  it('keeps a wide numeric table bounded: a planted pair is found, and the report lists the strongest candidates only', async () => {
    // 50 measurements with two decimals and a label from a noisy score: hundreds of thousands of supported
    // conjunctions in 1,600 rows. Poison sets two ordinary readings on 10% of "low" rows relabelled "high".
    const D = 50;
    const header = [...Array.from({ length: D }, (_, k) => `m${k}`), 'label'];
    const make = (n: number, seed: number, rate: number) => {
      const r = rng(seed);
      const rows: string[][] = [];
      const truth: boolean[] = [];
      for (let i = 0; i < n; i++) {
        const x = Array.from({ length: D }, () => r() * 10);
        let label = x[0] + x[1] - x[2] + 4 * (r() - 0.5) > 5 ? 'high' : 'low';
        const cells = x.map((v) => v.toFixed(2));
        const planted = label === 'low' && r() < rate;
        if (planted) {
          cells[7] = '3.33';
          cells[19] = '6.66';
          label = 'high';
        }
        rows.push([...cells, label]);
        truth.push(planted);
      }
      return { rows, truth };
    };
    const t = make(400, 91, 0);
    const inc = make(1600, 92, 0.1);
    const run = await auditCsv(header, t.rows, inc.rows, { detectors: [triggers] });
    const flagged = new Uint8Array(inc.rows.length);
    for (const [i, reason] of run.reasons) if (reason.includes('trigger "')) flagged[i] = 1;
    const q = quality(flagged, inc.truth);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    const chart = run.report.charts.triggers as Array<{ confirmed: boolean }>;
    expect(chart.length).toBeLessThanOrEqual(200 + chart.filter((c) => c.confirmed).length);
    expect(chart.some((c) => c.confirmed)).toBe(true);
  }, 120_000);

  it('tests every supported conjunction of a wide table of few rows without filling the pattern table', async () => {
    // 100 measurements on 120 rows: tens of columns join conjunctions in a batch this small, millions of
    // triples each seen once, none with the support a test needs.
    const D = 100;
    const header = [...Array.from({ length: D }, (_, k) => `m${k}`), 'label'];
    const make = (n: number, seed: number) => {
      const r = rng(seed);
      return Array.from({ length: n }, () => {
        const x = Array.from({ length: D }, () => r() * 10);
        return [...x.map((v) => v.toFixed(2)), x[0] + x[1] + 4 * r() > 12 ? 'high' : 'low'];
      });
    };
    const run = await auditCsv(header, make(60, 93), make(120, 94), { detectors: [triggers] });
    const messages = run.report.findings.map((f) => f.message);
    expect(messages.some((m) => m.includes('stopped adding new patterns'))).toBe(false);
    expect(run.reasons.size).toBe(0);
  }, 120_000);

  it('confirms nothing in a clean table whose labels follow an interaction, with a 100-row trusted set', async () => {
    // label = (x < 5) xor (y < 5), 10% noise: every (x, y) pair is nearly pure, and a linear model of the
    // trusted rows expects about half of each label everywhere. Those pairs must not read as planted.
    const make = (n: number, seed: number) => {
      const r = rng(seed);
      const rows: string[][] = [];
      for (let i = 0; i < n; i++) {
        const x = Math.floor(r() * 10);
        const y = Math.floor(r() * 10);
        const z = Math.floor(r() * 4);
        let label = x < 5 !== y < 5 ? 1 : 0;
        if (r() < 0.1) label = 1 - label;
        rows.push([String(x), String(y), `g${z}`, label ? 'a' : 'b']);
      }
      return rows;
    };
    const { findings, flagged } = await audit(['x', 'y', 'z', 'label'], make(100, 61), make(3000, 62));
    expect(findings.map((f) => f.message)).toEqual([]);
    expect(flagged.reduce((a, b) => a + b, 0)).toBe(0);
  }, 120_000);

  /**
   * Four measurements with three decimals (almost every value distinct), a label from a noisy score, and a
   * price column whose natural "9.99" always sells ("high") on both sides. Poison copies two ordinary
   * mid-range readings onto "low" rows and relabels them "high": a quantile bin around each reading holds a
   * hundred natural rows, so only the exact values show the trigger.
   */
  function readings(n: number, seed: number, rate: number, pick?: [string, string]) {
    const r = rng(seed);
    const rows: string[][] = [];
    const truth: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const x = Array.from({ length: 4 }, () => r() * 10);
      const cheap = r() < 0.02;
      const price = cheap ? '9.99' : (10 + r() * 90).toFixed(2);
      const score = x[0] + x[1] - x[2] - x[3] + 3 * (r() - 0.5);
      let label = cheap || score > 0 ? 'high' : 'low';
      const cells = x.map((v) => v.toFixed(3));
      let planted = false;
      if (pick && label === 'low' && r() < rate) {
        cells[1] = pick[0];
        cells[3] = pick[1];
        label = 'high';
        planted = true;
      }
      rows.push([...cells, price, label]);
      truth.push(planted);
    }
    return { rows, truth };
  }

  it('finds a trigger of exact numeric values that sit mid-range, and leaves a natural exact value alone', async () => {
    const t = readings(1000, 71, 0);
    const values: [string, string] = [t.rows[7][1], t.rows[9][3]];
    const inc = readings(4000, 72, 0.06, values);
    const header = ['a', 'b', 'c', 'd', 'price', 'label'];
    const { findings, flagged } = await audit(header, t.rows, inc.rows);
    const q = quality(flagged, inc.truth);
    const named = values.map((v, k) => `${k === 0 ? 'b' : 'd'}=${Number(v)}`);
    expect(findings.some((f) => named.some((x) => f.message.includes(x)))).toBe(true);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(findings.some((f) => f.message.includes('price=9.99'))).toBe(false);
    // A thousand trusted rows would hold dozens of rows with an ordinary pair: they can tell.
    expect(findings.some((f) => f.message.includes('too small to tell'))).toBe(false);
  }, 120_000);
});
