import { describe, expect, it } from 'vitest';
import { subsetDataset } from '../../../src/data/detectors/lib/classes.js';
import { detector } from '../../../src/data/detectors/representations.js';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';

const DIM = 24;

function gauss(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/**
 * Two classes as Gaussian blobs. Poison kinds: `backdoor` = rows of class 0 moved by a shared offset (the
 * trigger's footprint) and labelled 1; `flip` = rows of class 0 left where they are but labelled 1.
 */
function world(seed: number, poison: 'none' | 'backdoor' | 'flip', rate = 0.05) {
  const rng = new Rng(seed);
  const centres = [0, 1].map(() => Float64Array.from({ length: DIM }, () => 2.5 * gauss(rng)));
  const trigger = Float64Array.from({ length: DIM }, () => gauss(rng));
  const norm = Math.hypot(...trigger);
  const make = (n: number, poisoned: boolean) => {
    const data = new Float32Array(n * DIM);
    const labels = new Int32Array(n);
    const bad = new Set<number>();
    for (let i = 0; i < n; i++) {
      let c = rng.next() < 0.5 ? 1 : 0;
      let shift = 0;
      if (poisoned && poison !== 'none' && rng.next() < rate) {
        bad.add(i);
        c = 0;
        labels[i] = 1;
        shift = poison === 'backdoor' ? 6 / norm : 0;
      } else labels[i] = c;
      for (let j = 0; j < DIM; j++) data[i * DIM + j] = centres[c][j] + gauss(rng) + shift * trigger[j];
    }
    const ds: Dataset = {
      n,
      ids: Array.from({ length: n }, (_, i) => `r${i}`),
      labels,
      numeric: new Map(),
      categorical: new Map(),
      embeddings: { data, dim: DIM },
    };
    return { ds, bad };
  };
  const trusted = make(800, false).ds;
  const { ds: incoming, bad } = make(3000, true);
  const ctx: AuditContext = {
    trusted,
    incoming,
    roles: { label: 'label', features: [], embeddings: 'emb' },
    classes: ['0', '1'],
    settings: {},
    shared: {},
    seed: 7,
  };
  return { ctx, bad };
}

function quarantined(rows: Array<{ row: number; score: number }>): Set<number> {
  return new Set(rows.filter((r) => r.score >= 0.5).map((r) => r.row));
}

describe('representations detector', () => {
  it('applies only when embeddings are given', () => {
    const { ctx } = world(1, 'none');
    expect(detector.applies(ctx)).toBe(true);
    expect(detector.applies({ ...ctx, roles: { label: 'label', features: [] } })).toBe(false);
  });

  it('finds a backdoor cluster (spectral signature / activation clustering) with high precision', async () => {
    const { ctx, bad } = world(2, 'backdoor');
    const out = await detector.run(ctx);
    const methods = new Set(out.findings.map((f) => f.evidence?.method));
    expect(methods.has('spectral-signature')).toBe(true);
    expect(methods.has('activation-clustering')).toBe(true);
    const q = quarantined(out.rows);
    const tp = [...q].filter((r) => bad.has(r)).length;
    expect(tp / q.size).toBeGreaterThan(0.9);
    expect(tp / bad.size).toBeGreaterThan(0.9);
  });

  it('finds flipped labels through their trusted neighbours', async () => {
    const { ctx, bad } = world(3, 'flip');
    const out = await detector.run(ctx);
    expect(out.findings.some((f) => f.evidence?.method === 'knn-label-disagreement')).toBe(true);
    const q = quarantined(out.rows);
    const tp = [...q].filter((r) => bad.has(r)).length;
    expect(tp / q.size).toBeGreaterThan(0.9);
    expect(tp / bad.size).toBeGreaterThan(0.9);
  });

  it('judges a batch of one class against the trusted rows of that class', async () => {
    // Only the rows labelled 1 (the backdoor's target): the poisoned class on its own.
    const { ctx, bad } = world(2, 'backdoor');
    const keep = (i: number) => ctx.incoming.labels[i] === 1;
    const rows: number[] = [];
    for (let i = 0; i < ctx.incoming.n; i++) if (keep(i)) rows.push(i);
    const one = { ...ctx, incoming: subsetDataset(ctx.incoming, keep), shared: {} };
    const out = await detector.run(one);
    const q = quarantined(out.rows);
    const badHere = new Set(rows.flatMap((r, k) => (bad.has(r) ? [k] : [])));
    const tp = [...q].filter((r) => badHere.has(r)).length;
    expect(tp / q.size).toBeGreaterThan(0.9);
    expect(tp / badHere.size).toBeGreaterThan(0.9);
    // A clean batch of one class stays quiet.
    const clean = world(4, 'none').ctx;
    const only = (i: number) => clean.incoming.labels[i] === 1;
    const quiet = await detector.run({ ...clean, incoming: subsetDataset(clean.incoming, only), shared: {} });
    expect(quiet.findings).toEqual([]);
  });

  it('stays quiet on clean embeddings', async () => {
    for (const seed of [4, 5, 6]) {
      const { ctx } = world(seed, 'none');
      const out = await detector.run(ctx);
      expect(out.findings).toEqual([]);
      expect(quarantined(out.rows).size).toBe(0);
    }
  });
});
