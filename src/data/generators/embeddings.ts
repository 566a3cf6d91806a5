/**
 * Add an embedding column (JSON array of floats) to a generated case, from the cheap random projection of
 * TF-IDF / one-hot features in src/data/baselines/embed.ts, so the representations detector can be run
 * end to end on the same cases. Trusted and incoming rows share one projection (IDF from the trusted set).
 */
import { projectFeatures } from '../baselines/embed.js';
import type { GeneratedCase } from './cases.js';
import { contextOf } from './dataset.js';

export function withEmbeddings(c: GeneratedCase, column = 'embedding', dim = 64, seed = 1): GeneratedCase {
  const ctx = contextOf(c, seed);
  const tr = projectFeatures(ctx, 'trusted', dim, seed);
  const inc = projectFeatures(ctx, 'incoming', dim, seed);
  const vec = (a: Float32Array, i: number) =>
    `[${Array.from(a.subarray(i * dim, (i + 1) * dim), (x) => x.toFixed(5)).join(',')}]`;
  return {
    columns: [...c.columns, column],
    trusted: c.trusted.map((r, i) => ({ ...r, [column]: vec(tr, i) })),
    incoming: c.incoming.map((r, i) => ({ ...r, [column]: vec(inc, i) })),
    truth: { ...c.truth, roles: { ...c.truth.roles, embeddings: column } as typeof c.truth.roles },
  };
}
