/**
 * Detector 2: trusted-reference disagreement, with confident learning on the incoming batch.
 *
 * A logistic regression fit on the trusted set scores each incoming row. How unusual is the row's label
 * under that model? The answer is calibrated on the trusted set itself: out-of-fold probabilities of the
 * trusted rows give, per class, the distribution of P(label) on clean data (F0), which already holds the
 * model's own accuracy (a weak model on a hard task gives clean rows low P(label) often). Each incoming row is
 * read as F0's rows were, by the fold model that never saw its content (Reference.heldOut): a model of every
 * trusted row reads a batch row whose content some trusted row has more surely than any fold read that trusted
 * row, and in a table whose exact values repeat and carry the label, clean rows then fell outside F0 by the
 * thousand.
 *
 * Two questions, answered in turn:
 *   1. Does the batch hold more contradicted labels than clean data explains? Per-row p-values against F0
 *      (see referenceP) under Benjamini-Hochberg at `fdr`. When no row is significant, the batch is treated
 *      as clean: rows get at most a review score, never a quarantining one.
 *   2. If so, which rows? Per class (so each class has its own threshold), the incoming rows labelled y are
 *      ranked by P(y) and compared with the clean rows F0_y predicts at each level; the local false-discovery
 *      rate (see labelLocalFdr) gives each row the probability that its label is right, and its score is the
 *      probability that it is wrong: at or above 0.5 (the default quarantine threshold) when more likely
 *      wrong than right. A weak model (hard task, few trusted rows) has a wide F0, so the batch must hold many
 *      more low-P rows than that before anything is flagged.
 * Confident learning on cross-validated probabilities over the incoming batch (a model of the batch, by
 * the batch) corroborates: a flagged row it also calls mislabelled gets `confidentLearningBoost` combined in.
 *
 * The model: a logistic regression of the trusted rows alone, or (learn/reference.ts) one of the trusted rows
 * and the batch cross-fitted by account, whichever predicts the trusted labels better out of fold. A 100-row
 * trusted set of ten classes makes the first near chance; the second reads each account's rows with a model
 * that never saw them, and its own out-of-fold probabilities on the trusted rows are its clean reference F0.
 *
 * Publishes `trustedProba` (the trusted-only model) and `referenceProba` (the chosen one), incoming rows ×
 * classes, for later stages.
 */
import { ATLAS } from '../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { DISAGREEMENT_DEFAULTS, settingsOf } from '../config.js';
import { firstOfEachRow } from '../features/context.js';
import { confidentLearning } from '../learn/confident.js';
import {
  batchCv,
  effectiveHashBits,
  heldOutProba,
  type ModelSettings,
  prefetchBatchCv,
  prefetchTrustedCv,
  trustedFolds,
  trustedModel,
} from '../learn/context.js';
import { mulberry32 } from '../learn/random.js';
import { crossFitReference, prefetchCrossFit, reReadSuspects } from '../learn/reference.js';
import { wilson } from '../stats/confidence.js';
import { countAtOrBelow, monotoneLocalFdr } from '../stats/local-fdr.js';
import { studentUpperTail } from '../stats/tests.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import { explainedRows } from './lib/explained.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/disagreement',
  title: 'Labels the trusted model contradicts',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Label flips (through a feedback loop, a rogue labeler or random availability noise) leave rows whose label a model of the trusted reference finds implausible. Judged against the trusted model calibrated on clean data (its cross-validated probabilities on the trusted rows), per class, with false-discovery-rate control over the batch, and corroborated by confident learning on the batch itself.',
};

type Settings = typeof DISAGREEMENT_DEFAULTS;

/** Clean reference, per class: sorted out-of-fold P(label) of the trusted rows and a normal fit to their logits. */
export interface ClassReference {
  sorted: Float64Array;
  mu: number;
  sd: number;
}

