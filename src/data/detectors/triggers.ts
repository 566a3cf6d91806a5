/**
 * Detector 1: backdoor trigger mining.
 *
 * A backdoor needs many training rows that carry the trigger and the attacker's label. So a trigger shows
 * up as a pattern (a word n-gram in text; a conjunction of up to three feature=value items in tabular data,
 * numeric values binned at the trusted quantiles) that, in the incoming batch,
 *   1. is frequent enough to matter (support) and nearly pure in one label (purity);
 *   2. is more common than in the trusted reference (lift, and a one-sided binomial test of the incoming
 *      share of its occurrences against the incoming share of rows);
 *   3. sits on rows whose content, with the pattern removed, looks less like that label than the label's rows
 *      usually do (a z-test of the mean P(label | row without the pattern) against the label's distribution).
 *      The content model is the cross-validated model of the batch with the trusted rows added to every
 *      fold: the trusted set alone is often too small to read content well (872 rows of SST-2 give ~69%
 *      accuracy), and out-of-fold scoring keeps each row's own label out of its score. The trusted model's
 *      own verdict with the pattern removed is reported as evidence.
 * Tests 2 and 3 are combined with a weighted Stouffer Z (the over-representation test weighted by how many
 * trusted occurrences the null predicts, so a small reference neither helps nor hurts much); Benjamini-Hochberg controls the false discovery rate over
 * the candidates the trusted set does not explain (lift >= minLift). A second, weighted pass (the campaign
 * step) gives more of the error budget to candidates shaped like confirmed triggers (same label, same
 * n-gram length or conjunction size, never seen in the trusted set): backdoors are usually planted as a
 * trigger set. The union of the two passes keeps the false discovery rate below twice `fdr`.
 * Rows that carry a confirmed trigger with its label are suspects.
 *
 * Mining counts each distinct (content, label) once, so duplicated rows cannot fake significance; counts
 * live in typed hash tables (no per-key objects), so a million rows stay cheap.
 */
import { ATLAS } from '../../core/atlas.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { settingsOf, TRIGGER_DEFAULTS } from '../config.js';
import { rowHashes, tabular, textTokens } from '../features/context.js';
import { CountTable } from '../features/counter.js';
import { combine, combineMany } from '../features/hash.js';
import { bucketOf } from '../features/sparse.js';
import { describeItem, type TabularEncoding } from '../features/tabular.js';
import { forEachToken, ngramHash, type TokenizedText } from '../features/text.js';
import { batchCv, trustedModel } from '../learn/context.js';
import { logitsOf } from '../learn/logreg.js';
import { mad, median } from '../stats/robust.js';
import { benjaminiHochberg, binomialUpperTail, normalUpperTail } from '../stats/tests.js';
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
}

