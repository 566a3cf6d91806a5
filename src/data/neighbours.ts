/**
 * Evidence for the people who review the audit's sample: for each row of the review sample, its nearest rows
 * in the trusted set with their labels. A flipped or planted row usually sits among trusted rows that carry
 * another label; seeing them (their text or values, their label) is what lets a reviewer confirm or clear it
 * in seconds instead of judging the row alone.
 *
 * Exact search, bounded: the distance mixes what the audit has of each row (1 - cosine of the --embeddings
 * vectors; else 1 - cosine of the text's word sets weighed by rarity (idf), and for the feature columns the mean of the scaled
 * numeric differences, capped, and of the categorical mismatches). When the trusted set times the queries
 * would pass `budget` operations, a fixed stride of the trusted rows is searched instead (reported as
 * `searched`), so the review sample's evidence never costs more than a fraction of a second.
 */

import type { AuditContext, Dataset } from './detectors/types.js';
import { tokenizeColumn } from './features/text.js';
import { mad, median } from './stats/robust.js';

export interface TrustedNeighbour {
  /** The trusted row's id (--id column, else its 1-based row number). */
  id: string;
  label: string;
  /** Its text, or its feature values as `column=value` pairs, shortened to `maxText` characters. */
  text: string;
  /** 0 = identical; 1 = nothing in common (text and categorical parts); numeric parts are capped at 1. */
  distance: number;
}

export interface NeighbourEvidence {
  /** What the distance was computed on. */
  space: 'embeddings' | 'text' | 'features' | 'text and features';
  k: number;
  /** Trusted rows searched (all of them, or a fixed stride when the budget demands). */
  searched: number;
  trusted: number;
  /** Neighbours per query row (incoming Dataset row number), nearest first. */
  rows: Map<number, TrustedNeighbour[]>;
}

export const NEIGHBOUR_DEFAULTS = { k: 5, maxText: 300, budget: 60_000_000, maxQueries: 400 };

type Ctx = Pick<AuditContext, 'trusted' | 'incoming' | 'roles' | 'classes'>;

const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A row's text, or its feature values, for a reviewer to read. */
function describe(d: Dataset, i: number, features: string[], maxText: number): string {
  if (d.text) return shorten(d.text[i] ?? '', maxText);
  const parts: string[] = [];
  for (const c of features) {
    const num = d.numeric.get(c);
    const cat = d.categorical.get(c);
    if (num) parts.push(`${c}=${Number.isFinite(num[i]) ? String(num[i]) : ''}`);
    else if (cat) parts.push(`${c}=${cat.codes[i] < 0 ? '' : cat.values[cat.codes[i]]}`);
    if (parts.length >= 12) break;
  }
  return shorten(parts.join(', '), maxText);
}

/** Distinct token sets of some rows of a tokenised column. */
function tokenSets(texts: string[]): Array<Set<number>> {
  const tok = tokenizeColumn(texts);
  return texts.map((_, i) => new Set(tok.tokens.subarray(tok.offsets[i], tok.offsets[i + 1])));
}