/** Out-of-fold probabilities of the trusted rows, per class: the clean reference; plus the model's CV accuracy. */
function referenceDistribution(
  ctx: AuditContext,
  s: Settings,
): { refs: ClassReference[]; accuracy: number; power: Power; cv: Float32Array; heldOut: () => Float32Array } {
  const K = ctx.classes.length;
  const yt = ctx.trusted.labels;
  const [ms, opts] = referenceCv(ctx, s);
  const folds = trustedFolds(ctx, ms, opts);
  return { ...calibration(folds.proba, yt, K), heldOut: () => heldOutProba(ctx, folds, ms.hashBits) };
}

/** The trusted cross-validation the clean reference reads (its settings, for trustedCv and the prefetch). */
function referenceCv(
  ctx: AuditContext,
  s: Settings,
): [ModelSettings, { folds: number; maxTrainRows: number }] {
  const folds = Math.min(s.referenceFolds, Math.max(2, Math.floor(ctx.trusted.n / 10)));
  return [
    { hashBits: effectiveHashBits(s.hashBits, ctx.classes.length), l2: s.l2, maxIter: s.maxIter },
    { folds, maxTrainRows: s.maxCvTrainRows },
  ];
}

/** The clean reference of P(label), per class, from out-of-fold probabilities of the trusted rows. */
function calibration(
  cv: Float32Array,
  yt: Int32Array,
  K: number,
): { refs: ClassReference[]; accuracy: number; power: Power; cv: Float32Array } {
  const per: number[][] = Array.from({ length: K }, () => []);
  let correct = 0;
  for (let i = 0; i < yt.length; i++) {
    per[yt[i]].push(cv[i * K + yt[i]]);
    if (argmax(cv, i, K) === yt[i]) correct++;
  }
  const refs = per.map(classReference);
  return { refs, accuracy: correct / Math.max(1, yt.length), power: powerOf(cv, yt, K, refs), cv };
}

export interface Reference {
  /** P(class | incoming row), n × K, from the chosen reference. */
  proba: Float32Array;
  /** Its out-of-fold P(class | trusted row), trusted rows × K, and the trusted labels. */
  cv: Float32Array;
  trustedLabels: Int32Array;
  /**
   * P(class | incoming row) read as `cv` reads a trusted row (the same models, none of which saw the row's
   * content): what the batch is compared with the clean calibration on, row by row and as a whole. `proba`'s
   * model (every trusted row) reads the batch's copies of trusted content more surely than `cv` reads them.
   */
  heldOut: () => Float32Array;
  refs: ClassReference[];
  accuracy: number;
  power: Power;
  kind: 'trusted' | 'cross-fit';
  trustedAccuracy: number;
  crossFitAccuracy: number;
  /**
   * The cross-fit's suspect re-read (learn/reference.ts reReadSuspects): `proba` with the rows marked scored by
   * a model none of them trained. Absent for the trusted-only reference, which no batch row trains.
   */
  reRead?: (proba: Float32Array, suspect: Uint8Array) => Float32Array;
}

/**
 * The reference labels are judged by: the model of the trusted rows alone, or the cross-fitted model of the
 * trusted rows and the batch (learn/reference.ts), whichever predicts the trusted labels better out of fold
 * (labels the attacker cannot touch, so a batch that steers the cross-fit loses it the choice).
 */
export function chooseReference(ctx: AuditContext, s: Settings, trustedOnly: Float32Array): Reference {
  const K = ctx.classes.length;
  const t = referenceDistribution(ctx, s);
  // A batch of one class teaches a cross-fitted model only that class's prior: it would read the batch's own
  // label more often, and on a trusted set skewed the same way could even look better for it. Trusted only.
  const cf = oneClassOf(ctx) < 0 ? crossFitReference(ctx, s) : undefined;
  const c = cf ? calibration(cf.trustedProba, ctx.trusted.labels, K) : undefined;
  const cross = cf !== undefined && c !== undefined && c.accuracy > t.accuracy;
  const chosen = cross ? c : t;
  return {
    proba: cross ? cf.proba : trustedOnly,
    ...chosen,
    // The cross-fit reads batch and trusted rows of one content by one model already (learn/reference.ts).
    heldOut: cross ? () => cf.proba : t.heldOut,
    trustedLabels: ctx.trusted.labels,
    kind: cross ? 'cross-fit' : 'trusted',
    trustedAccuracy: t.accuracy,
    crossFitAccuracy: c ? c.accuracy : Number.NaN,
    reRead: cross ? (proba, suspect) => reReadSuspects(ctx, cf, proba, suspect, s) : undefined,
  };
}

