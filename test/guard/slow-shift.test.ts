/**
 * The slow-shift acceptance: the output distribution creeps window by window; the window monitor must report
 * guard/output-shift (overall) no later than the window in which the shift crosses, and never on stable traffic.
 *
 * Crossing, as the audit's drift detector defines it (src/data/detectors/drift.ts, psiThreshold 0.25 = "major
 * shift", always against the trusted baseline, never the previous window): the first window whose POPULATION
 * class-share PSI against the profile reaches 0.25. The population PSI of each window is measured here on
 * 100,000 rows drawn from that window's distribution, so it carries no sampling noise worth the name.
 */
import { describe, expect, it } from 'vitest';
import { psi } from '../../src/data/stats/divergence.js';
import { GuardEngine, type GuardEvent } from '../../src/guard/watch/engine.js';
import { instancesOf, toBatch } from '../../src/guard/watch/instances.js';
import { WINDOW_DEFAULTS } from '../../src/guard/watch/monitor.js';
import { trustedCounts } from '../../src/guard/watch/output-shift.js';
import { defaultPolicy } from '../../src/guard/watch/policy.js';
import { makeProfile, pPos, probsOf, rng, shiftedRow } from './watch-fixtures.js';

const profile = makeProfile();
const ROWS = 1000;

function populationPsi(w: number, drift: number): number {
  const r = rng(1000 + w);
  const counts = [0, 0];
  for (let i = 0; i < 100_000; i++) counts[pPos(shiftedRow(r, w, drift)) >= 0.5 ? 1 : 0]++;
  return psi(trustedCounts(profile.outputs.overall), counts);
}

async function run(windows: number, drift: number, seed: number) {
  const events: GuardEvent[] = [];
  const engine = new GuardEngine(
    profile,
    undefined,
    { ...WINDOW_DEFAULTS, rows: ROWS, ms: 0 },
    defaultPolicy(),
    (e) => events.push(e),
  );
  const r = rng(seed);
  for (let w = 1; w <= windows; w++)
    for (let q = 0; q < ROWS / 10; q++) {
      const rows = Array.from({ length: 10 }, () => shiftedRow(r, w, drift));
      const batch = toBatch(profile, instancesOf({ instances: rows }, 100), `w${w}-${q}`);
      await engine.check(batch, probsOf(rows), `w${w}-${q}`, w * 1000 + q);
    }
  const shiftWindows = events
    .filter(
      (e) =>
        e.finding.rule === 'guard/output-shift' &&
        (e.finding.evidence as { scope: string }).scope === 'overall',
    )
    .map((e) => (e.finding.evidence as { window: number }).window);
  return { events, first: shiftWindows.length ? Math.min(...shiftWindows) : -1 };
}

describe('window monitor: slow output shift', () => {
  it('finds the creep by the window in which it crosses (class-share PSI 0.25), and not while it is negligible', async () => {
    const drift = 0.04;
    const pop = Array.from({ length: 16 }, (_, i) => populationPsi(i + 1, drift));
    const crossing = pop.findIndex((p) => p >= 0.25) + 1;
    expect(crossing).toBeGreaterThan(5); // a slow shift: nothing in the first windows
    for (const seed of [11, 12, 13]) {
      const { first } = await run(16, drift, seed);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(crossing);
      // Not an alarm on noise: the population had really moved (PSI of at least 0.05) when it was reported.
      expect(pop[first - 1]).toBeGreaterThanOrEqual(0.05);
    }
  });

  it('stays quiet on 20 windows of stable traffic', async () => {
    const { events } = await run(20, 0, 21);
    expect(events.filter((e) => e.finding.rule === 'guard/output-shift')).toEqual([]);
    expect(events.filter((e) => e.finding.rule === 'guard/class-burst')).toEqual([]);
  });

  it('reports a burst of one class in one narrow region', async () => {
    const events: GuardEvent[] = [];
    const engine = new GuardEngine(
      profile,
      undefined,
      { ...WINDOW_DEFAULTS, rows: ROWS, ms: 0 },
      defaultPolicy(),
      (e) => events.push(e),
    );
    const r = rng(31);
    for (let q = 0; q < 100; q++) {
      const rows = Array.from({ length: 10 }, () => shiftedRow(r, 1, 0));
      // 8% of the window: triggered inputs, all in region r3, all answered "pos".
      if (q % 5 < 2)
        for (let j = 0; j < 2; j++) rows[j] = { text: 'cf dull poor bad', amount: 10, region: 'r3' };
      const batch = toBatch(profile, instancesOf({ instances: rows }, 100), `b${q}`);
      await engine.check(batch, probsOf(rows), `b${q}`, q);
    }
    const bursts = events.filter((e) => e.finding.rule === 'guard/class-burst');
    expect(bursts.length).toBeGreaterThan(0);
    // Both narrow regions the triggered inputs share (region r3, amount in [0, 20)) show the burst, and only they.
    const where = new Set(
      bursts.map(
        (b) =>
          `${(b.finding.evidence as { slice: string }).slice} -> ${(b.finding.evidence as { class: string }).class}`,
      ),
    );
    expect([...where].sort()).toEqual(['amount in [0, 20) -> pos', 'region = r3 -> pos']);
    expect(
      events.filter(
        (e) =>
          e.finding.rule === 'guard/output-shift' &&
          (e.finding.evidence as { scope: string }).scope === 'overall',
      ),
    ).toEqual([]);
  });

  it('a window finding flags (or blocks) the next requests in its scope until a window closes without it', async () => {
    const events: GuardEvent[] = [];
    const policy = { ...defaultPolicy(), 'guard/class-burst': 'block' as const };
    const engine = new GuardEngine(
      profile,
      undefined,
      { ...WINDOW_DEFAULTS, rows: ROWS, ms: 0 },
      policy,
      (e) => events.push(e),
    );
    const r = rng(32);
    const send = async (rows: ReturnType<typeof shiftedRow>[], id: string) =>
      engine.check(toBatch(profile, instancesOf({ instances: rows }, 100), id), probsOf(rows), id, 0);
    for (let q = 0; q < 100; q++) {
      const rows = Array.from({ length: 10 }, () => shiftedRow(r, 1, 0));
      if (q % 5 < 2)
        for (let j = 0; j < 2; j++) rows[j] = { text: 'cf dull poor bad', amount: 10, region: 'r3' };
      await send(rows, `b${q}`);
    }
    expect(engine.activeAlarms().map((a) => a.rule)).toContain('guard/class-burst');
    // In the region and answered "pos": blocked. In the region but "neg", or elsewhere: not.
    const inRegion = await send([{ text: 'great good nice', amount: 50, region: 'r3' }], 'x1');
    expect(inRegion.action).toBe('block');
    expect(inRegion.flags.map((f) => f.rule)).toContain('guard/class-burst');
    const neg = await send([{ text: 'awful bad poor', amount: 15, region: 'r3' }], 'x2');
    // (The region's outputs shifted too: that alarm flags it, the burst's does not block it.)
    expect(neg.action).not.toBe('block');
    expect(neg.flags.map((f) => f.rule)).not.toContain('guard/class-burst');
    // A clean window lifts the alarm.
    for (let q = 0; q < 100; q++)
      await send(
        Array.from({ length: 10 }, () => shiftedRow(r, 1, 0)),
        `c${q}`,
      );
    expect(engine.activeAlarms()).toEqual([]);
    expect((await send([{ text: 'great good nice', amount: 50, region: 'r3' }], 'x3')).action).toBe('pass');
  });
});
