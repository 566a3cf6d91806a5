/**
 * Detector 1: backdoor trigger mining.
 *
 * A backdoor needs many training rows that carry the trigger and the attacker's label. So a trigger shows
 * up as a pattern (triggers/spaces.ts: a word n-gram, a structural shape of the text such as a header field
 * or a sentence template, or a conjunction of up to three feature=value items in a table) whose rows, in the
 * incoming batch, carry a label more often than the trusted reference expects. Every kind of pattern is
 * judged by the same two tests, each with the trusted set's own sampling error:
 *   - label shift (stats/shift.ts): the expected rate is a Beta posterior from the pattern's trusted rows and
 *     a model's prediction for its incoming rows with every suspect pattern read as the trusted reference
 *     reads it (for tables the trusted model, its worth in rows measured on held-out trusted labels:
 *     tabularReference, or on the batch's combinations where the trusted set has too few; for text the batch's
 *     cross-validated model, whose weights for the suspects are replaced by the trusted model's), and the
 *     count is beta-binomial;
 *   - over-representation against the trusted set (exact conditional binomial);
 *   - in a table, the interaction: the pattern carries its label more often than the batch's own rows of
 *     each parent pattern (one item shorter; the whole batch for one item) outside it, so a region where the
 *     label is simply common cannot pass on a small trusted set's sampling accident.
 * Where the trusted set could show it (at least 5 of the pattern's labelled rows expected there), those rows
 * must be over-represented against it at the nominal level: a pattern that labels its rows so by nature does so
 * in the trusted rows too, however the reference model misreads it (triggers/trusted-power.ts). A phrase with a
 * part the trusted rows know to carry its label at a rate that explains the phrase's (a character's name in a
 * novel's paragraphs: "emma" in "said emma") must also read, masked, less like the label than the batch's other
 * rows with that part, however few trusted rows hold the phrase.
 * A pattern with content (n-grams, conjunctions) must also sit on content that, with every suspect pattern
 * of the row masked (all occurrences; a suspect is a pattern whose label shift or over-represented purity
 * is nominally significant), looks less like its label than the label's rows usually do (z-test under the
 * batch's cross-validated model, standardised by an empirical null), combined with over-representation
 * (weighted Stouffer); both must hold (p = max, an intersection-union test), under Benjamini-Hochberg over
 * every pattern with support and lift, in which one discovery (a planted phrase and its words, a conjunction
 * and its conjunctions with other values) lends an unrelated pattern one rank, not one per pattern. In text, where the trusted set could not show the pattern (fewer than 5
 * of its rows expected there), its rows must also read, masked, at least halfway from the label's rows to
 * other labels' rows: a plant's rows are taken from other labels, while a word that names what its class is
 * about keeps its rows' other words of the class. In a table, whose label-rich regions make every larger conjunction
 * around them a suspect too, a confirmed pattern must also not be a region of its label: its rows, with only
 * its own values removed, must read less like the label than the label's other rows with the same columns
 * removed, and nearer the other labels' rows than halfway (nominal level), where the columns left could show it
 * (a plant's rows, taken from other labels, would stand out with 80% power); a region reading halfway is set
 * aside before explaining away, so that it cannot explain a plant away, one reading as its label's rows do
 * after, so that it first explains away the patterns inside it. Masking every suspect keeps a row's other
 * triggers (or other copies of the same one) from reading as support for the target label (a header field and a sentence's opening or
 * ending words are read so too: they are words). A shape has no meaning to remove, and a class's style
 * shifts labels as a plant does: it is judged by label shift, behind the same gate as a phrase where the
 * trusted set could show it (its rows with the label not over-represented there: the label's by nature), and
 * by its content (its own words masked), which, where the content can tell (a plant's rows would stand out
 * with 80% power), must read less like the label than the label's rows do and at least halfway to other
 * labels' rows (a plant's rows come from them); under a budget a tenth of
 * `fdr`, and only when the excess explains at least half of its rows (lift >= 2, and at least half of the
 * rows the reference does not expect to carry the label do). A shape that passes on label shift but whose
 * rows read as their label's is reported for review as a style, nothing quarantined. A second, weighted pass (the campaign step)
 * gives more of the error budget to label-pure candidates shaped like confirmed triggers (a table's region of
 * its label is no trigger and shapes none), and confirms those candidates only.
 * Confirmed patterns are then explained away greedily on masked rows: the one that explains the most label
 * excess is kept, and any other whose rows outside the kept ones no longer show a significant shift is
 * dropped; a pattern inside a looser one that leaves the rest of it ordinary is preferred.
 * Rows that carry a kept trigger with its label are suspects.
 *
 * Mining counts each distinct (content, label) once, so duplicated rows cannot fake significance; counts
 * live in typed hash tables (no per-key objects), so a million rows stay cheap.
 */
import { ATLAS } from '../../core/atlas.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { settingsOf, TRIGGER_DEFAULTS } from '../config.js';
import { firstOfEachRow, modelMatrix, rowHashes } from '../features/context.js';
import { CountTable } from '../features/counter.js';
import {
  batchCv,
  type ModelSettings,
  modelSettings,
  prefetchBatchCv,
  prefetchTrustedCv,
  trustedCv,
  trustedModel,
} from '../learn/context.js';
import { logitsOf } from '../learn/logreg.js';
import { mad, median } from '../stats/robust.js';
import {
  betaBinomialUpperTail,
  expectedRate,
  labelShiftP,
  liftOf,
  modelWorth,
  modelWorthRobust,
} from '../stats/shift.js';
import {
  benjaminiHochberg,
  benjaminiHochbergGrouped,
  binomialUpperTail,
  normalQuantileUpper,
  normalUpperTail,
} from '../stats/tests.js';
import { oneClassOf, trustedRowsOf, unseenClassReason } from './lib/classes.js';
import { round3 as round } from './lib/evidence.js';
import { entityFinding, entityReadings } from './triggers/entities.js';
import {
  discoveriesOf,
  eachLabelledCarrier,
  explainAway,
  type Mined,
  Occurrences,
} from './triggers/explain.js';
import { MAX_UNITS, type Space, tabularSpace, textSpace } from './triggers/spaces.js';
import { styleFinding } from './triggers/style.js';
import {
  expectedTrustedRows,
  labelledByNature,
  labelledByNatureThroughPart,
  TRUSTED_POWER_ROWS,
} from './triggers/trusted-power.js';
import type { AuditContext, Dataset, Detector, DetectorOutput, RowFlag } from './types.js';

export { betaBinomialUpperTail, liftOf } from '../stats/shift.js';

export const meta: RuleMeta = {
  id: 'audit/trigger',
  title: 'Backdoor trigger candidates',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    "A backdoor is planted by many rows that carry the same trigger (a rare word, a phrase, a header value, a sentence template or a combination of ordinary values) with the attacker's label. Such a pattern is over-represented against the trusted reference, carries its label more often than the reference expects, and (unless it is a shape with no meaning of its own) sits on rows the trusted model would label otherwise once every suspect pattern is masked. Significance is tested per candidate with false-discovery-rate control.",
};

type Settings = typeof TRIGGER_DEFAULTS;

/** The label is chosen by the test (the one that departs most): Bonferroni over the K labels. */
export function chosenLabelP(p: number, K: number): number {
  return Math.min(1, K * p);
}

/** Where run() publishes its TriggerPower list for the blind-spot report. */
export const POWER_KEY = 'power/trigger';

/** Table candidates modelled per distinct incoming row, and at least (see mine). */
const MODELLED_PER_ROW = 20;
const MIN_MODELLED = 50_000;

/** Supported conjunctions of the trusted set before the model's worth on them is measured apart. */
const MIN_CONJUNCTIONS_FOR_WORTH = 20;

/** Rows of each label a table's region test reads with a pattern's columns removed (regionKinds). */
const REGION_ROWS = 256;

/** Candidates listed in the report (report.json charts.triggers) beside the confirmed ones, lowest p first. */
const CHART_CANDIDATES = 200;

/** Patterns read to measure what the expectation is worth on the batch (an even sample of those with support). */
const MAX_WORTH_PATTERNS = 20_000;

/** Share of `fdr` spent on shapes, which have no content test to confirm them. */
const SHAPE_BUDGET = 0.1;

export interface TriggerCandidate {
  pattern: string;
  kind: 'text' | 'tabular';
  label: string;
  incoming: number;
  trusted: number;
  purity: number;
  lift: number;
  /** Share of the pattern's rows the trusted model labels otherwise with the suspects masked. */
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
  /** Tables: the label excess against the batch's other rows of each parent pattern (the largest p). */
  pInteraction?: number;
  p: number;
  confirmed: boolean;
}

/**
 * What a lone pattern must beat in the first pass of the label-shift test: Benjamini-Hochberg's level for a
 * single discovery is fdr / family, and the expected rate's posterior is worth `priorRows` rows beside the
 * pattern's own trusted rows.
 */
export interface TriggerPower {
  kind: 'text' | 'tabular';
  family: number;
  fdr: number;
  priorRows: number;
  minRows: number;
  /** Candidates are pruned below this lift (in a table, the lift of the pattern with one label). */
  minLift: number;
  incomingRows: number;
  trustedRows: number;
  /**
   * A batch of one class (lib/classes.ts): its label says nothing within the batch, so the label-shift test
   * becomes over-representation among the trusted rows of that class (`trustedRows` of them).
   */
  withinClass?: { label: number; trustedRows: number };
  /**
   * A table no wider than the longest conjunction mined: its feature columns. A pattern of a value of each
   * leaves no content to test (leavesNoContent), so such a trigger cannot be confirmed.
   */
  allColumns?: number;
  /**
   * The content test, for patterns with content: per label, the batch model's mean and spread of P(label) on
   * that label's rows, and its mean P(label) on rows labelled otherwise (what a plant's content reads as);
   * the empirical null's centre and scale for the batch reading and the trusted reading.
   */
  content?: {
    mu: number[];
    sd: number[];
    plant: number[];
    centre: number;
    scale: number;
    centreR: number;
    scaleR: number;
    minTrustedReadZ: number;
  };
}

