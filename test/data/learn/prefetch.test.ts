/**
 * Model fits started before the detectors run (prefetch) may only save time: a detector that asks with the
 * settings the prefetch used gets the same result as a fit made on request, and one that asks with other
 * settings gets a fresh fit, never the prefetched one.
 */
import { describe, expect, it } from 'vitest';
import type { AuditContext, Dataset } from '../../../src/data/detectors/types.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { batchCv, prefetchBatchCv, prefetchTrustedCv, trustedCv } from '../../../src/data/learn/context.js';
import { crossFitReference, prefetchCrossFit } from '../../../src/data/learn/reference.js';

const WORDS = 'good bad great awful fine poor nice dull bright dark warm cold fast slow'.split(' ');

function textSet(rng: Rng, n: number, prefix: string): Dataset {
  const labels: number[] = [];
  const text: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.int(2);
    labels.push(y);
    const words = Array.from({ length: 8 }, () => rng.pick(WORDS));
    words.push(y ? 'yes' : 'no');
    text.push(words.join(' '));
  }
  return {
    n,
    ids: labels.map((_, i) => `${prefix}${i}`),
    labels: Int32Array.from(labels),
    text,
    numeric: new Map(),
    categorical: new Map(),
  };
}

function ctxOf(): AuditContext {
  const rng = new Rng(5);
  return {
    trusted: textSet(rng, 200, 't'),
    incoming: textSet(rng, 600, 'i'),
    roles: { label: 'y', text: 't', features: [] },
    classes: ['0', '1'],
    settings: {},
    shared: {},
    seed: 3,
  };
}

const SETTINGS = { hashBits: 14, l2: 1e-3, maxIter: 30 };

describe('prefetched model fits', () => {
  it('give the results of fits made on request', () => {
    const early = ctxOf();
    prefetchBatchCv(early, SETTINGS);
    prefetchTrustedCv(early, SETTINGS, { folds: 4, maxTrainRows: 1000 });
    prefetchCrossFit(early, SETTINGS);
    expect(Object.keys(early.shared).filter((k) => k.startsWith('pending:'))).toHaveLength(3);
    const late = ctxOf();
    expect(batchCv(early, SETTINGS).proba).toEqual(batchCv(late, SETTINGS).proba);
    expect(trustedCv(early, SETTINGS, { folds: 4, maxTrainRows: 1000 })).toEqual(
      trustedCv(late, SETTINGS, { folds: 4, maxTrainRows: 1000 }),
    );
    expect(crossFitReference(early, SETTINGS)?.proba).toEqual(crossFitReference(late, SETTINGS)?.proba);
    expect(Object.keys(early.shared).filter((k) => k.startsWith('pending:'))).toHaveLength(0);
  });

  it('are not used by a request with other settings', () => {
    const early = ctxOf();
    prefetchBatchCv(early, { ...SETTINGS, maxIter: 2 });
    const asked = batchCv(early, SETTINGS);
    expect(asked.proba).toEqual(batchCv(ctxOf(), SETTINGS).proba);
    expect(asked.proba).not.toEqual(batchCv(ctxOf(), { ...SETTINGS, maxIter: 2 }).proba);
  });
});
