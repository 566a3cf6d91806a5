/**
 * A seed per instance, from its values (FNV-1a over column names and values): the perturbations STRIP and
 * occlusion draw for an instance are the same whenever the same instance is scored, whatever else is in the batch.
 */
import type { InputBatch } from '../gate/models/types.js';

export function rowHash(batch: InputBatch, i: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const [name, col] of batch.columns) {
    const v = `${name}\u0000${col.kind === 'number' ? String(col.values[i]) : col.values[i]}\u0001`;
    for (let c = 0; c < v.length; c++) h = Math.imul(h ^ v.charCodeAt(c), 16777619);
  }
  return h >>> 0;
}