export function trustedNeighbours(
  ctx: Ctx,
  queries: number[],
  opts: Partial<typeof NEIGHBOUR_DEFAULTS> = {},
): NeighbourEvidence | undefined {
  const o = { ...NEIGHBOUR_DEFAULTS, ...opts };
  const tr = ctx.trusted;
  const inc = ctx.incoming;
  const qs = queries.filter((q) => q >= 0 && q < inc.n).slice(0, o.maxQueries);
  if (!qs.length || tr.n === 0) return undefined;
  const emb = tr.embeddings && inc.embeddings && tr.embeddings.dim === inc.embeddings.dim;
  const useText = !emb && tr.text !== undefined && inc.text !== undefined;
  const nums = emb ? [] : ctx.roles.features.filter((c) => tr.numeric.has(c) && inc.numeric.has(c));
  const cats = emb ? [] : ctx.roles.features.filter((c) => tr.categorical.has(c) && inc.categorical.has(c));
  if (!emb && !useText && nums.length + cats.length === 0) return undefined;

  const perRow = emb ? (tr.embeddings?.dim ?? 1) : nums.length + cats.length + (useText ? 1 : 0);
  const stride = Math.max(1, Math.ceil((tr.n * qs.length * perRow) / o.budget));
  const cand: number[] = [];
  for (let t = 0; t < tr.n; t += stride) cand.push(t);

  // dist[q][c]: accumulated per part, then normalised.
  const dist = qs.map(() => new Float64Array(cand.length));
  if (emb) {
    const te = tr.embeddings!;
    const ie = inc.embeddings!;
    const dim = te.dim;
    const norm = (a: Float32Array, i: number) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += a[i * dim + j] ** 2;
      return Math.sqrt(s) || 1;
    };
    const tn = cand.map((t) => norm(te.data, t));
    qs.forEach((q, qi) => {
      const qn = norm(ie.data, q);
      for (let c = 0; c < cand.length; c++) {
        const t = cand[c];
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += ie.data[q * dim + j] * te.data[t * dim + j];
        dist[qi][c] = Math.max(0, 1 - dot / (qn * tn[c]));
      }
    });
  } else {
    let weight = 0;
    if (nums.length + cats.length) {
      const scales = nums.map((c) => {
        const v = Array.from(tr.numeric.get(c)!).filter(Number.isFinite);
        const m = median(v);
        return 1.4826 * mad(v, m) || 1;
      });
      qs.forEach((q, qi) => {
        const dq = dist[qi];
        nums.forEach((col, f) => {
          const tv = tr.numeric.get(col)!;
          const x = inc.numeric.get(col)![q];
          const s = 3 * scales[f];
          for (let c = 0; c < cand.length; c++) {
            const y = tv[cand[c]];
            // A value missing on one side counts as far as a value can be.
            dq[c] += Number.isFinite(x) && Number.isFinite(y) ? Math.min(1, Math.abs(x - y) / s) : 1;
          }
        });
        cats.forEach((col) => {
          const tc = tr.categorical.get(col)!.codes;
          const x = inc.categorical.get(col)!.codes[q];
          for (let c = 0; c < cand.length; c++) if (tc[cand[c]] !== x || x < 0) dq[c] += 1;
        });
      });
      weight += nums.length + cats.length;
    }
    if (useText) {
      // Text weighs as much as all the feature columns together (or alone when there are none).
      const w = Math.max(1, nums.length + cats.length);
      const qSets = tokenSets(qs.map((q) => inc.text![q] ?? ''));
      const tSets = tokenSets(cand.map((t) => tr.text![t] ?? ''));
      const postings = new Map<number, number[]>();
      qSets.forEach((set, qi) => {
        for (const tok of set) {
          const p = postings.get(tok);
          if (p) p.push(qi);
          else postings.set(tok, [qi]);
        }
      });
      // Words weighed by their rarity in the trusted rows searched (idf): "the" and "," make no neighbours.
      const df = new Map<number, number>();
      for (const set of tSets) for (const tok of set) df.set(tok, (df.get(tok) ?? 0) + 1);
      const idf2 = (tok: number) => Math.log((cand.length + 1) / ((df.get(tok) ?? 0) + 1)) ** 2 + 1e-6;
      const normOf = (set: Set<number>) => {
        let n = 0;
        for (const tok of set) n += idf2(tok);
        return Math.sqrt(n);
      };
      const qNorm = qSets.map(normOf);
      const common = new Float64Array(qs.length);
      const touched: number[] = [];
      for (let c = 0; c < cand.length; c++) {
        const ts = tSets[c];
        const tNorm = normOf(ts);
        for (const tok of ts) {
          const p = postings.get(tok);
          if (!p) continue;
          const wt = idf2(tok);
          for (const qi of p) {
            if (common[qi] === 0) touched.push(qi);
            common[qi] += wt;
          }
        }
        for (let qi = 0; qi < qs.length; qi++) {
          const denom = qNorm[qi] * tNorm;
          const cos = denom > 0 ? Math.min(1, common[qi] / denom) : 0;
          dist[qi][c] += w * (1 - cos);
        }
        for (const qi of touched) common[qi] = 0;
        touched.length = 0;
      }
      weight += w;
    }
    for (const dq of dist) for (let c = 0; c < dq.length; c++) dq[c] /= weight;
  }

  const rows = new Map<number, TrustedNeighbour[]>();
  const features = ctx.roles.features;
  qs.forEach((q, qi) => {
    const dq = dist[qi];
    // Partial selection of the k smallest (k is small): ties go to the earlier trusted row.
    const best: number[] = [];
    for (let c = 0; c < dq.length; c++) {
      if (best.length === o.k && dq[c] >= dq[best[best.length - 1]]) continue;
      let at = best.length;
      while (at > 0 && dq[best[at - 1]] > dq[c]) at--;
      best.splice(at, 0, c);
      if (best.length > o.k) best.pop();
    }
    rows.set(
      q,
      best.map((c) => {
        const t = cand[c];
        return {
          id: tr.ids[t],
          label: ctx.classes[tr.labels[t]] ?? '',
          text: describe(tr, t, features, o.maxText),
          distance: Math.round(dq[c] * 1000) / 1000,
        };
      }),
    );
  });
  return {
    space: emb
      ? 'embeddings'
      : useText
        ? nums.length + cats.length
          ? 'text and features'
          : 'text'
        : 'features',
    k: o.k,
    searched: cand.length,
    trusted: tr.n,
    rows,
  };
}