/** Fewest trusted rows a reference model is fitted on (below, nothing judges labels against it). */
export const MIN_REFERENCE_ROWS = 4;

/**
 * The trusted model and the reference labels are judged by, fitted once per audit: label-cells reads it
 * before this detector judges rows (so the cells it explains can be set aside here). Settings: the
 * disagreement section of the config, as every shared model.
 */
export function referenceOf(
  ctx: AuditContext,
  s: Settings = settingsOf(ctx.shared.modelSettings ?? {}, DISAGREEMENT_DEFAULTS),
): { tm: ReturnType<typeof trustedModel>; ref: Reference } {
  const key = 'disagreement/reference';
  const hit = ctx.shared[key] as { tm: ReturnType<typeof trustedModel>; ref: Reference } | undefined;
  if (hit) return hit;
  const tm = trustedModel(ctx, s);
  const out = { tm, ref: chooseReference(ctx, s, tm.proba) };
  ctx.shared[key] = out;
  return out;
}

/** What the trusted model can see, measured on the trusted rows' out-of-fold probabilities. */
export interface Power {
  /** Share of simulated flips (each trusted row given another label) that stand out from clean rows. */
  sensitivity: number;
  /** Share of clean trusted rows that stand out as much (the false alarms flips must outnumber). */
  falseAlarm: number;
  /** Trusted rows of the smallest class. */
  smallestClass: number;
}

/** What blind-spot.ts reads: the reference model's cross-validated accuracy and its power against flips. */
export interface DisagreementPower {
  accuracy: number;
  power: Power;
  /** Smallest share of random flips of which this batch's decision quarantines at least half (flipFloor). */
  flipFloor: number | null;
  kind: Reference['kind'];
  trustedAccuracy: number;
  crossFitAccuracy: number | null;
}
export const POWER_KEY = 'power/disagreement';
/** Where run() publishes the reference's out-of-fold probabilities of the trusted rows (label-noise.ts). */
export const TRUSTED_CV_KEY = 'disagreement/trusted-cv';
export interface TrustedCv {
  cv: Float32Array;
  labels: Int32Array;
  /** The incoming rows read as `cv` reads a trusted row (Reference.heldOut). */
  incoming: Float32Array;
}

/** A label "stands out" when the model prefers another label and clean rows of that class reach its P this low this rarely. */
const STANDS_OUT = 0.01;

export function powerOf(cv: Float32Array, y: Int32Array, K: number, refs: ClassReference[]): Power {
  let seen = 0;
  let caught = 0;
  let alarms = 0;
  const counts = new Array<number>(K).fill(0);
  for (let i = 0; i < y.length; i++) {
    counts[y[i]]++;
    const best = argmax(cv, i, K);
    if (best !== y[i] && referenceP(refs[y[i]], cv[i * K + y[i]]) <= STANDS_OUT) alarms++;
    for (let c = 0; c < K; c++) {
      if (c === y[i] || refs[c].sorted.length === 0) continue;
      seen++;
      if (best !== c && referenceP(refs[c], cv[i * K + c]) <= STANDS_OUT) caught++;
    }
  }
  const sensitivity = seen ? caught / seen : 0;
  const falseAlarm = y.length ? alarms / y.length : 1;
  const present = counts.filter((c) => c > 0);
  return {
    sensitivity,
    falseAlarm,
    smallestClass: present.length ? Math.min(...present) : 0,
  };
}

const logit = (p: number) => Math.log(Math.max(p, 1e-9) / Math.max(1 - p, 1e-9));

/**
 * P(a clean row's logit <= l) under the normal fitted to the reference's logits, read as a prediction for a new
 * row (Student's t with m - 1 degrees of freedom, scale sd·√(1 + 1/m)): a class with a handful of trusted rows
 * has a mean and spread it barely knows, and its tail must say so.
 */
