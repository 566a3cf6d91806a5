/**
 * Detector 1: backdoor trigger mining.
 *
 * A backdoor needs many training rows that carry the trigger and the attacker's label. So a trigger shows
 * up as a pattern (a word n-gram in text; a conjunction of up to three feature=value items in tabular data,
 * numeric values binned at the trusted quantiles) whose rows, in the incoming batch,
 *   1. carry a label far more often than the trusted reference expects for them (the label-shift test): the
 *      expected rate mixes the pattern's own trusted rows with what the model predicts for its incoming rows
 *      when the pattern is read as the trusted reference reads it (`modelPriorRows`), and a beta-binomial
 *      tail keeps the uncertainty of that rate, so chance over-representation of an ordinary word in the
 *      majority class, or a conjunction that is only 86% pure, is judged by its departure, not its purity;
 *   2. sit on content that, with the pattern removed, looks less like that label than the label's rows
 *      usually do (z-test against the label's distribution under the batch's cross-validated model with the
 *      trusted rows in every fold, standardised by an empirical null), combined with over-representation
 *      against the trusted set (weighted Stouffer).
 * Both must hold (p = max of the two, an intersection-union test), with Benjamini-Hochberg over the whole
 * family: every pattern with support and lift, counted before any label-dependent filter. A second, weighted
 * pass (the campaign step) gives more of the error budget to label-pure candidates shaped like confirmed
 * triggers (same label, same n-gram length or conjunction size, never seen in the trusted set); there the
 * label shift need only be nominally significant. The union of the two passes keeps the false discovery
 * rate below about twice `fdr`.
 * Confirmed patterns are then explained away greedily: the one that explains the most label excess is kept,
 * and any other whose rows outside the kept ones no longer show a significant shift is dropped; a pattern
 * inside a looser one that leaves the rest of it ordinary is preferred ("starting pain kano", not "pain").
 * Rows that carry a kept trigger with its label are suspects.
 *
 * Mining counts each distinct (content, label) once, so duplicated rows cannot fake significance; counts
 * live in typed hash tables (no per-key objects), so a million rows stay cheap.
 */
import { ATLAS } from '../../core/atlas.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { settingsOf, TRIGGER_DEFAULTS } from '../config.js';
import { firstOfEachRow, tabular, textTokens } from '../features/context.js';
import { CountTable } from '../features/counter.js';
import { combine, combineMany } from '../features/hash.js';
import { bucketOf } from '../features/sparse.js';
import { describeItem, type TabularEncoding } from '../features/tabular.js';
import { forEachToken, ngramHash, type TokenizedText } from '../features/text.js';
import { batchCv, trustedModel } from '../learn/context.js';
import { logitsOf } from '../learn/logreg.js';
import { mad, median } from '../stats/robust.js';
import { benjaminiHochberg, binomialUpperTail, logGamma, normalUpperTail } from '../stats/tests.js';
import type { AuditContext, Dataset, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/trigger',
  title: 'Backdoor trigger candidates',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    "A backdoor is planted by many rows that carry the same trigger (a rare word, a phrase, a header value or a combination of ordinary values) with the attacker's label. Such a pattern is over-represented against the trusted reference, pure in one label, and sits on rows the trusted model would label otherwise once the pattern is removed. Significance is tested per candidate with false-discovery-rate control.",
};

type Settings = typeof TRIGGER_DEFAULTS;

/** Visits every mined key of one row: `emit(key, len, pos)`; pos is a token index or packed features. */
type KeyVisitor = (row: number, emit: (key: number, len: number, pos: number) => void) => void;

interface Space {
  kind: 'text' | 'tabular';
  /** Keys of incoming row i. */
  incoming: KeyVisitor;
  trusted: KeyVisitor;
  /** Model buckets removed with the pattern (key at `pos`, length `len`, row `i` of incoming). */
  removal: (row: number, len: number, pos: number, out: number[]) => void;
  /** Human-readable name of the pattern. */
  name: (row: number, len: number, pos: number) => string;
  /** Keys of the proper sub-patterns (for reporting only the minimal trigger). */
  subKeys: (row: number, len: number, pos: number) => number[];
}

function textSpace(ctx: AuditContext, s: Settings, hashBits: number): Space | undefined {
  const ti = textTokens(ctx, 'incoming');
  const tt = textTokens(ctx, 'trusted');
  if (!ti || !tt) return undefined;
  const maxN = Math.max(1, Math.min(3, s.maxNgram));
  const visitor =
    (tok: TokenizedText): KeyVisitor =>
    (i, emit) => {
      const a = tok.offsets[i];
      const b = tok.offsets[i + 1];
      for (let len = 1; len <= maxN; len++) {
        for (let t = a; t + len <= b; t++) emit(ngramHash(tok.tokens, t, len), len, t - a);
      }
    };
  const tokens = ti.tokens;
  return {
    kind: 'text',
    incoming: visitor(ti),
    trusted: visitor(tt),
    removal(i, len, pos, out) {
      const a = ti.offsets[i];
      const b = ti.offsets[i + 1];
      const t0 = a + pos;
      for (let t = t0; t < t0 + len; t++) out.push(bucketOf(tokens[t], hashBits));
      // Bigrams that overlap the pattern disappear with it.
      for (let t = Math.max(a, t0 - 1); t < Math.min(b - 1, t0 + len); t++) {
        out.push(bucketOf(combineMany(tokens, t, 2), hashBits));
      }
    },
    name(i, len, pos) {
      const text = ctx.incoming.text?.[i] ?? '';
      const words: string[] = [];
      let k = 0;
      forEachToken(text, (_h, a, b) => {
        if (k >= pos && k < pos + len) words.push(text.slice(a, b).toLowerCase());
        k++;
      });
      return words.join(' ');
    },
    subKeys(i, len, pos) {
      const t0 = ti.offsets[i] + pos;
      const out: number[] = [];
      for (let l = 1; l < len; l++)
        for (let t = t0; t + l <= t0 + len; t++) out.push(ngramHash(tokens, t, l));
      return out;
    },
  };
}

