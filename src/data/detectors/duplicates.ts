/**
 * Detector 5: duplicates and contradictions. Availability poisoning and label attacks often reuse the
 * same example: a copy of a trusted example with the other label, several near copies with conflicting
 * labels, or a flood of near copies that gives one example the weight of hundreds. Rows are grouped by an
 * exact key (normalised text, or the feature values of a tabular row) and, for text, into near-duplicate
 * clusters by MinHash over word 1- and 2-grams with banded LSH (candidates verified on the estimated Jaccard
 * similarity). Trusted rows are clustered together with incoming ones, so each cluster knows how many
 * trusted copies it has (floods). A row's label is judged against its nearest trusted row directly, with words
 * weighted by their information, so that texts of one template, which differ in the rare word that carries
 * their label, are not copies of each other.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { combine } from '../features/hash.js';
import { median } from '../stats/robust.js';
import { benjaminiHochberg, binomialUpperTail } from '../stats/tests.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import { hashString } from './lib/hash.js';
import {
  bandKey,
  estimatedJaccard,
  jaccard,
  normaliseText,
  onePermutationSignature,
  shingleInformation,
  shingles,
  sortedSet,
  weightedJaccard,
} from './lib/minhash.js';
import { settingsFor } from './lib/settings.js';
import { UnionFind } from './lib/union-find.js';
import type { AuditContext, Dataset, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/duplicates',
  title: 'Duplicates, contradictions and floods of near copies',
  severity: 'medium',
  atlas: ATLAS.poisonData,
  rationale:
    'A copy of a trusted example with the opposite label, near copies that disagree on their label, and ' +
    'floods of near copies (one example repeated until it outweighs the rest) are cheap poisoning moves ' +
    'that ordinary data validation does not notice. The trusted set says what its label should be and ' +
    'how many copies are normal.',
};

export const DUPLICATES_DEFAULTS = {
  /** Text near-duplicates compare the sets of word n-grams for n = 1..shingle. */
  shingle: 2,
  /** MinHash permutations (must be a multiple of `bands`). */
  permutations: 64,
  /** LSH bands (rows per band = permutations / bands). */
  bands: 16,
  /** Estimated Jaccard similarity at or above which two texts are near copies (one word changed in ten: about 0.73). */
  similarity: 0.6,
  /** A cluster needs at least this many incoming rows to be a flood... */
  floodMinSize: 10,
  /**
   * ...more copies than the trusted set's own count of them explains: were batch and trusted set drawn alike,
   * a group's rows would split between them in proportion to their sizes (binomial); the chance of a split
   * this lopsided is tested under Benjamini-Hochberg at this rate over the groups large enough to test, together
   * with the test of copies that contradict the trusted set (below). A small trusted set thus explains a lot
   * (16 copies with none among 300 trusted rows of 25,000 is ordinary)...
   */
  fdr: 0.001,
  /** ...and this many times the median group size over all of the batch's rows (a batch made of repeats has no flood). */
  floodOutlier: 5,
  /**
   * Score of a row whose (near) copies in the trusted set all carry another label, when such rows are more
   * frequent than copies in the batch disagree among themselves (natural label noise among copies: short
   * texts that differ by the word that carries the label, tables whose features do not determine the label),
   * tested with the floods at `fdr`...
   */
  trustedConflictScore: 0.9,
  /**
   * ...and when they are not: it orders the review, and tips the row over only with other evidence that stands
   * on its own (the trusted model disagreeing where its batch test found contradicted labels). Below what, with
   * the trusted model's review-only disagreement (audit/disagreement weakScore, 0.3), reaches the quarantine
   * threshold: a copy's label and the trusted model's reading of it are one piece of evidence (the model was
   * fitted on the copied row), and two detectors that each found nothing in the batch make no quarantine.
   */
  naturalConflictScore: 0.25,
  /** Score of a minority-label row in an incoming-only cluster whose majority holds at least `majority`. */
  conflictScore: 0.55,
  majority: 0.75,
  /** Score of each row of a flood (raised to trustedConflictScore when it also contradicts the trusted copies). */
  floodScore: 0.6,
  /** Findings listed. */
  maxReported: 15,
};
export type DuplicatesSettings = typeof DUPLICATES_DEFAULTS;