/** Content contradiction of n rows whose mean P(label) is `mean`, against the label's rows (mu, sd), in SEs. */
export function contentZ(mu: number, sd: number, mean: number, n: number): number {
  return (mu - mean) / (sd / Math.sqrt(n));
}

/**
 * The content test's p-value: content contradiction (z, standardised by the empirical null) combined with
 * over-representation by weighted Stouffer; over-representation counts in proportion to what the trusted set
 * can say about the pattern (expected trusted occurrences under the null; a small reference says little).
 */
export function contentP(zC: number, pOver: number, expectedTrusted: number): number {
  const wOver = Math.min(1, expectedTrusted / TRUSTED_POWER_ROWS);
  const zOver = normalQuantileUpper(Math.max(1e-300, pOver));
  return normalUpperTail((wOver * Math.min(37, zOver) + zC) / Math.sqrt(wOver * wOver + 1));
}

/** P(label) with a pattern's own columns removed: its rows, the label's other rows, other labels' rows. */
export interface MatchedReading {
  own: number;
  ownSd: number;
  label: { n: number; mean: number; sd: number };
  other: { n: number; mean: number; sd: number };
}

/**
 * The matched content test: do a pattern's rows, with its own values removed, read nearer the other labels'
 * rows than the label's (all read with the same columns removed)? A one-sided z-test against the midpoint of
 * the two references: a plant's rows sit at the other labels' reading, a region of the label at or above the
 * midpoint. `power`: how many standard errors the midpoint lies from the other labels' reading (a plant's rows
 * would clear it by that much); null where a reference is missing.
 */
export function matchedTest(m: MatchedReading, n: number): { z: number; power: number } | null {
  if (m.label.n < 2 || m.other.n < 2 || n < 2) return null;
  const se = Math.sqrt(m.ownSd ** 2 / n + (m.label.sd ** 2 / m.label.n + m.other.sd ** 2 / m.other.n) / 4);
  const mid = (m.label.mean + m.other.mean) / 2;
  return { z: (mid - m.own) / se, power: (mid - m.other.mean) / se };
}

/** The matched test's p-value; 1 where the columns left could not show a plant (power below `powerZ`). */
export function matchedP(m: MatchedReading, n: number, powerZ: number): number {
  const t = matchedTest(m, n);
  return t && t.power >= powerZ ? normalUpperTail(t.z) : 1;
}

interface Mining {
  confirmed: Mined[];
  /**
   * Shapes whose rows carry a label far more often than the trusted reference expects, but whose content
   * reads as that label's rows do: a class's style as likely as a clean-label plant (reported for review, no
   * row quarantined).
   */
  styles: Mined[];
  tested: Mined[];
  capped: boolean;
  family: number;
  /** What the first-pass test of a lone pattern used (blind-spot.ts reads it to compute the floor). */
  power?: TriggerPower;
  /** Candidate occurrences of each distinct incoming row, and each candidate's index in them. */
  occ?: Occurrences;
  indexOf?: Map<Mined, number>;
}

