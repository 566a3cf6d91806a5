/**
 * guard/strip: STRIP (Gao et al. 2019; STRIP-ViTA for text, 2021). A backdoored model's answer on a triggered
 * input survives strong perturbation, because the trigger, not the content, decides it; a clean input's
 * answer wavers once other content is mixed in. Each instance is perturbed `perturbations` times by mixing
 * it with held trusted rows: in a text column a share `mix` of its words is replaced by words of a pool row
 * and the rest of that row's words are inserted at random places (the text analogue of superimposing two
 * images); in tabular rows a share `mix` of the feature values is swapped with the pool row's. The model
 * (the upstream, through `predict`) scores every copy; low mean prediction entropy is suspicious. The score is
 * 1 - mean entropy / log(k), calibrated on held-back trusted rows. Perturbations are seeded by the
 * instance's own content, so the same instance always gets the same copies.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';
import type { InputBatch } from '../../gate/models/types.js';
import { rng } from '../../gate/stats.js';
import type { Column } from '../../gate/table.js';
import type { GuardProfile } from '../profile.js';

export const meta: RuleMeta = {
  id: 'guard/strip',
  title: 'Prediction does not change however the instance is perturbed',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    "A trigger overrides the content of an input, so mixing a triggered input with other trusted inputs leaves the backdoored prediction in place while a clean input's prediction wavers; abnormally low entropy across perturbed copies marks a triggered input (STRIP, Gao et al. 2019).",
};

export const DEFAULT_PERTURBATIONS = 16;
export const DEFAULT_MIX = 0.3;

type Pool = NonNullable<GuardProfile['strip']>;

function hashRow(batch: InputBatch, i: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const [name, col] of batch.columns) {
    const v = `${name}\u0000${col.kind === 'number' ? String(col.values[i]) : col.values[i]}\u0001`;
    for (let c = 0; c < v.length; c++) h = Math.imul(h ^ v.charCodeAt(c), 16777619);
  }
  return h >>> 0;
}

/**
 * The perturbed copies of rows `rows` of `batch`, `P` per row, as one batch (row r's copies are
 * rows r*P .. r*P+P-1). `text` names the free-text columns.
 */
export function perturb(
  batch: InputBatch,
  rows: number[],
  pool: Pool,
  text: Set<string>,
  P: number,
  mix: number,
  seed: number,
): InputBatch {
  const n = rows.length * P;
  const columns = new Map<string, Column>();
  const draws: number[] = new Array(n);
  const rand: Array<() => number> = rows.map((i) => rng(hashRow(batch, i, seed)));
  for (let r = 0; r < rows.length; r++)
    for (let p = 0; p < P; p++) draws[r * P + p] = Math.floor(rand[r]() * pool.poolRows);
  for (const [name, col] of batch.columns) {
    const cells = pool.pool[name];
    if (col.kind === 'number') {
      const out = new Float64Array(n);
      for (let r = 0; r < rows.length; r++)
        for (let p = 0; p < P; p++) {
          const j = r * P + p;
          const v = cells?.[draws[j]];
          out[j] =
            cells && rand[r]() < mix
              ? typeof v === 'number'
                ? v
                : v === null
                  ? Number.NaN
                  : Number(v)
              : col.values[rows[r]];
        }
      columns.set(name, { kind: 'number', values: out });
    } else {
      const out: string[] = new Array(n);
      for (let r = 0; r < rows.length; r++)
        for (let p = 0; p < P; p++) {
          const j = r * P + p;
          const own = col.values[rows[r]];
          const v = cells?.[draws[j]];
          const other = v === null || v === undefined ? '' : String(v);
          if (!cells) out[j] = own;
          else if (text.has(name)) out[j] = mixText(own, other, mix, rand[r]);
          else out[j] = rand[r]() < mix ? other : own;
        }
      columns.set(name, { kind: 'string', values: out });
    }
  }
  return { n, columns, ids: Array.from({ length: n }, (_, j) => `strip-${j}`) };
}

/** Replace a share `mix` of `own`'s words by words of `other`, then insert the rest of `other`'s words. */
export function mixText(own: string, other: string, mix: number, rand: () => number): string {
  const a = own.split(/\s+/).filter(Boolean);
  const b = other.split(/\s+/).filter(Boolean);
  let next = 0;
  for (let i = 0; i < a.length && next < b.length; i++) if (rand() < mix) a[i] = b[next++];
  for (; next < b.length; next++) a.splice(Math.floor(rand() * (a.length + 1)), 0, b[next]);
  return a.join(' ');
}

/** 1 - mean entropy / log(k) of each row's P perturbed predictions (probs row-major (rows·P) × k). */
export function stripScores(probs: Float64Array, rows: number, P: number, k: number): Float64Array {
  const out = new Float64Array(rows);
  const logk = Math.log(k);
  for (let r = 0; r < rows; r++) {
    let h = 0;
    for (let p = 0; p < P; p++) {
      const o = (r * P + p) * k;
      for (let j = 0; j < k; j++) {
        const q = probs[o + j];
        if (q > 0) h -= q * Math.log(q);
      }
    }
    out[r] = 1 - h / P / logk;
  }
  return out;
}
