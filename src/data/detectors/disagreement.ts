/**
 * Detector 2: trusted-reference disagreement, with confident learning on the incoming batch.
 *
 * A logistic regression fit on the trusted set scores each incoming row. How unusual is the row's label
 * under that model? The answer is calibrated on the trusted set itself: out-of-fold probabilities of the
 * trusted rows give, per class, the distribution of P(label) on clean data, so each incoming row gets a
 * p-value (how rarely clean rows of its class get so low a probability; see referenceP). Benjamini-Hochberg over
 * the batch then flags rows only when the batch holds more contradicted labels than clean data explains;
 * a weak model (few trusted rows, a hard task) therefore flags little on its own. Confident learning on
 * cross-validated probabilities over the incoming batch (a model of the batch, by the batch) corroborates.
 *
 * Publishes `trustedProba` (incoming rows × classes) for later stages.
 */
import { ATLAS } from '../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { DISAGREEMENT_DEFAULTS, settingsOf } from '../config.js';
import { modelMatrix } from '../features/context.js';
import { confidentLearning } from '../learn/confident.js';
import { batchCv, trustedModel } from '../learn/context.js';
import { crossValProba } from '../learn/cv.js';
import { normalUpperTail } from '../stats/tests.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/disagreement',
  title: 'Labels the trusted model contradicts',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Label flips (through a feedback loop, a rogue labeler or random availability noise) leave rows whose label a model of the trusted reference finds implausible. Judged against the trusted model calibrated on clean data, with a false-discovery-rate control over the batch, and corroborated by confident learning on the batch itself.',
};

/** Per class, sorted out-of-fold P(label) of the trusted rows: the clean reference distribution. */
function referenceDistribution(ctx: AuditContext, s: typeof DISAGREEMENT_DEFAULTS): Float64Array[] {
  const K = ctx.classes.length;
  const Xt = modelMatrix(ctx, 'trusted', s.hashBits);
  const yt = ctx.trusted.labels;
  const folds = Math.min(s.folds, Math.max(2, Math.floor(ctx.trusted.n / 10)));
  const cv = crossValProba(Xt, yt, K, { l2: s.l2, maxIter: s.maxIter, folds, seed: ctx.seed });
  const per: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < ctx.trusted.n; i++) per[yt[i]].push(cv[i * K + yt[i]]);
  return per.map((a) => Float64Array.from(a).sort());
}

const logit = (p: number) => Math.log(Math.max(p, 1e-9) / Math.max(1 - p, 1e-9));

/**
 * p-value of P(label) = p against the clean rows of that class: a normal fit to their logits extrapolates
 * beyond the smallest clean value (a few hundred trusted rows cannot resolve 1e-4 empirically), but never
 * below the share of clean rows actually observed at or below p (heavy tails stay honest).
 */