function fittedLower(ref: ClassReference, l: number): number {
  const m = ref.sorted.length;
  if (m < 2) return 1;
  return studentUpperTail((ref.mu - l) / (ref.sd * Math.sqrt(1 + 1 / m)), m - 1);
}

export function classReference(values: ArrayLike<number>): ClassReference {
  const sorted = Float64Array.from(values).sort();
  const l = Array.from(sorted, logit);
  const mu = l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
  const sd = Math.sqrt(l.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, l.length - 1)) || 1;
  return { sorted, mu, sd };
}

/**
 * p-value of P(label) = p against the clean rows of that class: a normal fit to their logits extrapolates
 * beyond the smallest clean value (a few hundred trusted rows cannot resolve 1e-4 empirically), but never
 * below the share of clean rows actually observed at or below p (heavy tails stay honest).
 */
export function referenceP(ref: ClassReference, p: number): number {
  const observed = countAtOrBelow(ref.sorted, p) / (1 + ref.sorted.length);
  const fitted = fittedLower(ref, logit(p));
  return Math.min(1, Math.max(observed, fitted));
}

/**
 * Clean rows of a class expected at or below P(label) = p, as a share of the class. The reference's count at or
 * below p is interpolated in logit space between its values (a continuous curve: clean rows do not sit
 * exactly on the trusted ones), then read at its upper confidence bound (Wilson, EVIDENCE_Z) so that a
 * small reference, which cannot tell 1/m from 0, errs towards "clean data explains it"; the fitted normal
 * tail is used where it is larger.
 */
export function referenceTail(ref: ClassReference, p: number): number {
  const r = ref.sorted;
  const m = r.length;
  if (m === 0) return 1;
  const k0 = countAtOrBelow(r, p);
  let k = k0;
  if (k0 > 0 && k0 < m) {
    const a = logit(r[k0 - 1]);
    const b = logit(r[k0]);
    if (b > a) k += Math.min(1, Math.max(0, (logit(p) - a) / (b - a)));
  }
  const upper = wilson(k, m).upper;
  const fitted = fittedLower(ref, logit(p));
  return Math.min(1, Math.max(upper, fitted));
}

export interface LabelFdr {
  /** Per row: estimated probability that its label is right (local false-discovery rate), 1 = no evidence. */
  lfdr: Float64Array;
  /** Per class: estimated share of its incoming rows whose label is right (Storey's π0). */
  pi0: Float64Array;
}

/**
 * Local false-discovery rate of low P(label), per class (stats/local-fdr.ts): for class y (n_y incoming rows),
 * the rows found at or below each probability p against the clean rows expected there, π0 · n_y · F0_y(p). Unlike a tail rate (a q-value), this does not let a pile of
 * blatant flips near P = 0 vouch for borderline rows further up. π0 = (rows above `lambda`) / (n_y · (1 −
 * F0_y(lambda))), at most 1, with both counts read at the confidence bound that overstates it: rows the model
 * finds plausible count as clean, so it only overstates the clean share.
 */
