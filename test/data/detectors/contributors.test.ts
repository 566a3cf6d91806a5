import { describe, expect, it } from 'vitest';
import { CONTRIBUTORS_DEFAULTS, detector } from '../../../src/data/detectors/contributors.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';

/**
 * A batch labelled by `accounts` labelers/sources; the trusted model agrees with honest rows except for a
 * small natural error rate; `rogue` accounts have `rogueShare` of their rows contradicted.
 */
function batch(opts: {
  seed: number;
  accounts: number;
  rows: number;
  rogue: string[];
  rogueShare: number;
  role: 'labeler' | 'source';
  suspicion?: (acct: string, rng: Rng) => number;
}) {
  const rng = new Rng(opts.seed);
  const names = Array.from({ length: opts.accounts }, (_, i) => `acct-${i}`);
  const n = opts.accounts * opts.rows;
  const codes = new Int32Array(n);
  const labels = new Int32Array(n);
  const proba = new Float32Array(n * 2);
  const suspicion = new Float32Array(n);
  const rogueRows = new Set<number>();
  for (let i = 0; i < n; i++) {
    const a = i % opts.accounts;
    codes[i] = a;
    labels[i] = rng.next() < 0.3 ? 1 : 0;
    const wrong = opts.rogue.includes(names[a]) ? rng.next() < opts.rogueShare : rng.next() < 0.03;
    if (wrong && opts.rogue.includes(names[a])) rogueRows.add(i);
    const pLabel = wrong ? 0.05 + 0.3 * rng.next() : 0.6 + 0.39 * rng.next();
    proba[i * 2 + labels[i]] = pLabel;
    proba[i * 2 + 1 - labels[i]] = 1 - pLabel;
    suspicion[i] = opts.suspicion ? opts.suspicion(names[a], rng) : 0;
  }
  const incoming: Dataset = {
    n,
    ids: Array.from({ length: n }, (_, i) => `r${i}`),
    labels,
    numeric: new Map(),
    categorical: new Map(),
    [opts.role]: { codes, values: names },
  };
  const trusted: Dataset = {
    n: 0,
    ids: [],
    labels: new Int32Array(0),
    numeric: new Map(),
    categorical: new Map(),
  };
  const ctx: AuditContext = {
    trusted,
    incoming,
    roles: { label: 'label', features: [], [opts.role]: opts.role },
    classes: ['0', '1'],
    settings: {},
    shared: { trustedProba: proba, suspicion },
    seed: 1,
  };
  return { ctx, rogueRows, names };
}

describe('contributors detector', () => {
  it('flags a rogue labeler whose labels the trusted model contradicts, and raises exactly its contradicted rows', async () => {
    const { ctx, rogueRows } = batch({
      seed: 3,
      accounts: 12,
      rows: 150,
      rogue: ['acct-4'],
      rogueShare: 0.3,
      role: 'labeler',
    });
    expect(detector.stage).toBe(2);
    expect(detector.applies(ctx)).toBe(true);
    const out = await detector.run(ctx);
    const flagged = out.findings.filter((f) => f.evidence?.account);
    expect(flagged.map((f) => f.evidence?.account)).toEqual(['acct-4']);
    expect(flagged[0].message).toMatch(/Labeler "acct-4"/);
    const raised = out.rows.filter((r) => r.score >= 0.5);
    const tp = raised.filter((r) => rogueRows.has(r.row)).length;
    expect(tp / raised.length).toBeGreaterThan(0.85);
    expect(tp / rogueRows.size).toBeGreaterThan(0.9);
    // Rows of honest labelers are never raised.
    expect(raised.every((r) => r.row % 12 === 4)).toBe(true);
  });

  it('reports a campaign: few source accounts holding most of the suspect rows', async () => {
    const campaign = ['acct-1', 'acct-7', 'acct-9'];
    const { ctx } = batch({
      seed: 5,
      accounts: 40,
      rows: 60,
      rogue: [],
      rogueShare: 0,
      role: 'source',
      suspicion: (a, rng) =>
        campaign.includes(a) ? (rng.next() < 0.8 ? 0.9 : 0) : rng.next() < 0.01 ? 0.9 : 0,
    });
    const out = await detector.run(ctx);
    const accounts = out.findings.filter((f) => f.evidence?.account).map((f) => f.evidence?.account);
    expect(new Set(accounts)).toEqual(new Set(campaign));
    const summary = out.findings.find((f) => f.message.startsWith('Campaign'));
    expect(summary?.severity).toBe('critical');
    // Every suspect row of the campaign is raised; no other account's row is touched.
    const sus = ctx.shared.suspicion!;
    const src = ctx.incoming.source!;
    const raised = new Map(out.rows.map((r) => [r.row, r.score]));
    for (let i = 0; i < ctx.incoming.n; i++) {
      const inCampaign = campaign.includes(src.values[src.codes[i]]);
      if (inCampaign && sus[i] > 0) expect(raised.get(i)).toBeGreaterThanOrEqual(0.5);
      if (!inCampaign) expect(raised.has(i)).toBe(false);
    }
  });

  it('pools new accounts too small to test alone into one cohort', async () => {
    // 40 honest accounts seen in the trusted set; 15 fresh accounts with 4 rows each, mostly suspect.
    const { ctx } = batch({
      seed: 8,
      accounts: 55,
      rows: 4,
      rogue: [],
      rogueShare: 0,
      role: 'source',
      suspicion: (a, rng) =>
        Number(a.slice(5)) >= 40 ? (rng.next() < 0.8 ? 0.9 : 0) : rng.next() < 0.02 ? 0.9 : 0,
    });
    // Give the honest accounts more volume: re-use the same batch but mark 40 of them as known.
    const src = ctx.incoming.source!;
    ctx.trusted = {
      ...ctx.trusted,
      n: 40,
      ids: [],
      labels: new Int32Array(40),
      source: { codes: Int32Array.from({ length: 40 }, (_, i) => i), values: src.values },
    };
    const out = await detector.run(ctx);
    // No account is big enough to test alone (default minRows 8); only the cohort is.
    expect(out.findings.filter((f) => f.evidence?.account && !f.evidence?.members)).toEqual([]);
    const cohort = out.findings.find((f) => Array.isArray(f.evidence?.members));
    expect(cohort?.message).toMatch(/15 new source accounts/);
    const raised = out.rows.filter((r) => r.score >= 0.5).map((r) => src.values[src.codes[r.row]]);
    expect(raised.length).toBeGreaterThan(0);
    expect(raised.every((a) => Number(a.slice(5)) >= 40)).toBe(true);
  });

  it('stays quiet on honest accounts', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const { ctx } = batch({
        seed,
        accounts: 30,
        rows: 100,
        rogue: [],
        rogueShare: 0,
        role: 'labeler',
        suspicion: (_, rng) => (rng.next() < 0.02 ? 0.8 : 0),
      });
      const out = await detector.run(ctx);
      expect(out.findings).toEqual([]);
      expect(out.rows).toEqual([]);
    }
  });

  it('reads its settings from ctx.settings and rejects a wrongly typed one', async () => {
    const { ctx } = batch({
      seed: 3,
      accounts: 12,
      rows: 150,
      rogue: ['acct-4'],
      rogueShare: 0.3,
      role: 'labeler',
    });
    ctx.settings = { minExcess: 0.9 };
    expect((await detector.run(ctx)).findings).toEqual([]);
    ctx.settings = { minExcess: 'high' };
    expect(() => detector.run(ctx)).toThrow(/minExcess must be a number/);
    expect(CONTRIBUTORS_DEFAULTS.fdr).toBeLessThan(0.05);
  });
});