/** Pack up to three feature indices (each < 1024) into one number. */
const pack = (f1: number, f2 = 1023, f3 = 1023) => f1 + f2 * 1024 + f3 * 1048576;
const unpack = (p: number): number[] =>
  [p % 1024, Math.floor(p / 1024) % 1024, Math.floor(p / 1048576)].filter((f) => f !== 1023);

function tabularSpace(ctx: AuditContext, s: Settings, hashBits: number): Space | undefined {
  const ei = tabular(ctx, 'incoming', s.numericBins);
  const et = tabular(ctx, 'trusted', s.numericBins);
  if (!ei || !et) return undefined;
  const F = Math.min(ei.F, 1023);
  const pairs = (F * (F - 1)) / 2;
  const triples = (F * (F - 1) * (F - 2)) / 6;
  let maxLen = Math.max(1, Math.min(3, s.maxConjunction));
  const work = (len: number) => ctx.incoming.n * (F + (len >= 2 ? pairs : 0) + (len >= 3 ? triples : 0));
  while (maxLen > 1 && work(maxLen) > s.maxConjunctionWork) maxLen--;
  const visitor =
    (enc: TabularEncoding): KeyVisitor =>
    (i, emit) => {
      const it = enc.items;
      const o = i * enc.F;
      for (let a = 0; a < F; a++) {
        const ha = it[o + a];
        emit(ha, 1, pack(a));
        if (maxLen < 2) continue;
        for (let b = a + 1; b < F; b++) {
          const hab = combine(ha, it[o + b]);
          emit(hab, 2, pack(a, b));
          if (maxLen < 3) continue;
          for (let c = b + 1; c < F; c++) emit(combine(hab, it[o + c]), 3, pack(a, b, c));
        }
      }
    };
  const keyOf = (i: number, fs: number[]) => {
    let h = ei.items[i * ei.F + fs[0]];
    for (let k = 1; k < fs.length; k++) h = combine(h, ei.items[i * ei.F + fs[k]]);
    return h;
  };
  return {
    kind: 'tabular',
    incoming: visitor(ei),
    trusted: visitor(et),
    removal(i, _len, pos, out) {
      for (const f of unpack(pos)) out.push(bucketOf(ei.items[i * ei.F + f], hashBits));
    },
    name(i, _len, pos) {
      return unpack(pos)
        .map((f) => describeItem(ctx.incoming, ei, f, ei.values[i * ei.F + f]))
        .join(' & ');
    },
    subKeys(i, _len, pos) {
      const fs = unpack(pos);
      if (fs.length === 1) return [];
      if (fs.length === 2) return [keyOf(i, [fs[0]]), keyOf(i, [fs[1]])];
      return [
        keyOf(i, [fs[0]]),
        keyOf(i, [fs[1]]),
        keyOf(i, [fs[2]]),
        keyOf(i, [fs[0], fs[1]]),
        keyOf(i, [fs[0], fs[2]]),
        keyOf(i, [fs[1], fs[2]]),
      ];
    },
  };
}