export function labelLocalFdr(
  pLabel: Float64Array,
  labels: Int32Array,
  refs: ClassReference[],
  opts: { lambda: number },
  /** Rows that enter the curve (1) or only read it (0): copies of one row are one piece of evidence. */
  distinct?: Uint8Array,
): LabelFdr {
  const K = refs.length;
  const n = labels.length;
  const lfdr = new Float64Array(n).fill(1);
  const pi0 = new Float64Array(K).fill(1);
  for (let y = 0; y < K; y++) {
    let ny = 0;
    const counted = (i: number) => labels[i] === y && (!distinct || distinct[i] === 1);
    for (let i = 0; i < n; i++) if (counted(i)) ny++;
    if (ny === 0 || refs[y].sorted.length === 0) continue;
    const vals = new Float64Array(ny);
    let k = 0;
    for (let i = 0; i < n; i++) if (counted(i)) vals[k++] = pLabel[i];
    vals.sort();
    // Both counts are samples: the incoming rows above lambda are read at their upper confidence bound and the
    // clean share above it at its lower bound, so a class the model rarely rates above lambda (a handful of
    // trusted rows, none or few incoming ones there) cannot make its clean share look like zero.
    const above = ny * wilson(ny - countAtOrBelow(vals, opts.lambda), ny).upper;
    const cleanAbove = ny * (1 - referenceTail(refs[y], opts.lambda));
    pi0[y] = cleanAbove > 0 ? Math.min(1, above / cleanAbove) : 1;
    const expected = pi0[y] * ny;
    const clean = monotoneLocalFdr(vals, (v) => expected * referenceTail(refs[y], v));
    for (let i = 0; i < n; i++)
      if (labels[i] === y) lfdr[i] = clean[Math.max(0, countAtOrBelow(vals, pLabel[i]) - 1)];
  }
  return { lfdr, pi0 };
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsOf(ctx.settings, DISAGREEMENT_DEFAULTS);
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const n = inc.n;
  const { tm, ref } = referenceOf(ctx, s);
  const { refs, accuracy, power } = ref;
  const proba = ref.heldOut();
  const pLabel = new Float64Array(n);
  const pEmp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = inc.labels[i];
    pLabel[i] = proba[i * K + y];
    pEmp[i] = referenceP(refs[y], pLabel[i]);
  }
  // Rows carrying a confirmed trigger with its label, and rows in an account's flagged cell (label-cells), are
  // explained already (explaining away): left in, a planted campaign makes every genuine row at its level of
  // P(label) look flipped too.
  const explained = explainedRows(ctx);
  const unexplained = explained ? pEmp.map((p, i) => (explained[i] ? 1 : p)) : pEmp;
  // 1. Does the batch hold more contradicted labels than clean data explains?
  const cutoff = bhCutoff(unexplained, s.fdr);
  let nGate = 0;
  for (let i = 0; i < n; i++) if (unexplained[i] <= cutoff) nGate++;
  // 2. Which rows: per class, the probability that each label is wrong (used only when the gate opened).
  // The curve counts each distinct (content, label) once: a template sent many times (common in messaging
  // data) is a clump the clean reference cannot predict, not many independent contradicted labels.
  const first = firstOfEachRow(ctx);
  const distinct = explained ? first.map((f, k) => (explained[k] ? 0 : f)) : first;
  const fdr = labelLocalFdr(pLabel, inc.labels, refs, { lambda: s.pi0Lambda }, distinct);

  // Confident learning over the batch's own cross-validated probabilities.
  const cvp = batchCv(ctx, s).proba;
  const cl = confidentLearning(cvp, inc.labels, K);
  // A batch of one class sets no threshold for any other class, so confident learning can raise nothing.
  const oneClass = oneClassOf(ctx) >= 0;

  const rows: RowFlag[] = [];
  let nSig = 0;
  let nBoth = 0;
  let expectedWrong = 0;
  const pairs = new Map<string, number>();
  const sigRows: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = inc.labels[i];
    const pred = argmax(proba, i, K);
    const pl = pLabel[i].toFixed(2);
    const clAgrees = cl.issue[i] === 1;
    const wrong = nGate > 0 ? 1 - fdr.lfdr[i] : 0;
    // Quarantine needs the trusted model to prefer another label: a row whose label is still its first choice
    // is not "contradicted", however low the probability (it only goes to review).
    if (wrong >= 0.5 && pred !== y) {
      // More likely wrong than right. Confident learning agreeing raises the score (it orders these rows);
      // it never carries a row over alone.
      nSig++;
      sigRows.push(i);
      expectedWrong += wrong;
      if (clAgrees) nBoth++;
      const key = `${ctx.classes[y]} -> ${ctx.classes[pred]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
      rows.push({
        row: i,
        score: clAgrees ? 1 - (1 - wrong) * (1 - s.confidentLearningBoost) : wrong,
        reason: `trusted model contradicts label ${ctx.classes[y]} (P=${pl}, label wrong with probability ${wrong.toFixed(2)}${clAgrees ? ', confident learning agrees' : ''})`,
      });
      continue;
    }
    // Below that, disagreement only orders the review sample (capped at weakScore, never quarantines).
    const weak = pEmp[i] < 0.1 && (clAgrees || pred !== y) ? (1 - pEmp[i] / 0.1) * (clAgrees ? 1 : 0.6) : 0;
    const score = s.weakScore * Math.max(weak, wrong / 0.5);
    if (score >= 0.02) {
      rows.push({
        row: i,
        score,
        reason: `label ${ctx.classes[y]} unlikely under the trusted model (P=${pl})${clAgrees ? ', confident learning agrees' : ''}`,
      });
    }
  }
  const findings = [];
  if (nSig > 0) {
    const top = [...pairs.entries()].sort((a, b) => b[1] - a[1]);
    findings.push(
      makeFinding(
        meta,
        `${nSig} incoming rows carry labels the trusted model contradicts, more likely wrong than right given what clean data explains (about ${Math.round(expectedWrong)} wrong labels expected among them); ${nBoth} of them also flagged by confident learning.`,
        {
          location: { rows: sigRows.slice(0, 20).map((i) => inc.ids[i]), rowCount: nSig },
          evidence: {
            rows: nSig,
            expectedWrong: Math.round(expectedWrong),
            confidentLearningAgrees: nBoth,
            flips: Object.fromEntries(top.slice(0, 10)),
            share: Number((nSig / n).toFixed(4)),
            cleanShareByClass: Object.fromEntries(
              ctx.classes.map((c, y) => [c, Number(fdr.pi0[y].toFixed(3))]),
            ),
          },
          severity: nSig >= Math.max(10, 0.01 * n) ? 'high' : 'medium',
        },
      ),
    );
  }
  findings.push(
    makeFinding(
      meta,
      `${oneClass ? 'Confident learning was not used, as a batch of one class gives it no second class to compare' : `Confident learning on the incoming batch estimates ${((100 * cl.issues) / Math.max(1, n)).toFixed(1)}% of labels as questionable`} (reference model agreement: ${(100 * agreement(proba, inc.labels, K)).toFixed(1)}%; labels judged by ${ref.kind === 'cross-fit' ? 'the trusted rows and the batch, cross-fitted by account' : 'the trusted rows alone'}, whose cross-validated accuracy on the trusted set is ${(100 * accuracy).toFixed(1)}%; trusted rows alone ${(100 * ref.trustedAccuracy).toFixed(1)}%${Number.isNaN(ref.crossFitAccuracy) ? '' : `, cross-fitted ${(100 * ref.crossFitAccuracy).toFixed(1)}%`}).`,
      {
        severity: 'info',
        evidence: {
          confidentLearningIssues: cl.issues,
          thresholds: Array.from(cl.thresholds, (t) => Number(t.toFixed(3))),
          trustedModelIterations: tm.model.iterations,
          trustedCvAccuracy: Number(ref.trustedAccuracy.toFixed(4)),
          crossFitAccuracy: Number.isNaN(ref.crossFitAccuracy)
            ? null
            : Number(ref.crossFitAccuracy.toFixed(4)),
          reference: ref.kind,
          significantAtFdr: nGate,
        },
      },
    ),
  );
  return {
    findings,
    rows,
    publish: {
      trustedProba: tm.proba,
      referenceProba: ref.proba,
      [TRUSTED_CV_KEY]: { cv: ref.cv, labels: ref.trustedLabels, incoming: proba } satisfies TrustedCv,
      confidentIssue: cl.issue,
      cvProba: cvp,
      [POWER_KEY]: {
        accuracy,
        power,
        flipFloor: flipFloor(ref.cv, ref.trustedLabels, K, refs, n, s),
        kind: ref.kind,
        trustedAccuracy: ref.trustedAccuracy,
        crossFitAccuracy: Number.isNaN(ref.crossFitAccuracy) ? null : ref.crossFitAccuracy,
      } satisfies DisagreementPower,
    },
    charts: { disagreement: { significant: nSig, confidentLearning: cl.issues, rows: n } },
  };
}

/** Flip shares the simulated floor tries, and the most rows it simulates (the floor is a share of the batch). */
const FLIP_SHARES = [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3];
const FLOOR_ROWS = 20_000;

/**
 * The smallest share of random flips (of FLIP_SHARES) of which this detector quarantines at least half, found by
 * running its own decision (the gate of step 1, the local false-discovery rate of step 2, the model preferring
 * another label) on simulated batches of this batch's size (at most FLOOR_ROWS): each row is a trusted row drawn
 * at random, read by its out-of-fold probabilities (the model's reading of a clean row it never saw), and a share
 * of them get another label at random. null: not even at the largest share. Read from the decision, not from
 * the model's per-row power: the decision also needs the flips to stand out as a pile against the clean
 * reference, which per-row power alone overstates (a 100-row trusted set of ten classes: 1.4% by per-row
 * power, while 10% of random flips passed).
 */
export function flipFloor(
  cv: Float32Array,
  yt: Int32Array,
  K: number,
  refs: ClassReference[],
  n: number,
  s: { fdr: number; pi0Lambda: number },
): number | null {
  const m = yt.length;
  if (m === 0 || K < 2) return null;
  const N = Math.max(1, Math.min(n, FLOOR_ROWS));
  const rand = mulberry32(0x5eed);
  const src = Int32Array.from({ length: N }, () => Math.floor(rand() * m));
  // The same draws at every share, so the flipped rows of a smaller share are among those of a larger one.
  const u = Float64Array.from({ length: N }, () => rand());
  const other = Float64Array.from({ length: N }, () => rand());
  const labels = new Int32Array(N);
  const pLabel = new Float64Array(N);
  const pEmp = new Float64Array(N);
  for (const share of FLIP_SHARES) {
    let flips = 0;
    for (let i = 0; i < N; i++) {
      const j = src[i];
      let y = yt[j];
      if (u[i] < share) {
        const c = Math.floor(other[i] * (K - 1));
        y = c >= y ? c + 1 : c;
        flips++;
      }
      labels[i] = y;
      pLabel[i] = cv[j * K + y];
      pEmp[i] = referenceP(refs[y], pLabel[i]);
    }
    if (flips === 0) continue;
    const cutoff = bhCutoff(pEmp, s.fdr);
    if (cutoff < 0) continue;
    const fdr = labelLocalFdr(pLabel, labels, refs, { lambda: s.pi0Lambda });
    let caught = 0;
    for (let i = 0; i < N; i++)
      if (u[i] < share && 1 - fdr.lfdr[i] >= 0.5 && argmax(cv, src[i], K) !== labels[i]) caught++;
    if (caught >= flips / 2) return share;
  }
  return null;
}

/** Benjamini-Hochberg on many p-values: the largest p(k) <= k q / m (native numeric sort, no index array). */
function bhCutoff(p: Float64Array, q: number): number {
  const sorted = Float64Array.from(p).sort();
  const m = sorted.length;
  let cut = -1;
  for (let k = 0; k < m; k++) if (sorted[k] <= ((k + 1) / m) * q) cut = sorted[k];
  return cut;
}

function argmax(proba: ArrayLike<number>, i: number, K: number): number {
  let best = 0;
  for (let c = 1; c < K; c++) if (proba[i * K + c] > proba[i * K + best]) best = c;
  return best;
}

function agreement(proba: Float32Array, labels: Int32Array, K: number): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (argmax(proba, i, K) === labels[i]) ok++;
  return labels.length ? ok / labels.length : 0;
}

export const detector: Detector = {
  meta,
  defaults: DISAGREEMENT_DEFAULTS,
  stage: 1,
  applies: (ctx) => ctx.classes.length >= 2 && ctx.trusted.n >= MIN_REFERENCE_ROWS,
  needs: (ctx) => (ctx.classes.length < 2 ? 'two classes' : `at least ${MIN_REFERENCE_ROWS} trusted rows`),
  cannotRun: unseenClassReason,
  prefetch(ctx) {
    const s = settingsOf(ctx.settings, DISAGREEMENT_DEFAULTS);
    prefetchTrustedCv(ctx, ...referenceCv(ctx, s));
    if (oneClassOf(ctx) < 0) prefetchCrossFit(ctx, s);
    prefetchBatchCv(ctx, s);
  },
  run,
};
