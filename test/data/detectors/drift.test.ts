import { describe, expect, it } from 'vitest';
import { cusumThreshold, detector, makeWindows, parseDuration } from '../../../src/data/detectors/drift.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cusum } from '../../../src/data/stats/cusum.js';
import { jensenShannon, psi } from '../../../src/data/stats/divergence.js';

const GROUPS = ['a', 'b', 'c', 'd'];
const DAY = 86400e3;

/**
 * Trusted: 8000 rows, group g in {a,b,c,d}, numeric x ~ U(0,1), label 1 with probability 0.4. Incoming: 8
 * daily windows of 2000 rows; when conditioned, within group `b` the chance of label 1 drops by `step` per
 * window (window w: 0.4 − step·w). Also returns the 1-based window where the realised drop first reaches 0.1.
 */
function world(seed: number, step: number, opts: { shiftX?: number } = {}) {
  const rng = new Rng(seed);
  const make = (n: number, windowed: boolean): Dataset => {
    const codes = new Int32Array(n);
    const x = new Float64Array(n);
    const labels = new Int32Array(n);
    const time = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const w = windowed ? Math.floor((i * 8) / n) : -1;
      codes[i] = rng.int(4);
      x[i] = rng.next() + (windowed ? (opts.shiftX ?? 0) * w : 0);
      const p = 0.4 - (windowed && codes[i] === 1 ? step * w : 0);
      labels[i] = rng.next() < p ? 1 : 0;
      time[i] = windowed
        ? Date.UTC(2026, 0, 1) + w * DAY + rng.next() * DAY * 0.99
        : Date.UTC(2025, 0, 1) + i * 1000;
    }
    return {
      n,
      ids: Array.from({ length: n }, (_, i) => String(i)),
      labels,
      numeric: new Map([['x', x]]),
      categorical: new Map([['g', { codes, values: GROUPS }]]),
      time,
    };
  };
  const ctx: AuditContext = {
    trusted: make(8000, false),
    incoming: make(16000, true),
    roles: { label: 'y', features: ['g', 'x'], time: 't' },
    classes: ['0', '1'],
    settings: {},
    shared: {},
    seed: 1,
  };
  // The window (1-based) where group b's realised label-1 rate first sits 0.1 below its trusted rate.
  const rateOfB = (d: Dataset, keep: (i: number) => boolean) => {
    let n = 0;
    let pos = 0;
    const g = d.categorical.get('g')!.codes;
    for (let i = 0; i < d.n; i++) {
      if (g[i] !== 1 || !keep(i)) continue;
      n++;
      pos += d.labels[i];
    }
    return pos / n;
  };
  const base = rateOfB(ctx.trusted, () => true);
  let crosses = -1;
  for (let w = 0; w < 8 && step > 0; w++) {
    if (base - rateOfB(ctx.incoming, (i) => Math.floor((i * 8) / ctx.incoming.n) === w) >= 0.1) {
      crosses = w + 1;
      break;
    }
  }
  return { ctx, crosses };
}

describe('drift detector', () => {
  it('finds slow conditioning of a subgroup by the window where it becomes material', async () => {
    for (const seed of [1, 2, 3]) {
      const { ctx, crosses } = world(seed, 0.04);
      const out = await detector.run(ctx);
      const sub = out.findings.filter(
        (f) => f.evidence?.kind === 'subgroup-label' && f.location?.slice === 'b',
      );
      expect(sub.length).toBe(1);
      expect(sub[0].location?.column).toBe('g');
      expect(sub[0].evidence?.firstWindow as number).toBeLessThanOrEqual(crosses);
      expect(sub[0].message).toMatch(/window \d of 8/);
      // No other subgroup is blamed for it.
      const others = out.findings.filter(
        (f) =>
          f.evidence?.kind === 'subgroup-label' && f.location?.slice !== 'b' && f.location?.column === 'g',
      );
      expect(others).toEqual([]);
    }
  });

  it('compares each window with the trusted baseline, not with the previous window', async () => {
    // Each window differs from the previous one by only 2 points, but the creep adds up.
    const { ctx } = world(4, 0.03);
    const out = await detector.run(ctx);
    expect(out.findings.some((f) => f.location?.slice === 'b')).toBe(true);
  });

  it('reports a feature whose distribution drifts, with its first window', async () => {
    const { ctx } = world(5, 0, { shiftX: 0.08 });
    const out = await detector.run(ctx);
    const psiFinding = out.findings.find((f) => f.evidence?.kind === 'feature-distribution');
    expect(psiFinding?.location?.column).toBe('x');
    const mean = out.findings.find((f) => f.evidence?.kind === 'feature-mean');
    expect(mean?.location?.column).toBe('x');
    expect(mean!.evidence!.firstWindow as number).toBeLessThan(psiFinding!.evidence!.firstWindow as number);
  });

  it('stays quiet on windows drawn like the trusted set', async () => {
    for (const seed of [6, 7, 8, 9, 10]) {
      const { ctx } = world(seed, 0);
      const out = await detector.run(ctx);
      expect(out.findings).toEqual([]);
      expect(out.rows).toEqual([]);
    }
  });

  it('cuts windows by count or by duration', () => {
    const time = Float64Array.from({ length: 100 }, (_, i) => Date.UTC(2026, 0, 1) + i * 3600e3);
    const byCount = makeWindows(time, { ...detector.defaults, windows: 4 } as never);
    expect(byCount.count).toBe(4);
    expect(Array.from(byCount.of).filter((w) => w === 0).length).toBe(25);
    const byDay = makeWindows(time, { ...detector.defaults, windowDuration: '1d' } as never);
    expect(byDay.count).toBe(5);
    expect(parseDuration('12h')).toBe(12 * 3600e3);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});

describe('drift statistics', () => {
  it('PSI and Jensen-Shannon are 0 for equal distributions and grow with the shift', () => {
    expect(psi([100, 100, 100], [50, 50, 50])).toBeCloseTo(0, 6);
    expect(jensenShannon([1, 2, 3], [2, 4, 6])).toBeCloseTo(0, 6);
    expect(psi([100, 100, 100], [80, 100, 120])).toBeLessThan(psi([100, 100, 100], [40, 100, 160]));
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 6);
  });

  it('the CUSUM threshold keeps the false-alarm rate under its target on null data', () => {
    const series = 50;
    const windows = 8;
    const h = cusumThreshold(series, windows, 0.5, 0.05);
    const rng = new Rng(11);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    let alarms = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      let any = false;
      for (let s = 0; s < series && !any; s++) {
        const z = Float64Array.from({ length: windows }, normal);
        if (cusum(z, 0.5, h).firstCrossing >= 0) any = true;
      }
      if (any) alarms++;
    }
    expect(alarms / trials).toBeLessThan(0.05);
    // ...and a steady shift of one standard error per window is caught.
    expect(cusum(new Float64Array(windows).fill(2), 0.5, h).firstCrossing).toBeGreaterThanOrEqual(0);
  });
});