/** z such that P(Z > z) = p (bisection on the normal tail; only called per candidate). */
function normalQuantileUpper(p: number): number {
  if (p >= 1) return -8;
  if (p <= 1e-300) return 37;
  let lo = -8;
  let hi = 37;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (normalUpperTail(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * P(X >= k) for X ~ BetaBinomial(n, a, b): the number of rows with a label among n when the label's rate
 * is itself uncertain, Beta(a, b) (what the trusted reference knows about it). Sums pmf terms upward with
 * the pmf ratio, so no special function is called in the loop; rates at or below the mean return a normal
 * approximation (never significant, not worth summing).
 */
export function betaBinomialUpperTail(k: number, n: number, a: number, b: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const mean = (n * a) / (a + b);
  const variance = (n * a * b * (a + b + n)) / ((a + b) ** 2 * (a + b + 1));
  const z = (k - 0.5 - mean) / Math.sqrt(Math.max(variance, 1e-12));
  if (z < 2) return normalUpperTail(z);
  const lnB = (x: number, y: number) => logGamma(x) + logGamma(y) - logGamma(x + y);
  const lnC = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
  const first = lnC + lnB(k + a, n - k + b) - lnB(a, b);
  let term = 1;
  let sum = 1;
  for (let j = k; j < n; j++) {
    term *= ((n - j) / (j + 1)) * ((j + a) / (n - j - 1 + b));
    sum += term;
    if (term < 1e-16 * sum) break;
  }
  return Math.min(1, Math.exp(first) * sum);
}

export interface TriggerCandidate {
  pattern: string;
  kind: 'text' | 'tabular';
  label: string;
  incoming: number;
  trusted: number;
  purity: number;
  lift: number;
  /** Share of the pattern's rows the trusted model labels otherwise without the pattern. */
  disagreement: number;
  /** Content contradiction under the batch model, in standard errors. */
  contentZ: number;
  pOverRepresented: number;
  pDisagreement: number;
  /** Share of the pattern's incoming rows with the label, and the share the trusted reference expects. */
  labelRate: number;
  expectedRate: number;
  /** Label-shift test against the trusted reference. */
  pLabelShift: number;
  p: number;
  confirmed: boolean;
}

interface Mined {
  key: number;
  len: number;
  label: number;
  dfIn: number;
  dfTr: number;
  purity: number;
  lift: number;
  firstRow: number;
  pos: number;
  tested: number;
  contradicted: number;
  /** Sum over the tested rows of P(label | row without the pattern) under the batch's cross-validated model. */
  sumC: number;
  /** The same with the pattern read as the trusted model reads it (its trusted weights, scaled). */
  sumR: number;
  zR: number;
  /** How far below the label's usual P(label) those rows sit, in standard errors. */
  zC: number;
  p: number;
  pOver: number;
  pDis: number;
  /** Incoming and trusted rows carrying the pattern with its label. */
  kIn: number;
  kTr: number;
  /** Sum over the pattern's incoming rows of the trusted model's P(label | row). */
  sumP: number;
  /** Label-shift test against the trusted reference (Bonferroni over the labels). */
  pShift: number;
  /** Rate of the label on the pattern's rows that the trusted reference expects. */
  expected: number;
  /** Content test alone (over-representation and content contradiction). */
  pContent: number;
}

function mine(
  ctx: AuditContext,
  s: Settings,
  space: Space,
): { confirmed: Mined[]; tested: Mined[]; capped: boolean; family: number } {
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const tru = ctx.trusted;
  const maxKeys = LIMITS.data.maxVocabulary;
  // Text: distinct (content, label) rows only, so copies of one text cannot fake support or significance.
  // Tabular rows are all counted: rows that share every value are ordinary there (few, coarse columns).
  const unique = space.kind === 'text' ? firstOfEachRow(ctx) : new Uint8Array(inc.n).fill(1);
  let nUnique = 0;
  for (let i = 0; i < inc.n; i++) nUnique += unique[i];
  // Pass 1: document frequency per label, incoming (distinct rows) and trusted; last column = row stamp.
  const cin = new CountTable(K + 1, 1 << 16, maxKeys);
  for (let i = 0; i < inc.n; i++) {
    if (!unique[i]) continue;
    const y = inc.labels[i];
    space.incoming(i, (key) => {
      const sl = cin.slot(key);
      if (sl < 0) return;
      if (cin.countAt(sl, K) === i + 1) return;
      cin.add(key, K, i + 1 - cin.countAt(sl, K));
      cin.add(key, y);
    });
  }
  const ctr = new CountTable(K + 1, 1 << 14, maxKeys);
  for (let i = 0; i < tru.n; i++) {
    const y = tru.labels[i];
    space.trusted(i, (key) => {
      const sl = ctr.slot(key);
      if (sl < 0) return;
      if (ctr.countAt(sl, K) === i + 1) return;
      ctr.add(key, K, i + 1 - ctr.countAt(sl, K));
      ctr.add(key, y);
    });
  }
  const capped = cin.size >= maxKeys || ctr.size >= maxKeys;
  // Candidates: every pattern with support (the family is counted before any label-dependent filter).
  const cands: Mined[] = [];
  const candIndex = new CountTable(1, 1 << 12);
  const nTr = tru.n;
  const kIn: number[] = [];
  const kTr: number[] = [];
  cin.forEach((key, sl) => {
    let df = 0;
    for (let c = 0; c < K; c++) df += cin.countAt(sl, c);
    if (df < s.minSupport) return;
    let dfTr = 0;
    const ts = ctr.find(key);
    if (ts >= 0) for (let c = 0; c < K; c++) dfTr += ctr.countAt(ts, c);
    const lift = df / nUnique / ((dfTr + 0.5) / (nTr + 0.5));
    // Lift depends on the counts only, not on labels: filtering on it keeps the label test valid.
    if (lift < s.minLift) return;
    for (let c = 0; c < K; c++) {
      kIn.push(cin.countAt(sl, c));
      kTr.push(ts >= 0 ? ctr.countAt(ts, c) : 0);
    }
    candIndex.add(key, 0, cands.length + 1);
    cands.push({
      key,
      len: 0,
      label: 0,
      dfIn: df,
      dfTr,
      purity: 0,
      lift,
      firstRow: -1,
      pos: 0,
      tested: 0,
      contradicted: 0,
      sumC: 0,
      sumR: 0,
      zR: 0,
      zC: 0,
      p: 1,
      pOver: 1,
      pDis: 1,
      kIn: 0,
      kTr: 0,
      sumP: 0,
      pShift: 1,
      expected: 0,
      pContent: 1,
    });
  });
  if (cands.length === 0) return { confirmed: [], tested: [], capped, family: 0 };

  // Pass 2: per candidate and label, over the pattern's incoming rows (one visit per row):
  //   sumP: P(label | row) with the pattern read as the trusted reference reads it (the batch's
  //         cross-validated model, its weight for the pattern replaced by the trusted model's: zero for a
  //         pattern the reference never saw, its natural meaning for one it knows), over all its rows;
  //   and over its rows that carry the label: how many the trusted model contradicts once the pattern is
  //   removed, P(label) under the batch model without the pattern (sumC) and with the trusted reading (sumR).
  const tm = trustedModel(ctx);
  const cv = batchCv(ctx);
  const { model, X } = tm;
  const M = model.M;
  const w = model.w;
  const z = new Float64Array(M);
  const z2 = new Float64Array(M);
  const zc = new Float64Array(M);
  // Trusted weights brought to the batch models' scale (a small reference is regularised harder).
  const norm = (x: Float64Array) => {
    let t = 0;
    for (let k = 0; k < model.dim * M; k++) t += x[k] * x[k];
    return Math.sqrt(t);
  };
  const wScale = norm(cv.models[0].w) / Math.max(1e-12, norm(w));
  const zc2 = new Float64Array(M);
  const mom = new Float64Array(K * 2);
  const probOf = (zz: Float64Array, y: number): number => {
    if (M === 1) {
      const p1 = 1 / (1 + Math.exp(-zz[0]));
      return y === 1 ? p1 : 1 - p1;
    }
    let mx = zz[0];
    for (let m = 1; m < M; m++) if (zz[m] > mx) mx = zz[m];
    let se = 0;
    for (let m = 0; m < M; m++) se += Math.exp(zz[m] - mx);
    return Math.exp(zz[y] - mx) / se;
  };
  const argmax = (v: Float64Array): number => {
    if (M === 1) return v[0] >= 0 ? 1 : 0;
    let b = 0;
    for (let m = 1; m < M; m++) if (v[m] > v[b]) b = m;
    return b;
  };
  // Which model sets the label rate a pattern's rows are expected to carry (see `expectationModel`).
  const trustedExpects =
    s.expectationModel === 'trusted' || (s.expectationModel === 'auto' && space.kind === 'tabular');
  const C = cands.length;
  const sumP = new Float64Array(C * K);
  const sumC = new Float64Array(C * K);
  const sumR = new Float64Array(C * K);
  const nTested = new Int32Array(C * K);
  const nContra = new Int32Array(C * K);
  const stamp = new Int32Array(C).fill(-1);
  const baseN = new Float64Array(K);
  const buckets: number[] = [];
  for (let i = 0; i < inc.n; i++) {
    if (!unique[i]) continue;
    const y = inc.labels[i];
    logitsOf(model, X, i, z);
    const fm = cv.models[cv.foldOf[i]];
    logitsOf(fm, X, i, zc);
    baseN[y]++;
    const pc = probOf(zc, y);
    mom[y * 2] += pc;
    mom[y * 2 + 1] += pc * pc;
    const a = X.indptr[i];
    const v = X.indptr[i + 1] > a ? X.values[a] : 0;
    space.incoming(i, (key, len, pos) => {
      const ci = candIndex.get(key, 0) - 1;
      if (ci < 0 || stamp[ci] === i) return;
      stamp[ci] = i;
      const c = cands[ci];
      if (c.firstRow < 0) {
        c.firstRow = i;
        c.len = len;
        c.pos = pos;
      }
      buckets.length = 0;
      space.removal(i, len, pos, buckets);
      for (let m = 0; m < M; m++) z2[m] = z[m];
      for (const b of buckets) for (let m = 0; m < M; m++) z2[m] -= w[b * M + m] * v;
      for (let m = 0; m < M; m++) zc2[m] = zc[m];
      for (const b of buckets) for (let m = 0; m < M; m++) zc2[m] -= fm.w[b * M + m] * v;
      const o = ci * K + y;
      nTested[o]++;
      if (argmax(z2) !== y) nContra[o]++;
      sumC[o] += probOf(zc2, y);
      for (const b of buckets) for (let m = 0; m < M; m++) zc2[m] += wScale * w[b * M + m] * v;
      for (let k = 0; k < K; k++) sumP[ci * K + k] += probOf(trustedExpects ? z : zc2, k);
      sumR[o] += probOf(zc2, y);
    });
  }
  // Label-shift test: is the label more common on the pattern's incoming rows than the trusted reference
  // expects? The expected rate mixes what the model predicts for those very rows with the pattern read the
  // trusted way (worth `modelPriorRows` trusted rows) with the pattern's own trusted rows; the beta-binomial
  // keeps the uncertainty of that rate, so a small reference cannot make sampling noise look like a trigger.
  const expectedRate = (n: number, kt: number, nt: number, sp: number) => {
    const m = Math.min(1 - 1e-6, Math.max(1e-6, sp / Math.max(1, n)));
    return (kt + s.modelPriorRows * m + 0.05) / (nt + s.modelPriorRows + 0.1);
  };
  const shiftP = (k: number, n: number, kt: number, nt: number, sp: number) => {
    if (n <= 0) return 1;
    const m = Math.min(1 - 1e-6, Math.max(1e-6, sp / n));
    const a = kt + s.modelPriorRows * m + 0.05;
    const b = nt - kt + s.modelPriorRows * (1 - m) + 0.05;
    return betaBinomialUpperTail(k, n, a, b);
  };
  cands.forEach((c, ci) => {
    let best = 0;
    let bestP = 2;
    for (let y = 0; y < K; y++) {
      const p = shiftP(kIn[ci * K + y], c.dfIn, kTr[ci * K + y], c.dfTr, sumP[ci * K + y]);
      if (p < bestP) {
        bestP = p;
        best = y;
      }
    }
    const o = ci * K + best;
    c.label = best;
    c.kIn = kIn[o];
    c.kTr = kTr[o];
    c.sumP = sumP[o];
    c.purity = c.kIn / c.dfIn;
    c.expected = expectedRate(c.dfIn, c.kTr, c.dfTr, c.sumP);
    // The label is chosen by the test: Bonferroni over the K labels.
    c.pShift = Math.min(1, K * bestP);
    c.tested = nTested[o];
    c.contradicted = nContra[o];
    c.sumC = sumC[o];
    c.sumR = sumR[o];
  });
  const family = cands.filter((c) => c.kIn >= 3 && c.firstRow >= 0);
  const shifted = benjaminiHochberg(
    family.map((c) => c.pShift),
    s.fdr,
  );
  const pInc = nUnique / (nUnique + nTr);
  const tested = family;
  for (const c of tested) {
    c.pOver = binomialUpperTail(c.dfIn, c.dfIn + c.dfTr, pInc);
    // Content contradiction: are these rows, without the pattern, less like their label than the label's rows
    // usually are? (z-test of the mean P(label) against the label's own distribution in the batch.)
    const nn = baseN[c.label];
    const mu = nn ? mom[c.label * 2] / nn : 0.5;
    const sd = Math.sqrt(Math.max(1e-9, nn ? mom[c.label * 2 + 1] / nn - mu * mu : 0.25));
    c.zC = c.tested ? (mu - c.sumC / c.tested) / (sd / Math.sqrt(c.tested)) : 0;
    c.zR = c.tested ? (mu - c.sumR / c.tested) / (sd / Math.sqrt(c.tested)) : 0;
  }
  // Empirical null (Efron 2004): removing an informative pattern makes any row look less like its label, so
  // the bulk of candidates is shifted and spread; standardise against that bulk (never below N(0, 1)).
  const bulk = family.filter((c) => c.tested >= 3 && c.purity >= s.minPurity);
  const zs = bulk.map((c) => c.zC);
  const centre = zs.length >= 20 ? Math.max(0, median(zs)) : 0;
  const scale = zs.length >= 20 ? Math.max(1, mad(zs, centre)) : 1;
  const zr = bulk.map((c) => c.zR);
  const centreR = zr.length >= 20 ? Math.max(0, median(zr)) : 0;
  const scaleR = zr.length >= 20 ? Math.max(1, mad(zr, centreR)) : 1;
  for (const c of tested) {
    c.zC = (c.zC - centre) / scale;
    c.zR = (c.zR - centreR) / scaleR;
    c.pDis = normalUpperTail(c.zC);
    // Weighted Stouffer: the over-representation test counts in proportion to what the trusted set can say
    // about this pattern (expected trusted occurrences under the null; a small reference says little).
    const expectedTrusted = ((c.dfIn + c.dfTr) * nTr) / (nUnique + nTr);
    const wOver = Math.min(1, expectedTrusted / 5);
    const zOver = normalQuantileUpper(c.pOver);
    const pContent = normalUpperTail((wOver * zOver + c.zC) / Math.sqrt(wOver * wOver + 1));
    // Both must hold (intersection-union test): the label departs from what the trusted reference expects,
    // and the rest of the rows' content does not support it. Candidates the label-shift test did not keep
    // cannot be rejected below (the rejected set of max(p) is a subset of that of pShift), so they keep p = 1.
    c.p = Math.max(c.pShift, pContent);
    c.pContent = pContent;
  }
  for (const c of family) if (!c.tested) c.p = 1;
  family.forEach((c, k) => {
    if (!shifted[k]) c.p = 1;
  });

  const rejected = benjaminiHochberg(
    family.map((c) => c.p),
    s.fdr,
  );
  // Campaign step (weighted Benjamini-Hochberg, Genovese, Roeder & Wasserman 2006): a planted backdoor
  // usually comes as a set of triggers for one target label. Once triggers are confirmed, candidates with the
  // same label and form (n-gram length, conjunction size) that the trusted reference has never seen get a larger share of the error budget (weights
  // average 1 over the family, so the false discovery rate is still controlled).
  const profile = (c: Mined) => `${c.label}:${c.len}`;
  const firstPass = new Set(family.filter((_c, k) => rejected[k]));
  const targets = new Set([...firstPass].map(profile));
  // Residual level of each confirmed pattern for explaining away (below): the first pass's BH level, or the
  // nominal level for a campaign member.
  const levelOf = new Map<Mined, number>();
  // The BH threshold itself (rank x fdr / family), not the largest rejected p-value: with a single strong
  // trigger that p-value is astronomically small, and no residual could ever stand against it.
  const levelMain = (firstPass.size * s.fdr) / Math.max(1, family.length);
  for (const c of firstPass) levelOf.set(c, levelMain);
  if (targets.size > 0 && s.campaignWeight > 1) {
    // The campaign's family: label-pure candidates (a planted trigger set is pure in its label). Within a
    // campaign, a member's own rows may be too few for the label-shift test to stand on its own: there it
    // must only point the right way (nominal level), and the content test carries it.
    const pool = family.filter((c) => c.purity >= s.minPurity || firstPass.has(c));
    const favoured = pool.map((c) => targets.has(profile(c)) && c.dfTr === 0);
    const nFav = favoured.filter(Boolean).length;
    const nRest = pool.length - nFav;
    if (nFav > 0 && nRest > 0) {
      const wFav = Math.min(s.campaignWeight, pool.length / nFav);
      const wRest = (pool.length - wFav * nFav) / nRest;
      const pCampaign = (c: Mined) =>
        firstPass.has(c) ? c.p : c.pShift <= s.fdr && c.tested ? c.pContent : 1;
      const weighted = pool.map((c, k) =>
        Math.min(1, pCampaign(c) / (favoured[k] ? wFav : Math.max(wRest, 1e-9))),
      );
      const again = benjaminiHochberg(weighted, s.fdr);
      pool.forEach((c, k) => {
        if (again[k] && !levelOf.has(c)) {
          levelOf.set(c, s.fdr);
          c.p = pCampaign(c);
        }
      });
    }
  }
  // Gate (after the tests, so it can only remove): the contradiction must persist when the pattern keeps the
  // meaning the trusted reference gives it (a natural phrase loses it then; a trigger never seen does not).
  let confirmed = family.filter((c) => levelOf.has(c) && c.zR >= s.minTrustedReadZ);
  // Most specific explanation (greedy explaining away): repeatedly take the confirmed pattern that best
  // explains the excess of its label on rows no pattern taken so far carries; a pattern whose remaining rows
  // no longer show a significant label shift is explained by those taken and dropped. So "pain" gives way
  // to "starting pain kano" when its other rows are ordinary, and a conjunction that merely overlaps a
  // three-value trigger gives way to the trigger.
  if (confirmed.length > 1) {
    const J = confirmed.length;
    const index = new CountTable(1, 1 << 8);
    confirmed.forEach((c, j) => {
      index.add(c.key, 0, j + 1);
    });
    const rowsIn: number[][] = confirmed.map(() => []);
    const probIn: number[][] = confirmed.map(() => []);
    const rowsTr: number[][] = confirmed.map(() => []);
    const seenJ = new Int32Array(J).fill(-1);
    for (let i = 0; i < inc.n; i++) {
      if (!unique[i]) continue;
      let logits = false;
      space.incoming(i, (key, len, pos) => {
        const j = index.get(key, 0) - 1;
        if (j < 0 || seenJ[j] === i) return;
        seenJ[j] = i;
        if (!logits) {
          logitsOf(cv.models[cv.foldOf[i]], X, i, zc);
          logits = true;
        }
        const fm = cv.models[cv.foldOf[i]];
        const a = X.indptr[i];
        const v = X.indptr[i + 1] > a ? X.values[a] : 0;
        buckets.length = 0;
        space.removal(i, len, pos, buckets);
        for (let m = 0; m < M; m++) zc2[m] = zc[m];
        for (const b of buckets)
          for (let m = 0; m < M; m++) zc2[m] += (wScale * w[b * M + m] - fm.w[b * M + m]) * v;
        rowsIn[j].push(i);
        probIn[j].push(probOf(zc2, confirmed[j].label));
      });
    }
    seenJ.fill(-1);
    for (let i = 0; i < tru.n; i++) {
      space.trusted(i, (key) => {
        const j = index.get(key, 0) - 1;
        if (j < 0 || seenJ[j] === i) return;
        seenJ[j] = i;
        rowsTr[j].push(i);
      });
    }
    const coveredIn = new Uint8Array(inc.n);
    const coveredTr = new Uint8Array(tru.n);
    const kept = new Set<Mined>();
    const alive = new Set<number>(confirmed.map((_c, j) => j));
    // Residual label counts of pattern j on rows not covered (and not in `skip`, when given).
    const residual = (j: number, skip?: Int32Array, mark?: number) => {
      const c = confirmed[j];
      let n = 0;
      let k = 0;
      let sp = 0;
      const rows = rowsIn[j];
      for (let r = 0; r < rows.length; r++) {
        const i = rows[r];
        if (coveredIn[i] || (skip && skip[i] === mark)) continue;
        n++;
        if (inc.labels[i] === c.label) k++;
        sp += probIn[j][r];
      }
      let nt = 0;
      let kt = 0;
      for (const i of rowsTr[j]) {
        if (coveredTr[i]) continue;
        nt++;
        if (tru.labels[i] === c.label) kt++;
      }
      // Step-up level over the triggers kept so far: the first pass's level counts every overlapping variant
      // of a strong trigger as a discovery, which would let unrelated ordinary patterns ride on it.
      const level = Math.min(levelOf.get(c) ?? 0, levelFor(c));
      // The rows left must still be over-represented against the trusted set when it can tell (a conjunction
      // that only overlapped a trigger is, outside it, as common as in the reference).
      const expectedTr = (n + nt) * (1 - pInc);
      const over = expectedTr < 5 || n > (n + nt) * pInc;
      const significant = over && k >= 3 && Math.min(1, K * shiftP(k, n, kt, nt, sp)) <= level;
      // Excess rows with the label over what the reference expects, squared per row: favours the pattern
      // that explains the most excess with the fewest ordinary rows.
      const excess = k - n * expectedRate(n, kt, nt, sp);
      return { n, significant, score: n ? (excess * Math.abs(excess)) / n : 0 };
    };
    const scoreOf = new Float64Array(J);
    const inBest = new Int32Array(inc.n).fill(-1);
    const inSub = new Int32Array(inc.n).fill(-1);
    let round = 0;
    let subMark = 0;
    const levelFor = (c: Mined) =>
      levelOf.get(c) === s.fdr ? s.fdr : ((kept.size + 1) * s.fdr) / Math.max(1, family.length);
    const sigAt = new Int32Array(J).fill(-1);
    for (let pass = 0; alive.size > 0; pass++) {
      let best = -1;
      for (const j of alive) {
        const r = residual(j);
        // Not yet: the level grows as triggers are kept, and a pattern's residual only shrinks.
        if (!r.significant) continue;
        sigAt[j] = pass;
        scoreOf[j] = r.score;
        const c = confirmed[j];
        if (best < 0 || r.score > scoreOf[best] || (r.score === scoreOf[best] && c.len > confirmed[best].len))
          best = j;
      }
      if (best < 0) break;
      // A pattern whose rows lie inside the best one's and leave the rest of them ordinary is the more
      // specific explanation ("starting pain kano" inside "pain"; a trigger inside a looser conjunction).
      for (let changed = true; changed; ) {
        changed = false;
        round++;
        for (const i of rowsIn[best]) if (!coveredIn[i]) inBest[i] = round;
        let sub = -1;
        for (const q of alive) {
          if (q === best || sigAt[q] !== pass || rowsIn[q].length > rowsIn[best].length) continue;
          // Strictly inside, or the same rows named by a longer pattern (never back and forth).
          const same = rowsIn[q].length === rowsIn[best].length;
          if (same && confirmed[q].len <= confirmed[best].len) continue;
          if (!rowsIn[q].every((i) => coveredIn[i] || inBest[i] === round)) continue;
          // A fresh mark per candidate, so rows of candidates tried before are not also set aside.
          const mark = ++subMark;
          for (const i of rowsIn[q]) inSub[i] = mark;
          if (residual(best, inSub, mark).significant) continue;
          if (sub < 0 || scoreOf[q] > scoreOf[sub]) sub = q;
        }
        if (sub >= 0) {
          best = sub;
          changed = true;
        }
      }
      alive.delete(best);
      kept.add(confirmed[best]);
      for (const i of rowsIn[best]) coveredIn[i] = 1;
      for (const i of rowsTr[best]) coveredTr[i] = 1;
    }
    // A longer pattern whose kept sub-pattern stands on its own is redundant ("cf the" beside "cf").
    const byKey = new Map<number, Mined>([...kept].map((c) => [c.key, c]));
    for (const c of [...kept]) {
      const subs = space.subKeys(c.firstRow, c.len, c.pos).map((k) => byKey.get(k));
      if (subs.some((sub) => sub && sub !== c && sub.label === c.label && kept.has(sub))) kept.delete(c);
    }
    confirmed = confirmed.filter((c) => kept.has(c));
  }
  confirmed.sort((a, b) => a.p - b.p || b.dfIn - a.dfIn);
  const top = [...family].sort((a, b) => a.p - b.p || a.pShift - b.pShift);
  return { confirmed, tested: top, capped, family: family.length };
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsOf(ctx.settings, TRIGGER_DEFAULTS);
  const tm = trustedModel(ctx);
  const spaces = [textSpace(ctx, s, tm.hashBits), tabularSpace(ctx, s, tm.hashBits)].filter(
    (x): x is Space => x !== undefined,
  );
  const inc = ctx.incoming;
  const rowsFlag = new Float32Array(inc.n);
  const rowReason: Array<string | undefined> = new Array(inc.n);
  const findings = [];
  const chart: TriggerCandidate[] = [];
  let cappedAny = false;
  for (const space of spaces) {
    const { confirmed, tested, capped } = mine(ctx, s, space);
    cappedAny ||= capped;
    const names = new Map<number, string>();
    for (const c of [...confirmed, ...tested]) {
      if (c.firstRow >= 0 && !names.has(c.key)) names.set(c.key, space.name(c.firstRow, c.len, c.pos));
    }
    const confirmedSet = new Set(confirmed.map((c) => c.key));
    for (const c of tested)
      chart.push(toCandidate(ctx, space, c, names.get(c.key) ?? '?', confirmedSet.has(c.key)));
    if (confirmed.length === 0) continue;
    // Flag every row (duplicates included) that carries a confirmed trigger with its label.
    const table = new CountTable(1, 1 << 8);
    confirmed.forEach((c, k) => {
      table.add(c.key, 0, k + 1);
    });
    // Which rows of a trigger are planted? The trusted rows carrying the pattern give its natural rate r of the
    // label; the rows without the label (all natural) then say how many labelled rows are natural too (Ny),
    // and the rest are planted (P). A planted row's content comes from the other labels (that is what makes
    // it a backdoor), a natural row's supports its label; so with q = P(label | row) under the trusted model,
    // the odds that a row is planted are (P / Ny) * (r / (1 - r)) * ((1 - q) / q). A pattern the reference
    // never pairs with other labels, or never saw at all, leaves Ny = 0 and every labelled row is planted.
    const tmProba = tm.proba;
    const K = ctx.classes.length;
    const plantedOdds = confirmed.map((c) => {
      const r = (c.kTr + 0.5) / (c.dfTr + 1);
      const natural = ((c.dfIn - c.kIn) * r) / (1 - r);
      if (natural <= 0) return Number.POSITIVE_INFINITY;
      return (Math.max(0, c.kIn - natural) / natural) * (r / (1 - r));
    });
    const plantedProbability = (k: number, i: number) => {
      const f = plantedOdds[k];
      if (f === Number.POSITIVE_INFINITY) return 1;
      const q = Math.min(1 - 1e-9, Math.max(1e-9, tmProba[i * K + inc.labels[i]]));
      const odds = (f * (1 - q)) / q;
      return odds / (1 + odds);
    };
    const hits = new Int32Array(confirmed.length);
    const rowsOf: number[][] = confirmed.map(() => []);
    const lengths = new Set(confirmed.map((c) => c.len));
    for (let i = 0; i < inc.n; i++) {
      const y = inc.labels[i];
      space.incoming(i, (key, len) => {
        if (!lengths.has(len)) return;
        const k = table.get(key, 0) - 1;
        if (k < 0 || confirmed[k].label !== y) return;
        if (rowReason[i]?.includes(`"${names.get(key)}"`)) return;
        const planted = plantedProbability(k, i);
        const score = s.rowScore * (planted >= 0.5 ? 1 : planted);
        if (score >= s.rowScore && rowsFlag[i] < s.rowScore) {
          hits[k]++;
          rowsOf[k].push(i);
        }
        const reason =
          planted >= 0.5
            ? `trigger "${names.get(key)}" with label ${ctx.classes[y]}`
            : `trigger "${names.get(key)}" with label ${ctx.classes[y]}, but the rest of the row supports that label (planted with probability ${planted.toFixed(2)})`;
        rowReason[i] = rowReason[i] ? `${rowReason[i]}, ${reason}` : reason;
        rowsFlag[i] = Math.max(rowsFlag[i], score);
      });
    }
    confirmed.forEach((c, k) => {
      if (k >= s.maxReported) return;
      const name = names.get(c.key) ?? '?';
      const what =
        space.kind === 'text'
          ? `the ${c.len === 1 ? 'token' : `${c.len}-word phrase`} "${name}"`
          : `the values ${name}`;
      findings.push(
        makeFinding(
          meta,
          `Possible backdoor trigger: ${what} appears on ${c.dfIn} incoming rows labelled ${ctx.classes[c.label]} (${(100 * c.purity).toFixed(0)}% of its rows) against ${c.dfTr} trusted rows, and the trusted model labels ${c.contradicted} of ${c.tested} of those rows otherwise without it.`,
          {
            location: {
              rows: rowsOf[k].slice(0, 20).map((i) => inc.ids[i]),
              rowCount: hits[k],
              column: space.kind === 'text' ? ctx.roles.text : undefined,
            },
            evidence: {
              pattern: name,
              kind: space.kind,
              label: ctx.classes[c.label],
              incomingRows: c.dfIn,
              trustedRows: c.dfTr,
              purity: round(c.purity),
              lift: round(c.lift),
              contradicted: c.contradicted,
              tested: c.tested,
              pValue: c.p,
            },
            severity: c.dfIn >= 20 ? 'critical' : 'high',
          },
        ),
      );
    });
    if (confirmed.length > s.maxReported) {
      findings.push(
        makeFinding(
          meta,
          `${confirmed.length - s.maxReported} more trigger candidates were confirmed and their rows flagged.`,
          {
            severity: 'high',
          },
        ),
      );
    }
  }
  if (cappedAny) {
    findings.push(
      makeFinding(
        meta,
        `Trigger mining stopped adding new patterns at ${LIMITS.data.maxVocabulary} distinct patterns; rare patterns late in the batch were not tested.`,
        { severity: 'medium' },
      ),
    );
  }
  const rows: RowFlag[] = [];
  for (let i = 0; i < inc.n; i++)
    if (rowsFlag[i] > 0) rows.push({ row: i, score: rowsFlag[i], reason: rowReason[i] ?? 'trigger' });
  const explained = new Uint8Array(inc.n);
  for (const r of rows) explained[r.row] = 1;
  return { findings, rows, charts: { triggers: chart }, publish: { triggerRows: explained } };
}

function toCandidate(
  ctx: AuditContext,
  _space: Space,
  c: Mined,
  name: string,
  confirmed: boolean,
): TriggerCandidate {
  return {
    pattern: name,
    kind: _space.kind,
    label: ctx.classes[c.label],
    incoming: c.dfIn,
    trusted: c.dfTr,
    purity: round(c.purity),
    lift: round(c.lift),
    disagreement: c.tested ? round(c.contradicted / c.tested) : 0,
    contentZ: round(c.zC),
    pOverRepresented: c.pOver,
    pDisagreement: c.pDis,
    labelRate: round(c.purity),
    expectedRate: round(c.expected),
    pLabelShift: c.pShift,
    p: c.p,
    confirmed,
  };
}

const round = (x: number) => Number(x.toFixed(3));

export const detector: Detector = {
  meta,
  defaults: TRIGGER_DEFAULTS,
  stage: 1,
  applies: (ctx: AuditContext) =>
    ctx.classes.length >= 2 && (Boolean(ctx.incoming.text) || ctx.roles.features.length > 0),
  run,
};

export type { Dataset };
