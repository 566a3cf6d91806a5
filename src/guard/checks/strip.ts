/**
 * guard/strip: STRIP (Gao et al. 2019; STRIP-ViTA for text, 2021). A backdoored model's answer on a triggered
 * input survives strong perturbation, because the trigger, not the content, decides it; a clean input's
 * answer wavers once other content is mixed in. Each instance is perturbed `perturbations` times by mixing
 * it with held trusted rows the model assigns to another class than the instance's: in a text column a share
 * `mix` of its words is replaced by words of the pool row and the rest of that row's words are inserted at
 * random places (the text analogue of superimposing two images); in tabular rows a share `mix` of the feature
 * values is swapped with the pool row's. The model (the upstream, through `predict`) scores every copy.
 *
 * Why not STRIP's entropy: production models are confident, and copies pushed toward another class flip
 * confidently (low entropy) as often as they hold, so entropy does not separate; the share of the answer that
 * survives (the mean probability of the originally predicted class over the copies) does. The score is that
 * share, calibrated per predicted class on held-back trusted rows (a majority class survives mixing more
 * easily than a minority one). Perturbations are seeded by the instance's own content, so the same instance
 * always gets the same copies.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';
import type { InputBatch } from '../../gate/models/types.js';
import { rng } from '../../gate/stats.js';
import type { Column } from '../../gate/table.js';
import type { GuardProfile } from '../profile.js';
import { rowHash } from '../row-hash.js';

export const meta: RuleMeta = {
  id: 'guard/strip',
  title: 'Prediction does not change however the instance is perturbed',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    "A trigger overrides the content of an input, so mixing a triggered input with other trusted inputs leaves the backdoored prediction in place while a clean input's prediction wavers; abnormally low entropy across perturbed copies marks a triggered input (STRIP, Gao et al. 2019).",
};

export const DEFAULT_PERTURBATIONS = 16;
/**
 * Text: replace no word, insert all of the pool row's (superimposition; replacing words removes the trigger from
 * some copies). Tabular: swap half the values. Chosen on the dev part of bench/guard-detect.
 */
export const DEFAULT_MIX_TEXT = 0;
export const DEFAULT_MIX_TABULAR = 0.5;

type Pool = NonNullable<GuardProfile['strip']>;

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
  predicted: ArrayLike<number>,
): InputBatch {
  const n = rows.length * P;
  const columns = new Map<string, Column>();
  const draws: number[] = new Array(n);
  const rand: Array<() => number> = rows.map((i) => rng(rowHash(batch, i, seed)));
  const all = Array.from({ length: pool.poolRows }, (_, j) => j);
  const others = new Map<number, number[]>();
  for (let r = 0; r < rows.length; r++) {
    const cls = predicted[r];
    let from = others.get(cls);
    if (!from) {
      from = all.filter((j) => pool.poolClasses[j] !== cls);
      if (!from.length) from = all;
      others.set(cls, from);
    }
    for (let p = 0; p < P; p++) draws[r * P + p] = from[Math.floor(rand[r]() * from.length)];
  }
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

/** Mean probability of each row's predicted class over its P perturbed copies (probs row-major (rows·P) × k). */
export function stripScores(
  probs: Float64Array,
  rows: number,
  P: number,
  k: number,
  predicted: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += probs[(r * P + p) * k + predicted[r]];
    out[r] = s / P;
  }
  return out;
}