function referenceP(ref: Float64Array, mu: number, sd: number, p: number): number {
  let lo = 0;
  let hi = ref.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ref[mid] <= p) lo = mid + 1;
    else hi = mid;
  }
  const observed = lo / (1 + ref.length);
  const fitted = 1 - normalUpperTail((logit(p) - mu) / sd);
  return Math.min(1, Math.max(observed, fitted));
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsOf(ctx.settings, DISAGREEMENT_DEFAULTS);
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const n = inc.n;
  const tm = trustedModel(ctx, s);
  const proba = tm.proba;
  const ref = referenceDistribution(ctx, s);
  const pEmp = new Float64Array(n);
  const fit = ref.map((r) => {
    const l = Array.from(r, logit);
    const mu = l.reduce((a, b) => a + b, 0) / Math.max(1, l.length);
    const sd = Math.sqrt(l.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, l.length - 1)) || 1;
    return { mu, sd };
  });
  for (let i = 0; i < n; i++) {
    const y = inc.labels[i];
    pEmp[i] = referenceP(ref[y], fit[y].mu, fit[y].sd, proba[i * K + y]);
  }
  const cutoff = bhCutoff(pEmp, s.fdr);

  // Confident learning over the batch's own cross-validated probabilities.
  const cvp = batchCv(ctx, s).proba;
  const cl = confidentLearning(cvp, inc.labels, K);

  const rows: RowFlag[] = [];
  let nSig = 0;
  let nBoth = 0;
  const pairs = new Map<string, number>();
  const sigRows: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = inc.labels[i];
    let pred = 0;
    for (let c = 1; c < K; c++) if (proba[i * K + c] > proba[i * K + pred]) pred = c;
    const pl = proba[i * K + y].toFixed(2);
    if (pEmp[i] <= cutoff) {
      nSig++;
      sigRows.push(i);
      const both = cl.issue[i] === 1;
      if (both) nBoth++;
      const key = `${ctx.classes[y]} -> ${ctx.classes[pred]}`;
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
      rows.push({
        row: i,
        score: Math.min(1, s.rowScore + (both ? s.confidentLearningBoost : 0)),
        reason: `trusted model contradicts label ${ctx.classes[y]} (P=${pl}${both ? ', confident learning agrees' : ''})`,
      });
    } else if (pEmp[i] < 0.1 && (cl.issue[i] === 1 || pred !== y)) {
      const score = s.weakScore * (1 - pEmp[i] / 0.1) * (cl.issue[i] ? 1 : 0.6);
      if (score >= 0.02) {
        rows.push({
          row: i,
          score,
          reason: `label ${ctx.classes[y]} unlikely under the trusted model (P=${pl})${cl.issue[i] ? ', confident learning agrees' : ''}`,
        });
      }
    }
  }
  const findings = [];
  if (nSig > 0) {
    const top = [...pairs.entries()].sort((a, b) => b[1] - a[1]);
    findings.push(
      makeFinding(
        meta,
        `${nSig} incoming rows carry labels the trusted model contradicts, more than clean data explains (false discovery rate ${s.fdr}); ${nBoth} of them also flagged by confident learning.`,
        {
          location: { rows: sigRows.slice(0, 20).map((i) => inc.ids[i]), rowCount: nSig },
          evidence: {
            rows: nSig,
            confidentLearningAgrees: nBoth,
            flips: Object.fromEntries(top.slice(0, 10)),
            share: Number((nSig / n).toFixed(4)),
          },
          severity: nSig >= Math.max(10, 0.01 * n) ? 'high' : 'medium',
        },
      ),
    );
  }
  findings.push(
    makeFinding(
      meta,
      `Confident learning on the incoming batch estimates ${((100 * cl.issues) / Math.max(1, n)).toFixed(1)}% of labels as questionable (trusted model agreement: ${(100 * agreement(proba, inc.labels, K)).toFixed(1)}%).`,
      {
        severity: 'info',
        evidence: {
          confidentLearningIssues: cl.issues,
          thresholds: Array.from(cl.thresholds, (t) => Number(t.toFixed(3))),
          trustedModelIterations: tm.model.iterations,
        },
      },
    ),
  );
  return {
    findings,
    rows,
    publish: { trustedProba: proba, confidentIssue: cl.issue, cvProba: cvp },
    charts: { disagreement: { significant: nSig, confidentLearning: cl.issues, rows: n } },
  };
}

/** Benjamini-Hochberg on many p-values: the largest p(k) <= k q / m (native numeric sort, no index array). */
function bhCutoff(p: Float64Array, q: number): number {
  const sorted = Float64Array.from(p).sort();
  const m = sorted.length;
  let cut = -1;
  for (let k = 0; k < m; k++) if (sorted[k] <= ((k + 1) / m) * q) cut = sorted[k];
  return cut;
}

function agreement(proba: Float32Array, labels: Int32Array, K: number): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let pred = 0;
    for (let c = 1; c < K; c++) if (proba[i * K + c] > proba[i * K + pred]) pred = c;
    if (pred === labels[i]) ok++;
  }
  return labels.length ? ok / labels.length : 0;
}

export const detector: Detector = {
  meta,
  defaults: DISAGREEMENT_DEFAULTS,
  stage: 1,
  applies: (ctx) => ctx.classes.length >= 2 && ctx.trusted.n >= 4,
  run,
};