/**
 * Exact grouping key of every row: normalised text, or the feature values (label, id, roles excluded) and the
 * embedding when both sides have one of a length (rows that share a few columns but not their embedding are
 * not copies).
 */
function rowKeys(d: Dataset, useText: boolean, features: string[], withEmbedding: boolean): string[] {
  const keys = new Array<string>(d.n);
  if (useText && d.text) {
    // Normalise each distinct text once (large batches repeat themselves).
    const memo = new Map<string, string>();
    for (let i = 0; i < d.n; i++) {
      const raw = d.text[i] ?? '';
      let k = memo.get(raw);
      if (k === undefined) {
        k = normaliseText(raw);
        memo.set(raw, k);
      }
      keys[i] = k;
    }
    return keys;
  }
  const cols: Array<(i: number) => string> = [];
  for (const f of features) {
    const num = d.numeric.get(f);
    if (num) {
      cols.push((i) => (Number.isNaN(num[i]) ? '' : String(num[i])));
      continue;
    }
    const cat = d.categorical.get(f);
    if (cat) cols.push((i) => (cat.codes[i] < 0 ? '' : cat.values[cat.codes[i]]));
  }
  const emb = withEmbedding ? d.embeddings : undefined;
  if (emb) {
    // Two 32-bit hashes of the vector's bits (64 bits: no two of a million rows collide by chance).
    const D = emb.dim;
    const bits = new Uint32Array(emb.data.buffer, emb.data.byteOffset, emb.data.length);
    cols.push((i) => {
      let a = 0x2545f491;
      let b = 0x9e3779b9;
      for (let k = i * D; k < (i + 1) * D; k++) {
        a = combine(a, bits[k]);
        b = combine(b ^ 0x5bd1e995, bits[k]);
      }
      return `${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
    });
  }
  for (let i = 0; i < d.n; i++) {
    let k = '';
    for (let c = 0; c < cols.length; c++) k += (c ? '\u0001' : '') + cols[c](i);
    keys[i] = k;
  }
  return keys;
}

/** Cluster (exact, then near for text) over the union of trusted and incoming rows; returns a cluster id per row. */
function cluster(
  trustedKeys: string[],
  incomingKeys: string[],
  nearText: boolean,
  s: DuplicatesSettings,
  seed: number,
): Clusters {
  // Unique keys over both tables.
  const uniq = new Map<string, number>();
  const idOf = (k: string) => {
    let u = uniq.get(k);
    if (u === undefined) {
      u = uniq.size;
      uniq.set(k, u);
    }
    return u;
  };
  const tu = Int32Array.from(trustedKeys, idOf);
  const iu = Int32Array.from(incomingKeys, idOf);
  const m = uniq.size;
  const uf = new UnionFind(m);
  let similarity = (u: number, v: number): number => (u === v ? 1 : 0);
  let candidatesAmong =
    (keys: number[]) =>
    (u: number): Iterable<number> =>
      keys.includes(u) ? [u] : [];
  if (nearText && m > 1 && m <= MAX_NEAR_UNIQUE) {
    const perms = s.permutations;
    const r = Math.max(1, Math.floor(perms / s.bands));
    const bands = Math.floor(perms / r);
    const sigs = new Uint32Array(m * perms);
    const empty = new Uint8Array(m);
    // Every distinct text's sorted shingle set, packed (offsets into one array), for exact verification.
    const offsets = new Int32Array(m + 1);
    const parts: Uint32Array[] = [];
    let u = 0;
    for (const key of uniq.keys()) {
      const sh = sortedSet(shingles(key, s.shingle));
      parts.push(sh);
      offsets[u + 1] = offsets[u] + sh.length;
      if (sh.length === 0) empty[u] = 1;
      else onePermutationSignature(sh, seed, sigs.subarray(u * perms, (u + 1) * perms));
      u++;
    }
    const flat = new Uint32Array(offsets[m]);
    parts.forEach((p, i) => {
      flat.set(p, offsets[i]);
    });
    parts.length = 0;
    const setOf = (i: number) => flat.subarray(offsets[i], offsets[i + 1]);
    // Weights are counted over every distinct text when first needed (a batch without copies never needs them).
    let information: Float32Array | undefined;
    const totals = new Float64Array(m);
    const weigh = () => {
      let texts = 0;
      for (let i = 0; i < m; i++) texts += 1 - empty[i];
      const w = shingleInformation(flat, texts);
      for (let i = 0; i < m; i++) for (let o = offsets[i]; o < offsets[i + 1]; o++) totals[i] += w[o];
      return w;
    };
    candidatesAmong = (keys) => {
      if (keys.length <= 64) return () => keys;
      information ??= weigh();
      const w = information;
      const postings = new Map<number, number[]>();
      for (const v of keys)
        for (const sh of setOf(v)) {
          const list = postings.get(sh);
          if (list) list.push(v);
          else postings.set(sh, [v]);
        }
      // A key at weighted similarity s.similarity or more to u shares at least that share of u's weight, so it
      // holds one of u's heaviest shingles that together make up more than the rest: no other key can be near.
      return (u) => {
        const sh = setOf(u);
        const order = Array.from(sh, (_, j) => j).sort((a, b) => w[offsets[u] + b] - w[offsets[u] + a]);
        const out = new Set<number>();
        let covered = 0;
        for (const j of order) {
          for (const v of postings.get(sh[j]) ?? []) out.add(v);
          covered += w[offsets[u] + j];
          if (covered > (1 - s.similarity) * totals[u]) break;
        }
        return out;
      };
    };
    similarity = (u, v) => {
      if (u === v) return 1;
      information ??= weigh();
      return weightedJaccard(
        setOf(u),
        information.subarray(offsets[u], offsets[u + 1]),
        totals[u],
        setOf(v),
        totals[v],
      );
    };
    // The signature estimate screens candidates cheaply before the exact check.
    const screen = Math.max(0, s.similarity - 0.25);
    // Candidates share a band; a pair is linked when the exact Jaccard similarity of its shingles is high
    // enough (the one-permutation estimate is loose for very short texts).
    // Bucket each band by sorting (band key, item) packed into one float64: faster than a Map per band.
    const packed = new Float64Array(m);
    for (let b = 0; b < bands; b++) {
      let k = 0;
      for (let i = 0; i < m; i++) if (!empty[i]) packed[k++] = bandKey(sigs, perms, i, b, r) * ITEM_SPACE + i;
      const sorted = packed.subarray(0, k).sort();
      // Link each member of a bucket to the bucket's first member when their signatures agree enough.
      let rep = -1;
      let repKey = -1;
      for (let j = 0; j < k; j++) {
        const key = Math.floor(sorted[j] / ITEM_SPACE);
        const i = sorted[j] - key * ITEM_SPACE;
        if (key !== repKey) {
          repKey = key;
          rep = i;
        } else if (
          uf.find(rep) !== uf.find(i) &&
          estimatedJaccard(sigs, perms, rep, i) >= screen &&
          jaccard(setOf(rep), setOf(i)) >= s.similarity
        ) {
          uf.union(rep, i);
        }
      }
    }
  }
  const root = new Int32Array(m);
  for (let i = 0; i < m; i++) root[i] = uf.find(i);
  return {
    trustedCluster: Int32Array.from(tu, (x) => root[x]),
    incomingCluster: Int32Array.from(iu, (x) => root[x]),
    trustedKey: tu,
    incomingKey: iu,
    similarity,
    candidatesAmong,
    nearSkipped: nearText && m > MAX_NEAR_UNIQUE,
  };
}

interface Clusters {
  /** Cluster of every row: exact copies, and for text near copies linked at `similarity` (transitively). */
  trustedCluster: Int32Array;
  incomingCluster: Int32Array;
  /** Distinct key of every row (one numbering over both tables). */
  trustedKey: Int32Array;
  incomingKey: Int32Array;
  /**
   * How alike two distinct keys are, judged directly (not through a chain of near copies): for text, the
   * Jaccard similarity of their word 1- and 2-grams weighted by each one's information over every distinct
   * text of both tables, so that texts sharing a template's frequent words or a placeholder, and differing in
   * the rare word that carries their meaning, are not copies; exact keys otherwise.
   */
  similarity: (u: number, v: number) => number;
  /** An index of some keys: for a key u, those of them that can be at `similarity` or more to it (all that are). */
  candidatesAmong: (keys: number[]) => (u: number) => Iterable<number>;
  nearSkipped: boolean;
}

/** Items are packed below band keys in one float64 (exact up to 2^53): at most 2^21 distinct texts. */
const ITEM_SPACE = 2 ** 21;
/** Above this many distinct texts, only exact duplicates are grouped (a finding says so). */
export const MAX_NEAR_UNIQUE = ITEM_SPACE;

interface ClusterInfo {
  id: number;
  incomingRows: number[];
  /** Labels of incoming rows (counts per class). */
  incomingLabels: Int32Array;
  trustedRows: number;
  /** Label counts of the cluster's trusted rows per distinct key. */
  trustedByKey: Map<number, Int32Array>;
  exact: boolean;
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsFor(ctx, meta.id, DUPLICATES_DEFAULTS);
  const inc = ctx.incoming;
  const tr = ctx.trusted;
  const k = ctx.classes.length;
  const useText = Boolean(inc.text && ctx.roles.text);
  const features = ctx.roles.features;
  const withEmbedding = !!inc.embeddings && !!tr.embeddings && inc.embeddings.dim === tr.embeddings.dim;
  const ik = rowKeys(inc, useText, features, withEmbedding);
  const tk = rowKeys(tr, useText, features, withEmbedding);
  const {
    trustedCluster,
    incomingCluster,
    trustedKey,
    incomingKey,
    similarity,
    candidatesAmong,
    nearSkipped,
  } = cluster(tk, ik, useText, s, ctx.seed);
  const exactKeyOf = (rows: number[]) => {
    const first = incomingKey[rows[0]];
    return rows.every((r) => incomingKey[r] === first);
  };

  // Gather clusters that contain at least one incoming row and more than one row overall.
  const byCluster = new Map<number, ClusterInfo>();
  const info = (id: number) => {
    let c = byCluster.get(id);
    if (!c) {
      c = {
        id,
        incomingRows: [],
        incomingLabels: new Int32Array(k),
        trustedRows: 0,
        trustedByKey: new Map(),
        exact: true,
      };
      byCluster.set(id, c);
    }
    return c;
  };
  // Rows with nothing to compare (empty text, every feature missing) are not duplicates of each other.
  for (let i = 0; i < inc.n; i++) {
    if (ik[i] === '' || /^\u0001*$/.test(ik[i])) continue;
    const c = info(incomingCluster[i]);
    c.incomingRows.push(i);
    if (inc.labels[i] >= 0) c.incomingLabels[inc.labels[i]]++;
  }
  for (let i = 0; i < tr.n; i++) {
    if (tk[i] === '' || /^\u0001*$/.test(tk[i])) continue;
    const c = byCluster.get(trustedCluster[i]);
    if (!c) continue;
    c.trustedRows++;
    if (tr.labels[i] >= 0) {
      let byKey = c.trustedByKey.get(trustedKey[i]);
      if (!byKey) {
        byKey = new Int32Array(k);
        c.trustedByKey.set(trustedKey[i], byKey);
      }
      byKey[tr.labels[i]]++;
    }
  }
  const sizes: number[] = [];
  for (const c of byCluster.values()) sizes.push(c.incomingRows.length);
  const typical = sizes.length ? median(sizes) : 1;
  const ratio = inc.n / Math.max(1, tr.n);

  const scores = new Float32Array(inc.n);
  const reasons = new Array<string | undefined>(inc.n);
  const raise = (row: number, score: number, why: string) => {
    if (score > scores[row]) {
      scores[row] = score;
      reasons[row] = why;
    }
  };
  const trustedConflicts: Array<{ c: ClusterInfo; rows: number[] }> = [];
  const incomingConflicts: ClusterInfo[] = [];
  const floods: Array<ClusterInfo & { expected: number }> = [];
  let duplicateRows = 0;
  // Flood candidates (large, and large against the batch's typical group), each with the chance that the
  // trusted set holds this few of its copies were both drawn alike.
  const share = inc.n / Math.max(1, inc.n + tr.n);
  const candidates: Array<{ c: ClusterInfo; p: number }> = [];
  for (const c of byCluster.values()) {
    const size = c.incomingRows.length;
    if (size >= s.floodMinSize && size >= s.floodOutlier * typical)
      candidates.push({ c, p: binomialUpperTail(size, size + c.trustedRows, share) });
  }
  // A row is judged against its nearest trusted row directly, never through a chain of near copies: the
  // labels of the trusted rows most like it, when they are alike enough to be copies and agree. Per distinct key.
  const nearest = new Map<number, { label: number; exact: boolean } | null>();
  const indexes = new Map<ClusterInfo, (u: number) => Iterable<number>>();
  const authorityOf = (c: ClusterInfo, u: number) => {
    let got = nearest.get(u);
    if (got !== undefined) return got;
    let index = indexes.get(c);
    if (!index) {
      index = candidatesAmong([...c.trustedByKey.keys()]);
      indexes.set(c, index);
    }
    let best = -1;
    let labels: Int32Array | undefined;
    let exact = false;
    for (const v of index(u)) {
      const counts = c.trustedByKey.get(v)!;
      const sim = similarity(u, v);
      if (sim > best + 1e-9) {
        best = sim;
        labels = Int32Array.from(counts);
        exact = u === v;
      } else if (sim >= best - 1e-9) for (let j = 0; j < k; j++) labels![j] += counts[j];
    }
    got = null;
    if (labels && best >= s.similarity) {
      const label = argmax(labels);
      if (labels[label] === sum(labels)) got = { label, exact };
    }
    nearest.set(u, got);
    return got;
  };
  // Rows of a group only the batch holds that carry another label than its majority and are, directly, copies
  // of a row with the majority's label.
  const minorityCopies = (c: ClusterInfo, major: number) => {
    const majorKeys = new Set<number>();
    for (const r of c.incomingRows) if (inc.labels[r] === major) majorKeys.add(incomingKey[r]);
    const index = candidatesAmong([...majorKeys]);
    const near = new Map<number, boolean>();
    return c.incomingRows.filter((r) => {
      const y = inc.labels[r];
      if (y < 0 || y === major) return false;
      const u = incomingKey[r];
      let is = near.get(u);
      if (is === undefined) {
        is = false;
        for (const v of index(u))
          if (similarity(u, v) >= s.similarity) {
            is = true;
            break;
          }
        near.set(u, is);
      }
      return is;
    });
  };
  // Copies that contradict the trusted set against the natural rate of disagreement among copies: rows with
  // a trusted copy (x of them contradict it, of n) against rows in groups of copies that only the batch
  // holds, each compared with the group's first row when it is a copy of it (x0 of n0 differ from it: one
  // reference copy each side, so neither rate is fitted to the rows it judges). Were both drawn alike, the
  // x + x0 disagreeing rows would split between the two in proportion to n and n0. Without groups to measure
  // that rate on, the test has nothing to stand on and is not made.
  let n1 = 0;
  let x1 = 0;
  let n0 = 0;
  let x0 = 0;
  // In a batch of one class its own copies cannot disagree: they say nothing about how often copies naturally
  // carry other labels, so a copy that contradicts a trusted row is only reported for review.
  const oneClass = oneClassOf(ctx) >= 0;
  const conflicting = new Map<ClusterInfo, number[]>();
  for (const c of byCluster.values()) {
    const size = c.incomingRows.length;
    if (c.trustedByKey.size > 0) {
      const rows: number[] = [];
      for (const r of c.incomingRows) {
        const y = inc.labels[r];
        if (y < 0) continue;
        const a = authorityOf(c, incomingKey[r]);
        if (!a) continue;
        n1++;
        if (y !== a.label) {
          x1++;
          rows.push(r);
        }
      }
      if (rows.length) conflicting.set(c, rows);
    } else if (c.trustedRows === 0 && size >= 2 && !oneClass) {
      const first = c.incomingRows[0];
      const ref = inc.labels[first];
      for (let j = 1; j < size; j++) {
        const r = c.incomingRows[j];
        const y = inc.labels[r];
        if (y < 0 || similarity(incomingKey[r], incomingKey[first]) < s.similarity) continue;
        n0++;
        if (y !== ref) x0++;
      }
    }
  }
  const pConflict = x1 > 0 && n0 > 0 ? binomialUpperTail(x1, x1 + x0, n1 / (n1 + n0)) : 1;
  const reject = benjaminiHochberg([...candidates.map((x) => x.p), pConflict], s.fdr);
  const conflictExcess = reject[candidates.length];
  const isFlood = new Set(candidates.filter((_, j) => reject[j]).map((x) => x.c));
  for (const c of byCluster.values()) {
    const size = c.incomingRows.length;
    if (size + c.trustedRows < 2) continue;
    if (size > 1) duplicateRows += size;
    c.exact = exactKeyOf(c.incomingRows);
    const rows = conflicting.get(c);
    if (rows) {
      // The trusted set is the authority on an example's label (when its copies agree).
      for (const r of rows) {
        const a = authorityOf(c, incomingKey[r])!;
        raise(
          r,
          conflictExcess ? s.trustedConflictScore : s.naturalConflictScore,
          `${a.exact ? 'copy' : 'near copy'} of a trusted row labelled "${ctx.classes[a.label]}"`,
        );
      }
      trustedConflicts.push({ c, rows });
    } else if (c.trustedRows === 0 && size >= 2) {
      const major = argmax(c.incomingLabels);
      const share = c.incomingLabels[major] / Math.max(1, sum(c.incomingLabels));
      const minority = share < 1 ? minorityCopies(c, major) : [];
      if (minority.length) {
        incomingConflicts.push(c);
        if (share >= s.majority && size >= 3) {
          for (const r of minority)
            raise(
              r,
              // In a table, identical features that carry several labels are ordinary (see naturalConflictScore).
              useText ? s.conflictScore : Math.min(s.conflictScore, s.naturalConflictScore),
              `${c.exact ? 'copies' : 'near copies'} in this batch are mostly labelled "${ctx.classes[major]}"`,
            );
        }
      }
    }
    const expected = c.trustedRows * ratio;
    if (isFlood.has(c)) {
      floods.push({ ...c, expected });
      for (const r of c.incomingRows) {
        raise(
          r,
          s.floodScore,
          `one of ${size} ${c.exact ? 'copies' : 'near copies'} in this batch (trusted set: ${c.trustedRows})`,
        );
      }
    }
  }

  const findings: Finding[] = [];
  if (nearSkipped) {
    findings.push(
      makeFinding(
        meta,
        `More than ${MAX_NEAR_UNIQUE} distinct texts: only exact duplicates were grouped, not near copies.`,
        {
          severity: 'info',
          evidence: { limit: MAX_NEAR_UNIQUE },
        },
      ),
    );
  }
  const ids = (rows: number[]) => rows.slice(0, 20).map((r) => inc.ids[r]);
  const sample = (r: number) => (inc.text ? clip(inc.text[r]) : undefined);
  for (const c of floods
    .sort((a, b) => b.incomingRows.length - a.incomingRows.length)
    .slice(0, s.maxReported)) {
    findings.push(
      makeFinding(
        meta,
        `Flood: ${c.incomingRows.length} ${c.exact ? 'copies' : 'near copies'} of one example in this batch, where the trusted set would explain about ${Math.round(c.expected)}; quarantine them and find who sent them.`,
        {
          severity: 'high',
          location: { rows: ids(c.incomingRows), rowCount: c.incomingRows.length },
          evidence: {
            size: c.incomingRows.length,
            trustedCopies: c.trustedRows,
            example: sample(c.incomingRows[0]),
            labels: mix(ctx, c.incomingLabels),
          },
        },
      ),
    );
  }
  const conflictRows = trustedConflicts.reduce((t, x) => t + x.rows.length, 0);
  if (trustedConflicts.length) {
    const top = trustedConflicts.sort((a, b) => b.rows.length - a.rows.length);
    findings.push(
      makeFinding(
        meta,
        conflictExcess
          ? `${trustedConflicts.length} example(s) in this batch copy a trusted row but carry another label (${conflictRows} rows), more often than copies in this batch disagree among themselves; the trusted label wins, quarantine the copies.`
          : oneClass
            ? `${trustedConflicts.length} example(s) in this batch copy a trusted row but carry another label (${conflictRows} rows); a batch of one class has no copies with other labels to say how often that happens naturally, so check their labels.`
            : `${trustedConflicts.length} example(s) in this batch copy a trusted row but carry another label (${conflictRows} rows), no more often than copies in this batch disagree among themselves${n0 > 0 ? '' : ' (the batch has no other copies to compare with)'}; check their labels.`,
        {
          severity: conflictExcess ? 'high' : 'low',
          location: { rows: ids(top.flatMap((x) => x.rows)), rowCount: conflictRows },
          evidence: {
            clusters: trustedConflicts.length,
            conflictRate: { withTrustedCopies: [x1, n1], amongBatchCopies: [x0, n0], p: pConflict },
            examples: top.slice(0, 3).map(({ c, rows }) => ({
              text: sample(rows[0]),
              trusted: ctx.classes[authorityOf(c, incomingKey[rows[0]])!.label],
              incoming: mix(ctx, c.incomingLabels),
            })),
          },
        },
      ),
    );
  }
  if (incomingConflicts.length) {
    const rows = incomingConflicts.flatMap((c) => c.incomingRows);
    findings.push(
      makeFinding(
        meta,
        `${incomingConflicts.length} group(s) of (near) copies in this batch disagree on their label (${rows.length} rows); confirm the right label.`,
        {
          severity: 'low',
          location: { rows: ids(rows), rowCount: rows.length },
          evidence: {
            groups: incomingConflicts.length,
            examples: incomingConflicts
              .slice(0, 3)
              .map((c) => ({ text: sample(c.incomingRows[0]), labels: mix(ctx, c.incomingLabels) })),
          },
        },
      ),
    );
  }
  const rows: RowFlag[] = [];
  for (let i = 0; i < inc.n; i++)
    if (scores[i] > 0) rows.push({ row: i, score: scores[i], reason: reasons[i]! });
  return {
    findings,
    rows,
    charts: {
      duplicates: {
        duplicateRows,
        floods: floods.length,
        trustedConflicts: trustedConflicts.length,
        incomingConflicts: incomingConflicts.length,
        largestClusters: [...byCluster.values()]
          .sort((a, b) => b.incomingRows.length - a.incomingRows.length)
          .slice(0, 10)
          .filter((c) => c.incomingRows.length > 1)
          .map((c) => ({
            size: c.incomingRows.length,
            trusted: c.trustedRows,
            example: sample(c.incomingRows[0]) ?? inc.ids[c.incomingRows[0]],
          })),
      },
    },
  };
}

function argmax(a: Int32Array): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}
const sum = (a: Int32Array) => a.reduce((t, x) => t + x, 0);
const mix = (ctx: AuditContext, a: Int32Array) =>
  Object.fromEntries(ctx.classes.map((c, i) => [c, a[i]]).filter(([, v]) => v));
const clip = (t: string | undefined) => (t && t.length > 120 ? `${t.slice(0, 117)}...` : t);

export function applies(ctx: AuditContext): boolean {
  return Boolean(ctx.incoming.text) || ctx.roles.features.length > 0;
}

export const detector: Detector = {
  meta,
  defaults: DUPLICATES_DEFAULTS,
  stage: 1,
  applies,
  needs: () => 'a --text or feature column',
  cannotRun: unseenClassReason,
  run,
};
export default detector;
// Exposed for tests of the clustering alone.
export { cluster as clusterKeys, hashString };
