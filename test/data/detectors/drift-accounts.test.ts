import { describe, expect, it } from 'vitest';
import { detector } from '../../../src/data/detectors/drift.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';

const DAY = 86400e3;

/**
 * Thirty honest accounts and `bad` conditioning accounts (about 5% of the rows each), 8 daily windows of
 * 1,500 rows. A heavy-tailed feature `gain` (mostly 0, a few rows in the thousands) and an ordinary `x`.
 * The label follows x (label 1 when x > 0.6, with 5% noise). When conditioning: in window w the bad accounts
 * add `shift` × w × sd to gain, and relabel a share `flip` × w of their label-0 rows as 1. The trusted model's
 * view is supplied as P(1) = 0.9 where x > 0.6, else 0.1.
 */
function world(seed: number, opts: { bad: number; shift: number; flip: number }) {
  const rng = new Rng(seed);
  const accounts = [
    ...Array.from({ length: 30 }, (_, i) => `user-${i}`),
    ...Array.from({ length: opts.bad }, (_, i) => `creep-${i}`),
  ];
  const gain = () => (rng.next() < 0.9 ? 0 : Math.round(1000 * Math.exp(3 * rng.next())));
  const make = (n: number, windowed: boolean): { d: Dataset; proba: Float32Array } => {
    const codes = new Int32Array(n);
    const g = new Float64Array(n);
    const x = new Float64Array(n);
    const labels = new Int32Array(n);
    const time = new Float64Array(n);
    const proba = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const w = windowed ? Math.floor((i * 8) / n) : 0;
      const isBad = windowed && opts.bad > 0 && rng.next() < 0.05 * opts.bad;
      codes[i] = isBad ? 30 + rng.int(opts.bad) : rng.int(30);
      x[i] = rng.next();
      g[i] = gain() + (isBad ? opts.shift * w * 2000 : 0);
      let y = x[i] > 0.6 ? 1 : 0;
      if (rng.next() < 0.05) y = 1 - y;
      if (isBad && y === 0 && rng.next() < opts.flip * w) y = 1;
      labels[i] = y;
      const p1 = x[i] > 0.6 ? 0.9 : 0.1;
      proba[2 * i] = 1 - p1;
      proba[2 * i + 1] = p1;
      time[i] = windowed
        ? Date.UTC(2026, 0, 1) + w * DAY + rng.next() * DAY * 0.99
        : Date.UTC(2025, 0, 1) + i;
    }
    return {
      d: {
        n,
        ids: Array.from({ length: n }, (_, i) => String(i)),
        labels,
        numeric: new Map([
          ['gain', g],
          ['x', x],
        ]),
        categorical: new Map(),
        source: { codes, values: accounts },
        time,
      },
      proba,
    };
  };
  const trusted = make(1000, false);
  // The trusted rows come from the honest accounts only.
  trusted.d.source = { codes: trusted.d.source!.codes.map((c) => c % 30), values: accounts };
  const incoming = make(12000, true);
  const ctx: AuditContext = {
    trusted: trusted.d,
    incoming: incoming.d,
    roles: { label: 'y', features: ['gain', 'x'], source: 's', time: 't' },
    classes: ['0', '1'],
    settings: {},
    shared: { trustedProba: incoming.proba },
    seed: 1,
  };
  return ctx;
}

const accountFindings = (out: Awaited<ReturnType<typeof detector.run>>) =>
  out.findings.filter((f) => String(f.evidence?.kind).startsWith('account-'));

describe('drift per account (conditioning by a few accounts)', () => {
  it('names the creeping accounts by the window where the creep becomes material', async () => {
    for (const seed of [1, 2]) {
      const ctx = world(seed, { bad: 2, shift: 0.1, flip: 0.05 });
      const out = await detector.run(ctx);
      const found = accountFindings(out);
      const text = JSON.stringify(found);
      expect(text).toContain('creep-0');
      expect(text).toContain('creep-1');
      // Feature creep of 0.1 sd-units x w reaches half of gain's spread by window 4; labels 20% by window 5.
      const first = Math.min(...found.map((f) => Number(f.evidence?.firstWindow)));
      expect(first).toBeGreaterThanOrEqual(2);
      expect(first).toBeLessThanOrEqual(5);
      // No honest account is named.
      expect(found.every((f) => !/user-\d+/.test(JSON.stringify(f.evidence?.accounts)))).toBe(true);
      // Rows the creeping accounts relabelled after the crossing are raised; honest rows are not.
      const raised = out.rows.filter((r) => r.score >= 0.5).map((r) => r.row);
      expect(raised.length).toBeGreaterThan(10);
      const codes = ctx.incoming.source!.codes;
      expect(raised.every((r) => codes[r] >= 30)).toBe(true);
    }
  });

  it('raises no alarm when one account has the only non-zero values of a count that is otherwise always 0', async () => {
    // A loan table's delinquent amount: 0 on every trusted row and on all but a few incoming rows. The two
    // that are not come from one honest account in the last windows. As ranks they read as a creep (z above 3
    // from one row); as a share of rows above 0 they are two rows where a fraction of one was expected.
    for (const seed of [6, 7]) {
      const ctx = world(seed, { bad: 0, shift: 0, flip: 0 });
      const inc = ctx.incoming;
      const delinq = new Float64Array(inc.n);
      const codes = inc.source!.codes;
      let placed = 0;
      for (let i = inc.n - 1; i >= 0 && placed < 2; i--) {
        if (codes[i] !== 7) continue;
        delinq[i] = 26 + 13 * placed;
        placed++;
      }
      inc.numeric.set('delinq', delinq);
      ctx.trusted.numeric.set('delinq', new Float64Array(ctx.trusted.n));
      ctx.roles = { ...ctx.roles, features: [...ctx.roles.features, 'delinq'] };
      const out = await detector.run(ctx);
      expect(accountFindings(out)).toEqual([]);
      expect(out.findings.filter((f) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    }
  });

  it("names an account whose rows leave a count's usual value, as the share of its rows above it", async () => {
    const ctx = world(8, { bad: 1, shift: 0, flip: 0 });
    const inc = ctx.incoming;
    const rng = new Rng(9);
    const count = new Float64Array(inc.n);
    for (let i = 0; i < inc.n; i++) {
      const w = Math.floor((i * 8) / inc.n);
      // Honest rows: 2% above 0. The creeping account: 2% more with each window.
      const p = inc.source!.codes[i] === 30 ? 0.02 + 0.04 * w : 0.02;
      count[i] = rng.next() < p ? 1 + rng.int(3) : 0;
    }
    inc.numeric.set('chargebacks', count);
    const tc = new Float64Array(ctx.trusted.n);
    for (let i = 0; i < tc.length; i++) tc[i] = rng.next() < 0.02 ? 1 + rng.int(3) : 0;
    ctx.trusted.numeric.set('chargebacks', tc);
    ctx.roles = { ...ctx.roles, features: [...ctx.roles.features, 'chargebacks'] };
    const found = accountFindings(await detector.run(ctx));
    const mine = found.filter((f) => f.evidence?.feature === 'chargebacks');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine[0].message).toContain('share of its rows with "chargebacks" above 0');
    expect(JSON.stringify(mine[0].evidence?.accounts ?? mine[0].location)).toContain('creep-0');
  });

  it('raises no account alarm on clean accounts with a heavy-tailed feature', async () => {
    for (const seed of [3, 4, 5]) {
      const out = await detector.run(world(seed, { bad: 0, shift: 0, flip: 0 }));
      expect(accountFindings(out)).toEqual([]);
      expect(out.findings.filter((f) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    }
  });
});