function mine(
  ctx: AuditContext,
  s: Settings,
  space: Space,
): { confirmed: Mined[]; tested: Mined[]; capped: boolean } {
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const tru = ctx.trusted;
  const maxKeys = LIMITS.data.maxVocabulary;
  // Text: distinct (content, label) rows only, so copies of one text cannot fake support or significance.
  // Tabular rows are all counted: rows that share every value are ordinary there (few, coarse columns).
  const hashes =
    space.kind === 'text' ? rowHashes(ctx, 'incoming') : Uint32Array.from({ length: inc.n }, (_, i) => i);
  const seen = new CountTable(1, Math.max(1024, inc.n));
  const unique = new Uint8Array(inc.n);
  let nUnique = 0;
  for (let i = 0; i < inc.n; i++) {
    const key = combine(hashes[i], inc.labels[i] + 1);
    if (seen.get(key, 0) === 0) {
      seen.add(key, 0);
      unique[i] = 1;
      nUnique++;
    }
  }
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
  // Candidates: support and purity.
  const cands: Mined[] = [];
  const candIndex = new CountTable(1, 1 << 12);
  const nTr = tru.n;
  cin.forEach((key, sl) => {
    let df = 0;
    let best = 0;
    for (let c = 0; c < K; c++) {
      const v = cin.countAt(sl, c);
      df += v;
      if (v > cin.countAt(sl, best)) best = c;
    }
    if (df < s.minSupport) return;
    const purity = cin.countAt(sl, best) / df;
    if (purity < s.minPurity) return;
    let dfTr = 0;
    const ts = ctr.find(key);
    if (ts >= 0) for (let c = 0; c < K; c++) dfTr += ctr.countAt(ts, c);
    const lift = df / nUnique / ((dfTr + 0.5) / (nTr + 0.5));
    candIndex.add(key, 0, cands.length + 1);
    cands.push({
      key,
      len: 0,
      label: best,
      dfIn: df,
      dfTr,
      purity,
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
    });
  });
  if (cands.length === 0) return { confirmed: [], tested: [], capped };

  // Pass 2: for each candidate, how many of its rows (with its label) the trusted model contradicts once
  // the pattern is removed; and the batch's baseline contradiction rate per label.
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
  // Per label: sum and sum of squares of P(label) under the batch model, over the batch's own rows.
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

  const stamp = new Int32Array(cands.length).fill(-1);
  const baseN = new Float64Array(K);
  const buckets: number[] = [];
  const argmax = (v: Float64Array): number => {
    if (M === 1) return v[0] >= 0 ? 1 : 0;
    let b = 0;
    for (let m = 1; m < M; m++) if (v[m] > v[b]) b = m;
    return b;
  };
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
      if (c.label !== y) return;
      buckets.length = 0;
      space.removal(i, len, pos, buckets);
      for (let m = 0; m < M; m++) z2[m] = z[m];
      for (const b of buckets) for (let m = 0; m < M; m++) z2[m] -= w[b * M + m] * v;
      c.tested++;
      if (argmax(z2) !== y) c.contradicted++;
      for (let m = 0; m < M; m++) zc2[m] = zc[m];
      for (const b of buckets) for (let m = 0; m < M; m++) zc2[m] -= fm.w[b * M + m] * v;
      c.sumC += probOf(zc2, y);
      // And with the pattern read as the trusted reference reads it: its batch-learned weight replaced by the
      // trusted model's (zero for a pattern the reference never saw, its natural meaning for one it knows).
      for (const b of buckets) for (let m = 0; m < M; m++) zc2[m] += wScale * w[b * M + m] * v;
      c.sumR += probOf(zc2, y);
    });
  }
  const pInc = nUnique / (nUnique + nTr);
  // The family tested: candidates the trusted reference does not explain (lift), with rows to test.
  for (const c of cands) {
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
  const zs = cands.filter((c) => c.tested >= 3).map((c) => c.zC);
  const centre = zs.length >= 20 ? Math.max(0, median(zs)) : 0;
  const scale = zs.length >= 20 ? Math.max(1, mad(zs, centre)) : 1;
  const zr = cands.filter((c) => c.tested >= 3).map((c) => c.zR);
  const centreR = zr.length >= 20 ? Math.max(0, median(zr)) : 0;
  const scaleR = zr.length >= 20 ? Math.max(1, mad(zr, centreR)) : 1;
  for (const c of cands) {
    c.zC = (c.zC - centre) / scale;
    c.zR = (c.zR - centreR) / scaleR;
    c.pDis = normalUpperTail(c.zC);
    // Weighted Stouffer: the over-representation test counts in proportion to what the trusted set can say
    // about this pattern (expected trusted occurrences under the null; a small reference says little).
    const expectedTrusted = ((c.dfIn + c.dfTr) * nTr) / (nUnique + nTr);
    const wOver = Math.min(1, expectedTrusted / 5);
    const zOver = normalQuantileUpper(c.pOver);
    c.p = normalUpperTail((wOver * zOver + c.zC) / Math.sqrt(wOver * wOver + 1));
  }

  const family = cands.filter((c) => c.lift >= s.minLift && c.tested >= Math.min(s.minSupport, 3));
  const rejected = benjaminiHochberg(
    family.map((c) => c.p),
    s.fdr,
  );
  // Campaign step (weighted Benjamini-Hochberg, Genovese, Roeder & Wasserman 2006): a planted backdoor
  // usually comes as a set of triggers for one target label. Once triggers are confirmed, candidates with the
  // same label and form (n-gram length, conjunction size) that the trusted reference has never seen get a larger share of the error budget (weights
  // average 1 over the family, so the false discovery rate is still controlled).
  const profile = (c: Mined) => `${c.label}:${c.len}`;
  const targets = new Set(family.filter((_c, k) => rejected[k]).map(profile));
  if (targets.size > 0 && s.campaignWeight > 1) {
    const favoured = family.map((c) => targets.has(profile(c)) && c.dfTr === 0);
    const nFav = favoured.filter(Boolean).length;
    const nRest = family.length - nFav;
    if (nFav > 0 && nRest > 0) {
      const wFav = Math.min(s.campaignWeight, family.length / nFav);
      const wRest = (family.length - wFav * nFav) / nRest;
      const weighted = family.map((c, k) => Math.min(1, c.p / (favoured[k] ? wFav : Math.max(wRest, 1e-9))));
      const again = benjaminiHochberg(weighted, s.fdr);
      for (let k = 0; k < family.length; k++) if (again[k]) rejected[k] = true;
    }
  }
  // Gate (after the tests, so it can only remove): the contradiction must persist when the pattern keeps the
  // meaning the trusted reference gives it (a natural phrase loses it then; a trigger never seen does not).
  let confirmed = family.filter((c, k) => rejected[k] && c.firstRow >= 0 && c.zR >= s.minTrustedReadZ);
  // Report the minimal trigger: drop a pattern when one of its sub-patterns with the same label is confirmed.
  // A sub-pattern that occurs only inside the longer one (same rows) gives way to it ("pale kettle", not
  // "pale" and "kettle"); a sub-pattern that also stands alone is the more general trigger and is kept.
  const confirmedKeys = new Map<number, Mined>(confirmed.map((c) => [c.key, c]));
  const dropped = new Set<Mined>();
  for (const c of confirmed) {
    for (const k of space.subKeys(c.firstRow, c.len, c.pos)) {
      const sub = confirmedKeys.get(k);
      if (!sub || sub.label !== c.label) continue;
      if (sub.dfIn <= c.dfIn) dropped.add(sub);
      else dropped.add(c);
    }
  }
  confirmed = confirmed.filter((c) => !dropped.has(c));
  confirmed.sort((a, b) => a.p - b.p || b.dfIn - a.dfIn);
  const tested = [...family].sort((a, b) => a.p - b.p).slice(0, 40);
  return { confirmed, tested, capped };
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
        if (rowsFlag[i] === 0) {
          hits[k]++;
          rowsOf[k].push(i);
        }
        const reason = `trigger "${names.get(key)}" with label ${ctx.classes[y]}`;
        rowReason[i] = rowReason[i] ? `${rowReason[i]}, ${reason}` : reason;
        rowsFlag[i] = s.rowScore;
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
  return { findings, rows, charts: { triggers: chart } };
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