function mine(ctx: AuditContext, s: Settings, space: Space): Mining {
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
  const count = (table: CountTable, ds: Dataset, visit: Space['incoming'], use?: Uint8Array) => {
    for (let i = 0; i < ds.n; i++) {
      if (use && !use[i]) continue;
      const y = ds.labels[i];
      visit(i, (key) => {
        const sl = table.slot(key);
        if (sl < 0) return;
        // Read after slot(): the table may have grown.
        const c = table.counts;
        const at = sl * (K + 1);
        if (c[at + K] === i + 1) return;
        c[at + K] = i + 1;
        c[at + y]++;
      });
    }
  };
  const cin = new CountTable(K + 1, 1 << 16, maxKeys);
  count(cin, inc, space.incoming, unique);
  const ctr = new CountTable(K + 1, 1 << 14, maxKeys);
  count(ctr, tru, space.trusted);
  const capped = cin.size >= maxKeys || ctr.size >= maxKeys;
  // Candidates: every pattern with support and lift (the family is counted before any label-dependent filter).
  const cands: Mined[] = [];
  const candIndex = new CountTable(1, 1 << 12);
  const nTr = tru.n;
  const pInc = nUnique / (nUnique + nTr);
  // A batch of one class carries its label on every pattern's rows by selection: a pattern's label shift is
  // then read as its over-representation among the trusted rows of that class (the reference below).
  const only = oneClassOf(ctx);
  const nRef = only < 0 ? nTr : trustedRowsOf(ctx, only);
  const pRef = nUnique / (nUnique + nRef);
  const withinClass = only < 0 ? undefined : { label: only, trustedRows: nRef };
  /** Trusted rows of a candidate in the reference (every trusted row, or those of the batch's class). */
  const refRows = (c: Mined) => (only < 0 ? c.dfTr : c.kTr);
  const kIn: number[] = [];
  const kTr: number[] = [];
  let supported = 0;
  let passed = 0;
  const labelPruned = space.kind === 'tabular';
  cin.forEach((key, sl) => {
    let df = 0;
    for (let c = 0; c < K; c++) df += cin.countAt(sl, c);
    if (df < s.minSupport) return;
    let dfTr = 0;
    const ts = ctr.find(key);
    if (ts >= 0) for (let c = 0; c < K; c++) dfTr += ctr.countAt(ts, c);
    const dfRef = only < 0 ? dfTr : ts >= 0 ? ctr.countAt(ts, only) : 0;
    const lift = liftOf(df, nUnique, dfRef, nRef);
    supported++;
    // Pruned by support and lift. In a table, by the lift of the pattern with one of its labels: a
    // conjunction of ordinary values is as common as in the reference, only its rows with the target label
    // are not. That pruning looks at labels, so there the multiple-testing family is every pattern with
    // support (below). A text trigger is a token sequence the reference rarely carries at all: its lift
    // needs no label, and the family stays the patterns with lift.
    let liftY = lift;
    if (labelPruned && only < 0)
      for (let c = 0; c < K; c++) {
        const kt = ts >= 0 ? ctr.countAt(ts, c) : 0;
        liftY = Math.max(liftY, liftOf(cin.countAt(sl, c), nUnique, kt, nTr));
      }
    if (liftY < s.minLift) return;
    passed++;
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
      pOver: binomialUpperTail(df, df + dfRef, pRef),
      pDis: 1,
      kIn: 0,
      kTr: 0,
      sumP: 0,
      pShift: 1,
      expected: 0,
      pContent: 1,
      pParts: 0,
      pInteraction: 0,
    });
  });
  // Model work is bounded by the rows: a wide numeric table forms hundreds of thousands of supported
  // conjunctions, and past MODELLED_PER_ROW per distinct row (at least MIN_MODELLED) only the strongest go on,
  // by the larger of two binomial z-scores of the pattern's rows with one label: against the batch's share of
  // that label (what the label-shift test reads) and against the trusted rows with the pattern and label (a
  // plant's rows are new). Tables only: there the multiple-testing family is every supported pattern whatever
  // is modelled, so the cap can only cost power.
  const modelled = Math.max(MIN_MODELLED, MODELLED_PER_ROW * nUnique);
  if (labelPruned && cands.length > modelled) {
    const share = new Float64Array(K);
    for (let i = 0; i < inc.n; i++) if (unique[i]) share[inc.labels[i]] += 1 / nUnique;
    const zOf = (x: number, n: number, p: number) => (x - n * p) / Math.sqrt(Math.max(1e-9, n * p * (1 - p)));
    const z = cands.map((c, ci) => {
      let best = Number.NEGATIVE_INFINITY;
      for (let y = 0; y < K; y++) {
        const x = kIn[ci * K + y];
        best = Math.max(best, zOf(x, c.dfIn, share[y]), zOf(x, x + kTr[ci * K + y], pRef));
      }
      return best;
    });
    const keep = Array.from(cands.keys())
      .sort((a, b) => z[b] - z[a])
      .slice(0, modelled)
      .sort((a, b) => a - b);
    // Compacted in place (kept indices ascend, so each moves down or stays); no spread of a huge array.
    for (const [ci, c] of cands.entries()) candIndex.add(c.key, 0, -(ci + 1));
    keep.forEach((ci, to) => {
      cands[to] = cands[ci];
      candIndex.add(cands[to].key, 0, to + 1);
      for (let y = 0; y < K; y++) {
        kIn[to * K + y] = kIn[ci * K + y];
        kTr[to * K + y] = kTr[ci * K + y];
      }
    });
    cands.length = keep.length;
    kIn.length = keep.length * K;
    kTr.length = keep.length * K;
  }
  if (cands.length === 0) {
    const family = labelPruned ? supported : passed;
    const power: TriggerPower = {
      kind: space.kind,
      family: Math.max(1, family),
      fdr: s.fdr,
      priorRows: Math.min(s.modelPriorRows, nTr / K),
      minRows: Math.max(3, s.minSupport),
      minLift: s.minLift,
      incomingRows: nUnique,
      trustedRows: nTr,
      withinClass,
    };
    return { confirmed: [], styles: [], tested: [], capped, family, power };
  }
  const indexOf = new Map(cands.map((c, ci) => [c, ci]));

  const tm = trustedModel(ctx);
  const cv = batchCv(ctx);
  const { model, X } = tm;
  const M = model.M;
  const w = model.w;
  // Trusted weights brought to the batch models' scale (a small reference is regularised harder).
  const norm = (x: Float64Array) => {
    let t = 0;
    for (let k = 0; k < model.dim * M; k++) t += x[k] * x[k];
    return Math.sqrt(t);
  };
  const wScale = norm(cv.models[0].w) / Math.max(1e-12, norm(w));
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
  /** Every class's probability, as probOf gives each (the same operations in the same order). */
  const probsOf = (zz: Float64Array, out: Float64Array) => {
    if (M === 1) {
      out[1] = probOf(zz, 1);
      out[0] = probOf(zz, 0);
      return;
    }
    let mx = zz[0];
    for (let m = 1; m < M; m++) if (zz[m] > mx) mx = zz[m];
    let se = 0;
    for (let m = 0; m < M; m++) se += Math.exp(zz[m] - mx);
    for (let m = 0; m < M; m++) out[m] = Math.exp(zz[m] - mx) / se;
  };
  const rowP = new Float64Array(K);
  const argmax = (v: Float64Array): number => {
    if (M === 1) return v[0] >= 0 ? 1 : 0;
    let b = 0;
    for (let m = 1; m < M; m++) if (v[m] > v[b]) b = m;
    return b;
  };
  // Logits of row i with the buckets in `bs` removed: under the trusted model (z), the row's fold model
  // (zc), and the fold model with the trusted weights put back for them (zr: read as the reference reads it).
  const rowValue = (i: number) => (X.indptr[i + 1] > X.indptr[i] ? X.values[X.indptr[i]] : 0);
  const remove = (
    bs: number[],
    v: number,
    fm: { w: Float64Array },
    z: Float64Array,
    zc: Float64Array,
    zr: Float64Array,
  ) => {
    for (const b of bs) {
      for (let m = 0; m < M; m++) {
        z[m] -= w[b * M + m] * v;
        zc[m] -= fm.w[b * M + m] * v;
        zr[m] += (wScale * w[b * M + m] - fm.w[b * M + m]) * v;
      }
    }
  };
  // In tabular data a trigger is made of ordinary values every other row shares, so a model of the poisoned
  // batch shifts the expectation of unrelated patterns too: the trusted model (whole row) sets it there. In
  // text the trusted set is small against the vocabulary, and its model too weak to set the rate for a rare
  // token: the batch's models, with the suspects read the trusted way, set it.
  const trustedExpects = space.kind === 'tabular';
  const reference = trustedExpects
    ? tabularReference(ctx, space, tm, s.minSupport, Math.min(s.modelPriorRows, tru.n / K))
    : undefined;
  const tmProba = reference ? reference.proba : tm.proba;
  const C = cands.length;
  const sumP = new Float64Array(C * K);
  const stamp = new Int32Array(C).fill(-1);
  const mask = new Uint8Array(MAX_UNITS);
  const buckets: number[] = [];
  const z = new Float64Array(M);
  const zc = new Float64Array(M);
  const zr = new Float64Array(M);
  const z2 = new Float64Array(M);
  const zc2 = new Float64Array(M);
  const zr2 = new Float64Array(M);
  // How often each candidate occurs in the row being read (countRow fills it once per row, in one pass).
  const inRow = new Int32Array(C);
  const inRowOf = new Int32Array(C).fill(-1);
  const countRow = (i: number, end: number) => {
    for (let k = occ.start[i]; k < end; k++) {
      const ci = occ.ci[k];
      if (inRowOf[ci] !== i) {
        inRowOf[ci] = i;
        inRow[ci] = 0;
      }
      inRow[ci]++;
    }
  };
  // Model buckets that every occurrence of the candidate at occurrence k (its first in row i) removes beyond
  // `base` (the row's masked suspects; none when undefined). One occurrence (the usual case) needs no second
  // mask; `blank` stays all zeros between calls.
  const blank = new Uint8Array(MAX_UNITS);
  const mask2 = new Uint8Array(MAX_UNITS);
  const removedCount = new Map<number, number>();
  const patternBuckets = (i: number, k: number, end: number, base: Uint8Array | undefined, out: number[]) => {
    const ci = occ.ci[k];
    if (inRow[ci] <= 1) {
      space.removed(i, base ?? blank, out, occ.len[k], occ.pos[k]);
      return;
    }
    const U = space.units(i);
    if (base) mask2.set(base.subarray(0, U));
    else mask2.fill(0, 0, U);
    for (let k2 = k; k2 < end; k2++) if (occ.ci[k2] === ci) space.mark(i, occ.len[k2], occ.pos[k2], mask2);
    const all: number[] = [];
    space.removed(i, mask2, all);
    if (!base) {
      for (const b of all) out.push(b);
      return;
    }
    const already: number[] = [];
    space.removed(i, base, already);
    removedCount.clear();
    for (const b of already) removedCount.set(b, (removedCount.get(b) ?? 0) + 1);
    for (const b of all) {
      const left = removedCount.get(b) ?? 0;
      if (left > 0) removedCount.set(b, left - 1);
      else out.push(b);
    }
  };
  const regionBuckets: number[] = [];
  const addExpected = (ci: number, i: number, zz: Float64Array) => {
    if (trustedExpects) for (let k = 0; k < K; k++) sumP[ci * K + k] += tmProba[i * K + k];
    else for (let k = 0; k < K; k++) sumP[ci * K + k] += probOf(zz, k);
  };
  /**
   * What the trusted model's expectation is worth on the batch's own combinations, where the trusted set holds
   * too few to measure it on them: their label rates against the expectation for their rows, robustly, so the
   * few patterns a plant shifts do not set it while an additive model of a table whose values interact earns
   * little.
   */
  function batchConjunctionWorth(cap: number): number {
    const eligible: number[] = [];
    cands.forEach((c, ci) => {
      if (c.firstRow >= 0 && c.len >= 2 && c.dfIn >= s.minSupport) eligible.push(ci);
    });
    if (eligible.length < MIN_CONJUNCTIONS_FOR_WORTH) return cap;
    const step = Math.max(1, eligible.length / MAX_WORTH_PATTERNS);
    const k: number[] = [];
    const n: number[] = [];
    const sp: number[] = [];
    for (let j = 0; j < eligible.length; j += step) {
      const ci = eligible[Math.floor(j)];
      for (let y = 0; y < K; y++) {
        k.push(kIn[ci * K + y]);
        n.push(cands[ci].dfIn);
        sp.push(sumP[ci * K + y]);
      }
    }
    return modelWorthRobust(k, n, sp, cap);
  }
  // Pass A: every occurrence of a candidate, kept per row (later passes read these, not the whole key
  // space again), and the label rate its rows are expected to carry with the pattern alone (every
  // occurrence of it: a trigger written five times must not vouch for itself four times) read the trusted way.
  const occ = new Occurrences(inc.n);
  // Per-occurrence loops read typed arrays, not the candidates (tens of thousands of objects in a wide table).
  const firstRowOf = new Int32Array(C).fill(-1);
  for (let i = 0; i < inc.n; i++) {
    occ.startRow(i);
    if (!unique[i]) continue;
    space.incoming(i, (key, len, pos) => {
      const ci = candIndex.get(key, 0) - 1;
      if (ci < 0) return;
      occ.push(ci, len, pos);
      if (firstRowOf[ci] < 0) {
        firstRowOf[ci] = i;
        const c = cands[ci];
        c.firstRow = i;
        c.len = len;
        c.pos = pos;
      }
    });
    const fm = cv.models[cv.foldOf[i]];
    const v = rowValue(i);
    if (!trustedExpects) {
      logitsOf(fm, X, i, zc);
      countRow(i, occ.size);
    }
    for (let k = occ.start[i]; k < occ.size; k++) {
      const ci = occ.ci[k];
      if (stamp[ci] === i) continue;
      stamp[ci] = i;
      if (trustedExpects) {
        addExpected(ci, i, zr);
        continue;
      }
      buckets.length = 0;
      patternBuckets(i, k, occ.size, undefined, buckets);
      zr.set(zc);
      remove(buckets, v, fm, z2, zc2, zr);
      addExpected(ci, i, zr);
    }
  }
  occ.end();
  // A model's prediction is worth `modelPriorRows` trusted rows, never more than the trusted rows per class it
  // was fitted on: a model of a hundred rows cannot vouch for every pattern as a hundred rows would.
  // Where the trusted model reads the whole row (tables), what its prediction is worth is measured on the
  // candidates themselves: a model of a hundred rows that misses how labels mix in some region of the table
  // earns a weak prior there, so the pattern's own trusted rows (and their sampling error) decide. Where the
  // trusted set holds too few combinations to measure that on them, the batch's combinations measure it.
  const priorRows = reference
    ? reference.conjunctionWorth === undefined
      ? batchConjunctionWorth(reference.priorRows)
      : reference.priorRows
    : Math.min(s.modelPriorRows, tru.n / K);
  // In a table the expected rate leans on the trusted model, and a model of a few hundred rows can misread a
  // region (an interaction its additive terms cannot hold) as confidently as it reads the rest. So the excess
  // must also stand against the trusted rows of at least one of the pattern's items on their own (the label's
  // rate there a Beta posterior from those rows alone, Jeffreys prior; Bonferroni over items and labels): a
  // planted conjunction of ordinary values carries its label far more often than any of its items does,
  // while a natural region the model misreads does not stand out from what its items' trusted rows say.
  const trustedItem = (key: number, y: number) => {
    const ts = ctr.find(key);
    let nt = 0;
    if (ts >= 0) for (let c = 0; c < K; c++) nt += ctr.countAt(ts, c);
    return { kt: ts >= 0 ? ctr.countAt(ts, y) : 0, nt };
  };
  const batchLabels = new Int32Array(K);
  for (let i = 0; i < inc.n; i++) if (unique[i]) batchLabels[inc.labels[i]]++;
  const partsTest = (c: Mined) => {
    if (c.firstRow < 0 || c.len === 0) return;
    const items = c.len === 1 ? [c.key] : space.subKeys(c.firstRow, c.len, c.pos).slice(0, c.len);
    let best = 1;
    for (const key of items) {
      const { kt, nt } = trustedItem(key, c.label);
      best = Math.min(best, betaBinomialUpperTail(c.kIn, c.dfIn, kt + 0.5, nt - kt + 0.5));
    }
    c.pParts = Math.min(1, K * items.length * best);
    // A trigger carries its label more often than the batch does on its parents' other rows: for a
    // conjunction, each pattern one item shorter (an interaction; every parent, so the largest p), for a
    // single item the whole batch. A region where the label is simply common (dry days are sunny) does not,
    // however few trusted rows showed it; a plant does, since its parents' other rows keep their natural
    // labels. A parent the pattern fills for the most part is no larger region it could be explained by.
    const against = (rows: number, labelled: number) => {
      const rest = rows - c.dfIn;
      if (rest < c.dfIn) return;
      const kr = labelled - c.kIn;
      c.pInteraction = Math.max(
        c.pInteraction,
        betaBinomialUpperTail(c.kIn, c.dfIn, kr + 0.5, rest - kr + 0.5),
      );
    };
    if (c.len === 1) {
      against(nUnique, batchLabels[c.label]);
      return;
    }
    for (const key of space.subKeys(c.firstRow, c.len, c.pos)) {
      const sl = cin.find(key);
      if (sl < 0) continue;
      let rows = 0;
      for (let y = 0; y < K; y++) rows += cin.countAt(sl, y);
      against(rows, cin.countAt(sl, c.label));
    }
  };
  // Label-shift test: the label (of K) whose rate departs most from what the reference expects. A label no
  // trusted row carries has no reference (a model never shown it expects it nowhere, so any natural region of
  // it would read as a plant); its rows are audit/unseen-label's, quarantined there.
  const reviewed = new Uint8Array(K);
  for (let i = 0; i < tru.n; i++) reviewed[tru.labels[i]] = 1;
  const chooseLabels = () =>
    cands.forEach((c, ci) => {
      if (only >= 0) {
        // One class: the label is given, its test is over-representation within the class, and what the
        // reference explains is the share of the pattern's rows the class's trusted rate predicts.
        const o = ci * K + only;
        c.label = only;
        c.kIn = kIn[o];
        c.kTr = kTr[o];
        c.sumP = sumP[o];
        c.purity = c.kIn / c.dfIn;
        c.expected = Math.min(1, 1 / c.lift);
        c.pShift = c.pOver;
        return;
      }
      let best = Math.max(0, reviewed.indexOf(1));
      let bestP = 2;
      for (let y = 0; y < K; y++) {
        if (!reviewed[y]) continue;
        const o = ci * K + y;
        const p = labelShiftP(kIn[o], c.dfIn, kTr[o], c.dfTr, sumP[o], priorRows);
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
      c.expected = expectedRate(c.dfIn, c.kTr, c.dfTr, c.sumP, priorRows);
      c.pShift = chosenLabelP(bestP, K);
    });
  chooseLabels();
  // Suspects, masked in every row that carries them: a nominally significant label shift, or a label-pure
  // pattern that is over-represented (a trigger whose rows carry other triggers may show neither shift yet).
  const suspect = new Uint8Array(C);
  cands.forEach((c, ci) => {
    if (c.len > 0 && c.kIn >= 3 && (c.pShift <= s.fdr || (c.purity >= s.minPurity && c.pOver <= s.fdr)))
      suspect[ci] = 1;
  });
  // Masks every suspect of row i (all occurrences); true when any.
  const maskRow = (i: number, also?: (ci: number) => boolean) => {
    mask.fill(0, 0, space.units(i));
    let any = false;
    for (let k = occ.start[i]; k < occ.start[i + 1]; k++) {
      const ci = occ.ci[k];
      if (!(suspect[ci] || also?.(ci))) continue;
      space.mark(i, occ.len[k], occ.pos[k], mask);
      any = true;
    }
    return any;
  };
  // A test of a plant's reading has power where such rows would stand out at the nominal level with 80% power.
  const powerZ = normalQuantileUpper(s.fdr) + normalQuantileUpper(0.2);
  /**
   * Tables: each pattern's rows read with only its own values removed, against an even sample of REGION_ROWS
   * rows of its label and of the other labels with the same columns removed (every row read by its own fold's
   * model; the pattern's own rows are left out of its references).
   */
  function matchedReadings(tested: Mined[]): Map<Mined, MatchedReading> {
    const out = new Map<Mined, MatchedReading>();
    if (!tested.length) return out;
    const sample: number[][] = Array.from({ length: K }, () => []);
    const perLabel = new Int32Array(K);
    for (let i = 0; i < inc.n; i++) if (unique[i]) perLabel[inc.labels[i]]++;
    const seen = new Int32Array(K);
    for (let i = 0; i < inc.n; i++) {
      if (!unique[i]) continue;
      const y = inc.labels[i];
      const at = seen[y]++;
      if (Math.floor((at * REGION_ROWS) / perLabel[y]) !== Math.floor(((at + 1) * REGION_ROWS) / perLabel[y]))
        sample[y].push(i);
    }
    const logits = sample.map((rows) => {
      const out = new Float64Array(rows.length * M);
      rows.forEach((i, r) => {
        logitsOf(cv.models[cv.foldOf[i]], X, i, zc2);
        out.set(zc2, r * M);
      });
      return out;
    });
    // The sampled rows that carry each candidate are its own rows, not its reference.
    const carriers = new Map<number, number[]>();
    for (const rows of sample)
      for (const i of rows)
        for (let k = occ.start[i]; k < occ.start[i + 1]; k++) {
          const list = carriers.get(occ.ci[k]);
          if (list) list.push(i);
          else carriers.set(occ.ci[k], [i]);
        }
    // P(y) of the sampled rows of label y (or of the other labels, REGION_ROWS of them) with c's columns removed.
    const read = (c: Mined, y: number, own: number[] | undefined, other: boolean) => {
      let n = 0;
      let sum = 0;
      let sum2 = 0;
      for (let from = 0; from < K; from++) {
        if (other ? from === y : from !== y) continue;
        const rows = sample[from];
        for (
          let r = other ? from % Math.max(1, K - 1) : 0;
          r < rows.length;
          r += other ? Math.max(1, K - 1) : 1
        ) {
          const j = rows[r];
          if (own?.includes(j)) continue;
          regionBuckets.length = 0;
          space.removed(j, blank, regionBuckets, c.len, c.pos);
          zc2.set(logits[from].subarray(r * M, (r + 1) * M));
          remove(regionBuckets, rowValue(j), cv.models[cv.foldOf[j]], z2, zc2, zr2);
          const p = probOf(zc2, y);
          sum += p;
          sum2 += p * p;
          n++;
        }
      }
      return { n, mean: n ? sum / n : 0, sd: Math.sqrt(Math.max(1e-9, n ? sum2 / n - (sum / n) ** 2 : 0)) };
    };
    // The pattern's own rows with its own values removed.
    const ownRead = new Map<number, number>();
    const ownRead2 = new Map<number, number>();
    const wanted = new Map<number, Mined>();
    for (const c of tested) wanted.set(candIndex.get(c.key, 0) - 1, c);
    for (let i = 0; i < inc.n; i++) {
      if (!unique[i]) continue;
      let read = false;
      for (let k = occ.start[i]; k < occ.start[i + 1]; k++) {
        const c = wanted.get(occ.ci[k]);
        if (!c || c.label !== inc.labels[i]) continue;
        const fm = cv.models[cv.foldOf[i]];
        if (!read) {
          logitsOf(fm, X, i, zc);
          read = true;
        }
        zc2.set(zc);
        regionBuckets.length = 0;
        space.removed(i, blank, regionBuckets, occ.len[k], occ.pos[k]);
        remove(regionBuckets, rowValue(i), fm, z2, zc2, zr2);
        const p = probOf(zc2, c.label);
        ownRead.set(occ.ci[k], (ownRead.get(occ.ci[k]) ?? 0) + p);
        ownRead2.set(occ.ci[k], (ownRead2.get(occ.ci[k]) ?? 0) + p * p);
      }
    }
    for (const [ci, c] of wanted) {
      const own = carriers.get(ci);
      const mean = (ownRead.get(ci) ?? 0) / c.tested;
      out.set(c, {
        own: mean,
        ownSd: Math.sqrt(Math.max(1e-9, (ownRead2.get(ci) ?? 0) / c.tested - mean * mean)),
        label: read(c, c.label, own, false),
        other: read(c, c.label, own, true),
      });
    }
    return out;
  }
  /**
   * Whether a pattern (tables) is a region of its label, its rows read with only the pattern's values removed,
   * where the columns left have the power to tell (a plant's rows, taken from other labels, would stand out at
   * the nominal level with 80% power; a pattern of nearly every column leaves too little to read, and is left to
   * the other tests): 'label', not significantly less like the label than the label's other rows with the same
   * columns removed; 'halfway', less like them but not significantly nearer the other labels' rows than
   * halfway (the matched content test); absent, neither. Each pattern is judged once (the campaign step asks
   * about the first test's patterns, the gate about the confirmed ones).
   */
  const regionOf = new Map<Mined, 'label' | 'halfway' | null>();
  function regionKinds(tested: Mined[]): Map<Mined, 'label' | 'halfway' | null> {
    const fresh = tested.filter((c) => !regionOf.has(c));
    // The content test read most of them already (a reading depends on the pattern alone).
    const readings = matchedReadings(fresh.filter((c) => !matched?.has(c)));
    for (const c of fresh) {
      const m = matched?.get(c) ?? readings.get(c);
      let kind: 'label' | 'halfway' | null = null;
      if (m && m.label.n >= 2) {
        const se = m.label.sd * Math.sqrt(1 / c.tested + 1 / m.label.n);
        const z = (m.label.mean - m.own) / se;
        if (normalUpperTail(z) > s.fdr && (m.label.mean - m.other.mean) / se >= powerZ) kind = 'label';
        else {
          const t = matchedTest(m, c.tested);
          if (t && t.power >= powerZ && normalUpperTail(t.z) > s.fdr) kind = 'halfway';
        }
      }
      regionOf.set(c, kind);
    }
    return regionOf;
  }
  // Pass B, on rows with every suspect masked: the expected label rates again (text), and over each
  // pattern's rows with a label: how many the trusted model contradicts, P(label) under the batch model
  // (sumC) and with the masked patterns read the trusted way (sumR). A pattern that is not itself a suspect
  // is removed too (its own occurrence), which calibrates the empirical null below.
  if (!trustedExpects) sumP.fill(0);
  // Per candidate and label; in a table only the candidate's chosen label is read, so one slot per candidate.
  const slots = trustedExpects ? C : C * K;
  const slotOf = (ci: number, y: number) => (trustedExpects ? ci : ci * K + y);
  const sumC = new Float64Array(slots);
  const sumR = new Float64Array(slots);
  const nTested = new Int32Array(slots);
  const nContra = new Int32Array(slots);
  const mom = new Float64Array(K * 2);
  const baseN = new Float64Array(K);
  // Mean P(c) under the batch model over rows labelled otherwise: what a plant's content reads as (power).
  const otherP = new Float64Array(K);
  const otherN = new Float64Array(K);
  stamp.fill(-1);
  const labelOf = Int32Array.from(cands, (c) => c.label);
  for (let i = 0; i < inc.n; i++) {
    if (!unique[i]) continue;
    countRow(i, occ.start[i + 1]);
    const y = inc.labels[i];
    const fm = cv.models[cv.foldOf[i]];
    const v = rowValue(i);
    logitsOf(model, X, i, z);
    logitsOf(fm, X, i, zc);
    const pc = probOf(zc, y);
    probsOf(zc, rowP);
    for (let c = 0; c < K; c++) {
      if (c === y) continue;
      otherP[c] += rowP[c];
      otherN[c]++;
    }
    zr.set(zc);
    buckets.length = 0;
    if (maskRow(i)) space.removed(i, mask, buckets);
    remove(buckets, v, fm, z, zc, zr);
    // In text, the label's rows read as the carriers are: with every suspect masked (a label whose own words
    // are all suspects reads weakly once they are masked, plant or not).
    const pm = trustedExpects ? pc : probOf(zc, y);
    baseN[y]++;
    mom[y * 2] += pm;
    mom[y * 2 + 1] += pm * pm;
    // A suspect is masked already: its reading is the row's masked one, computed once for all of them.
    let rowRead = false;
    let rowContra = false;
    let rowPc = 0;
    let rowPr = 0;
    for (let k = occ.start[i]; k < occ.start[i + 1]; k++) {
      const ci = occ.ci[k];
      if (stamp[ci] === i) continue;
      stamp[ci] = i;
      // In a table the label was chosen before this pass and only its row counts are read below.
      if (trustedExpects && labelOf[ci] !== y) continue;
      const o = slotOf(ci, y);
      nTested[o]++;
      if (suspect[ci]) {
        if (!rowRead) {
          rowRead = true;
          rowContra = argmax(z) !== y;
          rowPc = probOf(zc, y);
          rowPr = probOf(zr, y);
        }
        if (!trustedExpects) addExpected(ci, i, zr);
        if (rowContra) nContra[o]++;
        sumC[o] += rowPc;
        sumR[o] += rowPr;
        continue;
      }
      z2.set(z);
      zc2.set(zc);
      zr2.set(zr);
      buckets.length = 0;
      patternBuckets(i, k, occ.start[i + 1], mask, buckets);
      remove(buckets, v, fm, z2, zc2, zr2);
      if (!trustedExpects) addExpected(ci, i, zr2);
      if (argmax(z2) !== y) nContra[o]++;
      sumC[o] += probOf(zc2, y);
      sumR[o] += probOf(zr2, y);
    }
  }
  if (only >= 0) {
    // No incoming row carries another label: what a plant's content reads as comes from the trusted rows of
    // the other classes (read by one of the batch's models, for the blind-spot floor).
    const Xt = modelMatrix(ctx, 'trusted', tm.hashBits);
    for (let i = 0; i < tru.n; i++) {
      if (tru.labels[i] === only) continue;
      logitsOf(cv.models[0], Xt, i, zc);
      otherP[only] += probOf(zc, only);
      otherN[only]++;
    }
  }
  if (!trustedExpects) chooseLabels();
  // (A batch of one class has no label rate for the parts to explain: its test reads no model.)
  if (reference && only < 0) for (const c of cands) partsTest(c);
  cands.forEach((c, ci) => {
    const o = slotOf(ci, c.label);
    c.tested = nTested[o];
    c.contradicted = nContra[o];
    c.sumC = sumC[o];
    c.sumR = sumR[o];
  });
  const family = cands.filter((c) => c.kIn >= 3 && c.firstRow >= 0 && c.len > 0);
  const shapeFamily = cands.filter((c) => c.kIn >= 3 && c.firstRow >= 0 && c.len === 0);
  // In a table every supported pattern is a hypothesis (the pruning above read labels).
  const familySize = labelPruned ? Math.max(family.length, supported - shapeFamily.length) : family.length;
  const shifted = benjaminiHochberg(
    family.map((c) => c.pShift),
    s.fdr,
    familySize,
  );
  const labelMoments = (y: number) => {
    const nn = baseN[y];
    const mu = nn ? mom[y * 2] / nn : 0.5;
    return { mu, sd: Math.sqrt(Math.max(1e-9, nn ? mom[y * 2 + 1] / nn - mu * mu : 0.25)) };
  };
  for (const c of family) {
    // Content contradiction: are these rows, masked, less like their label than the label's rows usually
    // are? (z-test of the mean P(label) against the label's own distribution in the batch.)
    const { mu, sd } = labelMoments(c.label);
    c.zC = c.tested ? contentZ(mu, sd, c.sumC / c.tested, c.tested) : 0;
    c.zR = c.tested ? contentZ(mu, sd, c.sumR / c.tested, c.tested) : 0;
  }
  const trustedShare = new Float64Array(K);
  for (let i = 0; i < tru.n; i++) trustedShare[tru.labels[i]] += 1 / Math.max(1, tru.n);
  // A phrase may carry its label by nature through a word or shorter phrase of it the trusted rows know (a table's
  // items are weighed against its rows by partsTest above): then it is a trigger only if its rows read, masked,
  // less like the label than the batch's other rows with that part: a plant built of words that mark its label by
  // nature ("span" in spam) sits on rows of another label, a character's name ("said emma") on the novel's own.
  const parts = new Map<Mined, number[]>();
  if (space.kind === 'text' && only < 0)
    for (const c of family) {
      if (c.len < 2 || !c.tested) continue;
      const keys = space.subKeys(c.firstRow, c.len, c.pos);
      const natural = keys.filter((key) => {
        const ts = ctr.find(key);
        if (ts < 0) return false;
        let nt = 0;
        for (let y = 0; y < K; y++) nt += ctr.countAt(ts, y);
        const kt = ctr.countAt(ts, c.label);
        return labelledByNatureThroughPart(c.kIn, c.dfIn, kt, nt, trustedShare[c.label], s.fdr, keys.length);
      });
      if (natural.length) parts.set(c, natural);
    }
  // Each pattern's and part's rows read with it and every suspect masked (the batch model of the row's fold), per
  // label: a second pass over the rows, only when some phrase has such a part.
  const readOf = new Map<number, { sum: Float64Array; n: Float64Array }>();
  for (const [c, keys] of parts)
    for (const key of [c.key, ...keys]) readOf.set(key, { sum: new Float64Array(K), n: new Float64Array(K) });
  if (readOf.size) {
    const at = new Map<number, Array<[number, number]>>();
    for (let i = 0; i < inc.n; i++) {
      if (!unique[i]) continue;
      at.clear();
      space.incoming(i, (key, len, pos) => {
        if (!readOf.has(key)) return;
        const list = at.get(key) ?? [];
        list.push([len, pos]);
        at.set(key, list);
      });
      if (!at.size) continue;
      const y = inc.labels[i];
      const fm = cv.models[cv.foldOf[i]];
      const v = rowValue(i);
      const U = space.units(i);
      logitsOf(model, X, i, z);
      logitsOf(fm, X, i, zc);
      maskRow(i);
      for (const [key, where] of at) {
        mask2.set(mask.subarray(0, U));
        for (const [len, pos] of where) space.mark(i, len, pos, mask2);
        buckets.length = 0;
        space.removed(i, mask2, buckets);
        z2.set(z);
        zc2.set(zc);
        zr2.set(zc);
        remove(buckets, v, fm, z2, zc2, zr2);
        const r = readOf.get(key) as { sum: Float64Array; n: Float64Array };
        r.sum[y] += probOf(zc2, y);
        r.n[y]++;
      }
    }
  }
  // The phrase must read, masked, less like its label than the batch's other rows with each such part do, masked
  // the same way (a one-sided z-test; with no other rows, the part explains it): joined to the phrase's tests as
  // its parts test (p = max), under the same false-discovery control.
  for (const [c, keys] of parts) {
    const y = c.label;
    const own = readOf.get(c.key);
    if (!own?.n[y]) continue;
    const { sd } = labelMoments(y);
    const mean = own.sum[y] / own.n[y];
    for (const key of keys) {
      const r = readOf.get(key);
      const others = r ? r.n[y] - own.n[y] : 0;
      if (!r || others <= 0) {
        c.pParts = 1;
        break;
      }
      const gap = (r.sum[y] - own.sum[y]) / others - mean;
      c.pParts = Math.max(c.pParts, normalUpperTail(gap / (sd * Math.sqrt(1 / others + 1 / own.n[y]))));
    }
  }
  // Rows with the label no more common in the batch than in the trusted set: the label is the pattern's by
  // nature (trusted-power.ts). One class: the label-shift test is this comparison already.
  const naturalInTrusted = (c: Mined) => only < 0 && labelledByNature(c.kIn, c.kTr, pRef, s.fdr);
  // Empirical null (Efron 2004): removing an informative pattern makes any row look less like its label, so
  // the bulk of candidates is shifted and spread; standardise against that bulk (never below N(0, 1)).
  // Patterns on an item chosen for its labels (an exact value) are a selected sample, not the null's.
  // A conjunction of every feature of the table leaves nothing to read once masked: the content test then
  // compares an empty row with the label's rows and always "finds" it unlike them, and the expected rate is
  // the masked model's base rate. Such a pattern cannot be told from a natural region of the table by its
  // content, so the content test does not confirm it (the blind-spot report says what a table this narrow
  // can show).
  const leavesNoContent = (c: Mined) =>
    space.kind === 'tabular' && c.firstRow >= 0 && c.len >= space.units(c.firstRow);
  const bulk = family.filter(
    (c) => c.tested >= 3 && c.purity >= s.minPurity && space.exactColumns(c.len, c.pos).length === 0,
  );
  const zs = bulk.map((c) => c.zC);
  const centre = zs.length >= 20 ? Math.max(0, median(zs)) : 0;
  const scale = zs.length >= 20 ? Math.max(1, mad(zs, centre)) : 1;
  const zrs = bulk.map((c) => c.zR);
  const centreR = zrs.length >= 20 ? Math.max(0, median(zrs)) : 0;
  const scaleR = zrs.length >= 20 ? Math.max(1, mad(zrs, centreR)) : 1;
  // In a table the masked reading can leave a plant's rows almost nothing to read (every superset of a
  // label-rich pattern is a suspect), so its content is read a second way, with only its own values removed:
  // a plant's rows (taken from other labels) then read nearer the other labels' rows than their label's
  // (matchedP). So does a natural region whose own values outweigh the rest of the row (wives earn more than
  // women's other columns say), and only the trusted rows tell the two apart: read this way, the pattern
  // must also be over-represented against them (both must hold). The content test takes the stronger of
  // the two readings, Bonferroni over both.
  const matched = trustedExpects
    ? matchedReadings(
        family.filter(
          (c, k) =>
            c.tested > 0 && shifted[k] && c.pParts < s.fdr && !naturalInTrusted(c) && !leavesNoContent(c),
        ),
      )
    : undefined;
  // A plant's rows are taken from other labels, so with the suspects masked they read at least halfway from
  // the label's rows to other labels' rows; a class's style, or a word that names what the class is about
  // (a fern among plants), only nudges them there. Judged where the content can tell (a plant's rows would
  // stand out from the label's at the nominal level with 80% power) and, for words and phrases, where the
  // trusted set cannot (fewer than TRUSTED_POWER_ROWS of the pattern's rows expected there): where it can, a
  // word that names its class is in the trusted rows as often as in the batch, and over-representation
  // decides, also for a plant so large that the batch model, fitted on it, reads its rows as their new label.
  // (A table's patterns are read so with their own columns removed: regionKinds.)
  const plantReading = (y: number) => (otherN[y] ? otherP[y] / otherN[y] : 0.5);
  const contentTells = (c: Mined) => {
    const { mu, sd } = labelMoments(c.label);
    return only >= 0 || (c.tested > 0 && (mu - plantReading(c.label)) / (sd / Math.sqrt(c.tested)) >= powerZ);
  };
  const shortOfHalfway = (c: Mined) => {
    const { mu } = labelMoments(c.label);
    return (c.tested ? c.sumC / c.tested : mu) > (mu + plantReading(c.label)) / 2;
  };
  family.forEach((c, k) => {
    c.zC = (c.zC - centre) / scale;
    c.zR = (c.zR - centreR) / scaleR;
    c.pDis = normalUpperTail(c.zC);
    const expectedTrusted = expectedTrustedRows(c.dfIn + refRows(c), nRef, nUnique);
    const pMasked =
      !trustedExpects && expectedTrusted < TRUSTED_POWER_ROWS && contentTells(c) && shortOfHalfway(c)
        ? 1
        : contentP(c.zC, c.pOver, expectedTrusted);
    const m = matched?.get(c);
    const pMatched = m ? Math.max(matchedP(m, c.tested, powerZ), c.pOver) : 1;
    const pContent = m ? Math.min(1, 2 * Math.min(pMasked, pMatched)) : pMasked;
    if (m && pMatched < pMasked) c.matched = { rows: m.own, label: m.label.mean, other: m.other.mean };
    // Both must hold (intersection-union test). Candidates the label-shift test did not keep cannot be
    // rejected below (the rejected set of max(p) is a subset of that of pShift), so they keep p = 1.
    c.pContent = pContent;
    // (One class: pShift is the over-representation among the class's trusted rows, and pParts is 0.)
    c.p =
      c.tested && shifted[k] && !naturalInTrusted(c) && !leavesNoContent(c)
        ? Math.max(c.pShift, c.pParts, pContent)
        : 1;
  });
  // A pattern and its parts (a phrase and its words, a conjunction and its values' conjunctions with others)
  // are one discovery: they vouch for each other in the rank that sets their level and are confirmed together,
  // but lend an unrelated pattern only one rank, so a plant does not loosen the level of chance patterns beside it.
  const pFinal = family.map((c) => c.p);
  const group = discoveriesOf(family, benjaminiHochberg(pFinal, s.fdr, familySize), indexOf, occ, inc.labels);
  const { rejected, level } = benjaminiHochbergGrouped(pFinal, s.fdr, familySize, (k) => group[k]);
  // Residual level of each confirmed pattern for explaining away (below): the threshold its discovery met
  // (rank x fdr / family), not the largest rejected p-value: with a single strong trigger that p-value is
  // astronomically small, and no residual could ever stand against it.
  const levelOf = new Map<Mined, number>();
  const firstPass = new Set(family.filter((_c, k) => rejected[k]));
  family.forEach((c, k) => {
    if (rejected[k]) levelOf.set(c, level[k]);
  });
  // Shapes: label shift and over-representation, a smaller budget, and a minimum effect.
  const shapeLevel = s.fdr * SHAPE_BUDGET;
  // The label shift alone, per shape: one that passes on it but not on its content is a class's style.
  const styleP = new Float64Array(shapeFamily.length).fill(1);
  shapeFamily.forEach((c, k) => {
    // Where the trusted set could show it, a shape whose rows with the label are no more common in the batch
    // than there is the label's by nature, as for a phrase (trusted-power.ts: a gate at the nominal level, so
    // a larger plant never fares worse than a smaller one on the same trusted set).
    c.p = naturalInTrusted(c) ? 1 : c.pShift;
    const effect = c.lift >= 2 && c.purity - c.expected >= (1 - c.expected) / 2;
    if (!effect) c.p = 1;
    styleP[k] = c.p;
    // A shape carries no meaning of its own, so a class's style (jokes end in "?", reviews of one kind trail
    // off in "...") shifts labels just as a plant does, and a small trusted set cannot vouch for it. So a
    // shape too must sit on content that reads as another class (its own words masked), where the content can
    // tell: significantly less like the class than its rows usually are, and at least halfway to what rows of
    // other classes read as (shortOfHalfway). In a batch of one class this is all there is. Where the content
    // cannot tell, a weak reading of the text leaves a shape to its label shift.
    const { mu, sd } = labelMoments(c.label);
    const mean = c.tested ? c.sumC / c.tested : mu;
    c.zC = c.tested ? (contentZ(mu, sd, mean, c.tested) - centre) / scale : 0;
    c.pDis = normalUpperTail(c.zC);
    if (contentTells(c)) c.p = shortOfHalfway(c) ? 1 : Math.max(c.p, c.pDis);
  });
  const shapeRejected = benjaminiHochberg(
    shapeFamily.map((c) => c.p),
    shapeLevel,
  );
  const nShapes = shapeRejected.filter(Boolean).length;
  const styleRejected = benjaminiHochberg(Array.from(styleP), shapeLevel);
  const styles = only < 0 ? shapeFamily.filter((_c, k) => styleRejected[k] && !shapeRejected[k]) : [];
  shapeFamily.forEach((c, k) => {
    if (shapeRejected[k]) levelOf.set(c, (nShapes * shapeLevel) / shapeFamily.length);
  });
  // Campaign step (weighted Benjamini-Hochberg, Genovese, Roeder & Wasserman 2006): a planted backdoor
  // usually comes as a set of triggers for one target label. Once triggers are confirmed, candidates with the
  // same label and form (n-gram length, conjunction size) that the trusted reference has never seen get a
  // larger share of the error budget (weights average 1 over the family, so the false discovery rate is
  // still controlled).
  const profile = (c: Mined) => `${c.label}:${c.len}`;
  // A region of its label (a table's natural pattern, which the gate below removes) is no trigger, so it seeds
  // no campaign: its neighbours are more of the same region.
  const seedRegions = trustedExpects ? regionKinds([...firstPass].filter((c) => c.tested > 0)) : undefined;
  const targets = new Set([...firstPass].filter((c) => !seedRegions?.get(c)).map(profile));
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
      // Only members are new discoveries here: the rest of the pool had its test in the first pass.
      const pCampaign = (c: Mined, member: boolean) =>
        firstPass.has(c)
          ? c.p
          : member && c.pShift <= s.fdr && c.tested && !naturalInTrusted(c) && !leavesNoContent(c)
            ? Math.max(c.pParts, c.pContent)
            : 1;
      const weighted = pool.map((c, k) =>
        Math.min(1, pCampaign(c, favoured[k]) / (favoured[k] ? wFav : Math.max(wRest, 1e-9))),
      );
      const again = benjaminiHochberg(weighted, s.fdr);
      pool.forEach((c, k) => {
        if (again[k] && !levelOf.has(c)) {
          levelOf.set(c, s.fdr);
          c.p = pCampaign(c, favoured[k]);
        }
      });
    }
  }
  // Gate (after the tests, so it can only remove): the contradiction must persist when the masked patterns
  // keep the meaning the trusted reference gives them (a natural phrase loses it then; an unseen trigger
  // does not). Shapes have no content to read. In a table a pattern must also stand out from its parents'
  // other rows in the batch (pInteraction), under Benjamini-Hochberg over the shifted patterns of its label.
  let confirmed = [...family, ...shapeFamily].filter(
    (c) => levelOf.has(c) && (c.len === 0 || c.zR >= s.minTrustedReadZ),
  );
  if (reference) {
    // Per label (a trigger set is planted for one), Benjamini-Hochberg over every pattern whose label shift
    // the first test kept (or the tests confirmed): as many chances as the shift test gave.
    const pass = new Set<Mined>();
    for (let y = 0; y < K; y++) {
      const group = family.filter((c, k) => c.label === y && (shifted[k] || levelOf.has(c)));
      const ok = benjaminiHochberg(
        group.map((c) => c.pInteraction),
        s.fdr,
      );
      group.forEach((c, k) => {
        if (ok[k]) pass.add(c);
      });
    }
    confirmed = confirmed.filter((c) => pass.has(c));
  }
  // Regions of their label (tables). In a table the supersets of any label-rich pattern are suspects, so the
  // content test's rows lose nearly every column, a natural region of a clean table (a kind of diamond cut,
  // sixes drawn one way) as much as a plant, and read as no label; removing only the pattern's columns, from
  // its rows and from the label's other rows alike, leaves a plant's rows (taken from other labels) reading
  // otherwise and a region's reading as its label's do (regionKinds). A region that reads as its label's
  // rows do stays while explaining away, so that it explains away the patterns inside it, and is removed
  // after; one that reads short of them but at least halfway to them is removed before, so that it cannot
  // explain away a plant beside it (the parts of a plant, whose rows keep the plant's other values, read so).
  const regions = trustedExpects ? regionKinds(confirmed.filter((c) => c.tested > 0)) : undefined;
  if (regions) confirmed = confirmed.filter((c) => regions.get(c) !== 'halfway');
  if (confirmed.length > 1) {
    confirmed = explainAway(confirmed, {
      ctx,
      s,
      space,
      unique,
      occ,
      indexOf,
      maskRow,
      probOfRow: (i, y) => {
        // P(y | row i with every suspect and confirmed pattern read the trusted way).
        if (trustedExpects) return tmProba[i * K + y];
        const fm = cv.models[cv.foldOf[i]];
        logitsOf(fm, X, i, zc);
        zr.set(zc);
        buckets.length = 0;
        space.removed(i, mask, buckets);
        remove(buckets, rowValue(i), fm, z2, zc2, zr);
        return probOf(zr, y);
      },
      levelOf,
      priorRows,
      familySize,
      pInc,
      withinClass: withinClass && {
        ratio: nUnique / Math.max(1, nRef),
        // The rows left, read the trusted way, judged as the pattern was: over-represented among the class's
        // trusted rows, and with content unlike the class.
        residualP: (k: number, kt: number, sumP: number) => {
          const { mu, sd } = labelMoments(only);
          const z = (contentZ(mu, sd, sumP / Math.max(1, k), k) - centreR) / scaleR;
          const pOver = binomialUpperTail(k, k + kt, pRef);
          return Math.max(pOver, contentP(z, pOver, (k + kt) * (1 - pRef)));
        },
      },
    });
  }
  if (regions) confirmed = confirmed.filter((c) => regions.get(c) !== 'label');
  confirmed.sort((a, b) => a.p - b.p || b.dfIn - a.dfIn);
  const top = [...family, ...shapeFamily].sort((a, b) => a.p - b.p || a.pShift - b.pShift);
  const moments = Array.from({ length: K }, (_, y) => labelMoments(y));
  const power: TriggerPower = {
    content: {
      mu: moments.map((x) => x.mu),
      sd: moments.map((x) => x.sd),
      plant: Array.from({ length: K }, (_, y) => plantReading(y)),
      centre,
      scale,
      centreR,
      scaleR,
      minTrustedReadZ: s.minTrustedReadZ,
    },
    kind: space.kind,
    family: Math.max(1, familySize),
    fdr: s.fdr,
    priorRows,
    minRows: Math.max(3, s.minSupport),
    minLift: s.minLift,
    incomingRows: nUnique,
    trustedRows: nTr,
    withinClass,
    ...(space.kind === 'tabular' && nUnique > 0 && space.units(0) <= s.maxConjunction
      ? { allColumns: space.units(0) }
      : {}),
  };
  // The report lists the confirmed patterns and the strongest of the rest: a wide table tests hundreds of
  // thousands of conjunctions, and listing them all made a 1,700-row audit write a 130 MB report.
  const listed = new Set(top.slice(0, CHART_CANDIDATES));
  for (const c of confirmed) listed.add(c);
  return {
    confirmed,
    styles,
    tested: top.filter((c) => listed.has(c)),
    capped,
    family: familySize + shapeFamily.length,
    occ,
    indexOf,
    power,
  };
}

