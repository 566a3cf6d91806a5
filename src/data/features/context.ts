/**
 * Features computed once per audit and shared by every detector that needs them (tokenising a million
 * texts twice would double the cost). Cached on `ctx.shared` under `features:*` keys.
 */
import type { AuditContext, Dataset } from '../detectors/types.js';
import { combine, combineMany } from './hash.js';
import { buildSparse, type DenseBlock, denseScale, type SparseMatrix } from './sparse.js';
import { encodeTabular, numericEdges, type TabularEncoding } from './tabular.js';
import { type TokenizedText, tokenizeColumn } from './text.js';

export type Side = 'trusted' | 'incoming';

function cached<T>(ctx: AuditContext, key: string, make: () => T): T {
  const k = `features:${key}`;
  if (!(k in ctx.shared)) ctx.shared[k] = make();
  return ctx.shared[k] as T;
}

const ds = (ctx: AuditContext, side: Side): Dataset => (side === 'trusted' ? ctx.trusted : ctx.incoming);

/** Token hashes of the text column (undefined without --text). */
export function textTokens(ctx: AuditContext, side: Side): TokenizedText | undefined {
  const d = ds(ctx, side);
  if (!d.text) return undefined;
  return cached(ctx, `tokens:${side}`, () => tokenizeColumn(d.text!));
}

/** Tabular items of the feature columns, numeric bins cut at the trusted quantiles. */
export function tabular(ctx: AuditContext, side: Side, bins = 8): TabularEncoding | undefined {
  const cols = [...ctx.roles.features].filter(
    (c) => ctx.trusted.numeric.has(c) || ctx.trusted.categorical.has(c),
  );
  if (cols.length === 0) return undefined;
  const edges = cached(ctx, `edges:${bins}`, () => numericEdges(ctx.trusted, cols, bins));
  return cached(ctx, `tabular:${side}:${bins}`, () => encodeTabular(ds(ctx, side), cols, edges));
}

/** The --embeddings vectors of a side, standardised by the trusted rows' (undefined without them). */
function embeddingBlock(ctx: AuditContext, side: Side): DenseBlock | undefined {
  const t = ctx.trusted.embeddings;
  const i = ctx.incoming.embeddings;
  // Both sides or neither: a model fitted on one reading must score the other the same way.
  if (!t || !i || t.dim !== i.dim || t.dim === 0) return undefined;
  const e = side === 'trusted' ? t : i;
  const scale = cached(ctx, 'embedding-scale', () => denseScale(t.data, t.dim));
  return { data: e.data, dim: e.dim, ...scale };
}

/** The model matrix: hashed unigrams + bigrams of the text, one-hot tabular items, the embedding vector. */
export function modelMatrix(ctx: AuditContext, side: Side, hashBits: number): SparseMatrix {
  return cached(ctx, `matrix:${side}:${hashBits}`, () =>
    buildSparse(
      ds(ctx, side).n,
      { hashBits, maxNgram: 2 },
      textTokens(ctx, side),
      tabular(ctx, side),
      embeddingBlock(ctx, side),
    ),
  );
}

/** One hash per row over its whole content (tokens, items, embedding): equal rows get equal hashes. */
export function rowHashes(ctx: AuditContext, side: Side): Uint32Array {
  return cached(ctx, `rowhash:${side}`, () => {
    const d = ds(ctx, side);
    const tok = textTokens(ctx, side);
    // Raw values, not bins: rows that only share bins are not duplicates.
    const cols = ctx.roles.features;
    const nums = cols.map((c) => d.numeric.get(c)).filter((x): x is Float64Array => x !== undefined);
    const cats = cols.map((c) => d.categorical.get(c)?.codes).filter((x): x is Int32Array => x !== undefined);
    const emb = embeddingBlock(ctx, side);
    const ebits = new Uint32Array(1);
    const efloat = new Float32Array(ebits.buffer);
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    const out = new Uint32Array(d.n);
    for (let i = 0; i < d.n; i++) {
      let h = 0x9747b28c;
      if (tok) h = combineMany(tok.tokens, tok.offsets[i], tok.offsets[i + 1] - tok.offsets[i]) ^ h;
      for (const a of nums) {
        bits[0] = a[i];
        h = combine(combine(h, words[0]), words[1]);
      }
      for (const a of cats) h = combine(h, a[i] + 1);
      if (emb)
        for (let k = i * emb.dim; k < (i + 1) * emb.dim; k++) {
          efloat[0] = emb.data[k];
          h = combine(h, ebits[0]);
        }
      out[i] = h >>> 0;
    }
    return out;
  });
}

/**
 * 1 for the first incoming row of each distinct (content, label), 0 for its copies: copies of one row are
 * one piece of evidence, never many.
 */
export function firstOfEachRow(ctx: AuditContext): Uint8Array {
  return cached(ctx, 'first-of-each-row', () => {
    const inc = ctx.incoming;
    const hashes = rowHashes(ctx, 'incoming');
    const seen = new Set<number>();
    const out = new Uint8Array(inc.n);
    for (let i = 0; i < inc.n; i++) {
      const key = hashes[i] * 64 + (inc.labels[i] & 63);
      if (seen.has(key)) continue;
      seen.add(key);
      out[i] = 1;
    }
    return out;
  });
}