/** The trusted cross-validation the table reference reads (its settings, for trustedCv and the prefetch). */
function tableReferenceCv(
  ctx: AuditContext,
  hashBits: number,
): [ModelSettings, { folds: number; maxTrainRows: number }] {
  const ms = modelSettings(
    ctx.shared.modelSettings as Partial<ModelSettings> | undefined,
    ctx.classes.length,
  );
  return [
    { ...ms, hashBits },
    { folds: Math.min(5, Math.max(2, Math.floor(ctx.trusted.n / 10))), maxTrainRows: 20000 },
  ];
}

/**
 * The trusted reference of a table's label-shift test: the trusted model, and what its prediction for a
 * pattern is worth in rows (stats/shift.ts modelWorth), measured on the patterns with support in the trusted
 * set against out-of-fold predictions, on single items and on conjunctions apart (the lower of the two, once
 * MIN_CONJUNCTIONS_FOR_WORTH conjunctions have support). Held-out clean labels, so a planted pattern cannot
 * set it. A model that misses how labels mix in the table earns a weak prior, and a pattern's own trusted
 * rows (with their sampling error) then decide.
 */
function tabularReference(
  ctx: AuditContext,
  space: Space,
  tm: ReturnType<typeof trustedModel>,
  minSupport: number,
  cap: number,
): { proba: Float32Array; priorRows: number; conjunctionWorth?: number } {
  const K = ctx.classes.length;
  const tru = ctx.trusted;
  const cv = trustedCv(ctx, ...tableReferenceCv(ctx, tm.hashBits));
  // Per trusted pattern: rows, rows per label, the out-of-fold sum of P per label (thousandths).
  const W = 2 + 2 * K;
  const table = new CountTable(W, 1 << 12);
  const scaled = new Int32Array(K);
  for (let i = 0; i < tru.n; i++) {
    for (let c = 0; c < K; c++) scaled[c] = Math.round(1000 * cv[i * K + c]);
    const y = tru.labels[i];
    space.trusted(i, (key, len) => {
      const sl = table.slot(key);
      if (sl < 0) return;
      const t = table.counts;
      const o = sl * W;
      t[o]++;
      t[o + 1] = len;
      t[o + 2 + y]++;
      for (let c = 0; c < K; c++) t[o + 2 + K + c] += scaled[c];
    });
  }
  // Measured per form (single items, conjunctions): an additive model fits its items' rates by construction and
  // earns its worth on them, while conjunctions are where it misreads how labels mix. It is worth what it earns
  // on the form it reads worst.
  const worthOf = (conj: boolean) => {
    const k: number[] = [];
    const n: number[] = [];
    const sp: number[] = [];
    const t = table.counts;
    let patterns = 0;
    table.forEach((_key, sl) => {
      const o = sl * W;
      if (t[o] < minSupport || t[o + 1] >= 2 !== conj) return;
      patterns++;
      for (let c = 0; c < K; c++) {
        k.push(t[o + 2 + c]);
        n.push(t[o]);
        sp.push(t[o + 2 + K + c] / 1000);
      }
    });
    return { patterns, worth: modelWorth(k, n, sp, cap) };
  };
  const items = worthOf(false);
  const conj = worthOf(true);
  return {
    proba: tm.proba,
    priorRows: conj.patterns >= MIN_CONJUNCTIONS_FOR_WORTH ? Math.min(items.worth, conj.worth) : items.worth,
    ...(conj.patterns >= MIN_CONJUNCTIONS_FOR_WORTH ? { conjunctionWorth: conj.worth } : {}),
  };
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsOf(ctx.settings, TRIGGER_DEFAULTS);
  const tm = trustedModel(ctx);
  const spaces = [
    textSpace(ctx, s.maxNgram, tm.hashBits),
    tabularSpace(
      ctx,
      {
        numericBins: s.numericBins,
        maxConjunction: s.maxConjunction,
        minSupport: s.minSupport,
        minLift: s.minLift,
        fdr: s.fdr,
      },
      tm.hashBits,
      tm.proba,
    ),
  ].filter((x): x is Space => x !== undefined);
  const inc = ctx.incoming;
  const rowsFlag = new Float32Array(inc.n);
  const rowReason: Array<string | undefined> = new Array(inc.n);
  const findings = [];
  const chart: TriggerCandidate[] = [];
  const powers: TriggerPower[] = [];
  let cappedAny = false;
  for (const space of spaces) {
    const { confirmed, styles, tested, capped, occ, indexOf, power } = mine(ctx, s, space);
    cappedAny ||= capped;
    if (power) powers.push(power);
    const names = new Map<number, string>();
    for (const c of [...confirmed, ...tested, ...styles]) {
      if (c.firstRow >= 0 && !names.has(c.key)) names.set(c.key, space.name(c.firstRow, c.len, c.pos));
    }
    for (const c of styles.slice(0, s.maxReported))
      findings.push(styleFinding(ctx, c, names.get(c.key) ?? '?'));
    const confirmedSet = new Set(confirmed.map((c) => c.key));
    const chartStart = chart.length;
    for (const c of tested)
      chart.push(toCandidate(ctx, space, c, names.get(c.key) ?? '?', confirmedSet.has(c.key)));
    if (confirmed.length === 0 || !occ || !indexOf) continue;
    // Flag every row (copies included: a copy is read through the first row of its content and label) that
    // carries a confirmed trigger with its label.
    const kOf = new Int32Array(indexOf.size).fill(-1);
    confirmed.forEach((c, k) => {
      kOf[indexOf.get(c) ?? 0] = k;
    });
    const first = firstRows(ctx, space.kind === 'text');
    // Which rows of a trigger are planted? The trusted rows carrying the pattern give its natural rate r of the
    // label; the rows without the label (all natural) then say how many labelled rows are natural too (Ny),
    // and the rest are planted (P). A planted row's content comes from the other labels (that is what makes
    // it a backdoor), a natural row's supports its label; so with q = P(label | row) under the trusted model,
    // the odds that a row is planted are (P / Ny) * (r / (1 - r)) * ((1 - q) / q). A pattern the reference
    // never pairs with other labels, or never saw at all, leaves Ny = 0 and every labelled row is planted.
    const tmProba = tm.proba;
    const K = ctx.classes.length;
    // In a batch of one class, the natural rows are those the class's trusted rate predicts.
    const wc = power?.withinClass;
    const plantedOdds = confirmed.map((c) => {
      const r = (c.kTr + 0.5) / (c.dfTr + 1);
      const natural = wc
        ? (c.kTr * (power?.incomingRows ?? 0)) / Math.max(1, wc.trustedRows)
        : ((c.dfIn - c.kIn) * r) / (1 - r);
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
    const entity =
      space.kind === 'tabular' ? entityReadings(ctx, s.numericBins, space, confirmed, first, occ, kOf) : [];
    // A pattern whose rows are a few entities measured many times is one piece of evidence per entity, which
    // the trusted set can neither show planted nor vouch for; reported, not quarantined, unless the pattern's
    // trusted rows (the same entities) mostly carry another label.
    const entityPattern = confirmed.map((c, k) => {
      const e = entity[k];
      return !!e && 2 * e.within > e.sampled && 2 * c.kTr >= c.dfTr;
    });
    // An entity's pattern is charted as a candidate, not a trigger.
    confirmed.forEach((c, k) => {
      if (!entityPattern[k]) return;
      const name = names.get(c.key);
      for (let j = chartStart; j < chart.length; j++)
        if (chart[j].pattern === name) chart[j].confirmed = false;
    });
    const hits = new Int32Array(confirmed.length);
    const rowsOf: number[][] = confirmed.map(() => []);
    eachLabelledCarrier(inc.labels, first, occ, kOf, confirmed, (i, k) => {
      if (entityPattern[k]) return;
      const y = inc.labels[i];
      const name = names.get(confirmed[k].key);
      const planted = plantedProbability(k, i);
      const score = s.rowScore * (planted >= 0.5 ? 1 : planted);
      if (score >= s.rowScore && rowsFlag[i] < s.rowScore) {
        hits[k]++;
        rowsOf[k].push(i);
      }
      const reason =
        planted >= 0.5
          ? `trigger "${name}" with label ${ctx.classes[y]}`
          : `trigger "${name}" with label ${ctx.classes[y]}, but the rest of the row supports that label (planted with probability ${planted.toFixed(2)})`;
      rowReason[i] = rowReason[i] ? `${rowReason[i]}, ${reason}` : reason;
      rowsFlag[i] = Math.max(rowsFlag[i], score);
    });
    confirmed.forEach((c, k) => {
      if (k >= s.maxReported) return;
      const name = names.get(c.key) ?? '?';
      const what =
        space.kind === 'tabular'
          ? `the ${c.len === 1 ? 'value' : 'combination'} ${name}`
          : space.isShape(c.len, c.pos)
            ? `the text shape "${name}"`
            : `the ${c.len === 1 ? 'token' : `${c.len}-word phrase`} "${name}"`;
      // Rows like these the trusted set would hold were the pattern ordinary (trusted-power.ts).
      const nIn = power?.incomingRows ?? inc.n;
      const nRef = power?.trustedRows ?? ctx.trusted.n;
      const expectedTrusted = expectedTrustedRows(c.dfIn + c.dfTr, nRef, nIn);
      const unverified = !wc && expectedTrusted < TRUSTED_POWER_ROWS && c.dfTr <= expectedTrusted;
      const e = entity[k];
      if (entityPattern[k] && e) {
        findings.push(entityFinding(ctx, c, e, what, name));
        return;
      }
      findings.push(
        makeFinding(
          meta,
          `Possible backdoor trigger: ${
            wc
              ? `${what} appears on ${c.dfIn} of the batch's ${power?.incomingRows} distinct rows (all labelled ${ctx.classes[c.label]}), ${c.lift.toFixed(1)} times as often as on the ${wc.trustedRows} trusted rows labelled ${ctx.classes[c.label]} (${c.kTr} of them)`
              : `${what} appears on ${c.dfIn} incoming rows, ${(100 * c.purity).toFixed(0)}% labelled ${ctx.classes[c.label]} where the trusted reference expects ${(100 * c.expected).toFixed(0)}%, against ${c.dfTr} trusted ${c.dfTr === 1 ? 'row' : 'rows'}`
          }${
            c.matched
              ? `; read without its own values, those rows look like rows of other labels (P(${ctx.classes[c.label]}) ${c.matched.rows.toFixed(2)}, against ${c.matched.label.toFixed(2)} on the label's other rows and ${c.matched.other.toFixed(2)} on other labels' rows, read the same way)`
              : c.len > 0
                ? `; the trusted model labels ${c.contradicted} of ${c.tested} of those rows otherwise without the suspect patterns`
                : ''
          }${
            unverified
              ? `. The trusted set is too small to tell a plant from rows labelled so by nature: were the ${space.kind === 'tabular' ? 'combination' : 'pattern'} ordinary, it would hold about ${expectedTrusted.toFixed(1)} such rows; if rows like these are ${ctx.classes[c.label]} by nature, add reviewed ones to the trusted set and audit again`
              : ''
          }.`,
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
              expectedTrustedRows: round(expectedTrusted),
              ...(c.matched && {
                readWithoutPattern: {
                  rows: round(c.matched.rows),
                  labelRows: round(c.matched.label),
                  otherLabels: round(c.matched.other),
                },
              }),
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
  return {
    findings,
    rows,
    charts: { triggers: chart },
    publish: { triggerRows: explained, [POWER_KEY]: powers },
  };
}

/** For each incoming row, the first row with its content and label (itself when `dedupe` is off). */
function firstRows(ctx: AuditContext, dedupe: boolean): Int32Array {
  const inc = ctx.incoming;
  const out = new Int32Array(inc.n);
  if (!dedupe) {
    for (let i = 0; i < inc.n; i++) out[i] = i;
    return out;
  }
  const hashes = rowHashes(ctx, 'incoming');
  const at = new Map<number, number>();
  for (let i = 0; i < inc.n; i++) {
    // The same key firstOfEachRow uses, so the first row found here is the one mining read.
    const key = hashes[i] * 64 + (inc.labels[i] & 63);
    const f = at.get(key);
    if (f === undefined) at.set(key, i);
    out[i] = f ?? i;
  }
  return out;
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
    ...(_space.kind === 'tabular' ? { pInteraction: c.pInteraction } : {}),
    // (In a table the interaction test must hold too: the evidence is the larger of the two.)
    p: Math.max(c.p, c.pInteraction),
    confirmed,
  };
}

export const detector: Detector = {
  meta,
  defaults: TRIGGER_DEFAULTS,
  stage: 1,
  cannotRun: unseenClassReason,
  applies: (ctx: AuditContext) =>
    ctx.classes.length >= 2 && (Boolean(ctx.incoming.text) || ctx.roles.features.length > 0),
  needs: (ctx: AuditContext) => (ctx.classes.length < 2 ? 'two classes' : 'a --text or feature column'),
  prefetch(ctx: AuditContext) {
    prefetchBatchCv(ctx);
    if (ctx.roles.features.length > 0) {
      const ms = modelSettings(
        ctx.shared.modelSettings as Partial<ModelSettings> | undefined,
        ctx.classes.length,
      );
      prefetchTrustedCv(ctx, ...tableReferenceCv(ctx, ms.hashBits));
    }
  },
  run,
};

export type { Dataset };
