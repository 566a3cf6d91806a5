/**
 * Instance scoring, the one entry point `guard proxy` and `guard replay` call:
 *
 *   const scorer = await createScorer(profile, { model: 'model.onnx', strip: { mode: 'flagged' } });
 *   const verdicts = await scorer.scoreBatch(batch, probabilities, predict);
 *   await scorer.close();
 *
 * `batch` holds the instances (column-oriented, as the gate's models take them), `probabilities` the model's
 * answer for them (row-major n × k, e.g. the upstream's response), `predict` a way to ask the model about
 * more inputs (STRIP's perturbed and occlusion's occluded copies; the proxy passes its upstream client). Each
 * verdict lists every check: guard/known-trigger always; guard/activation when the profile has layers and `model`
 * (the same ONNX file, digest checked) is given; guard/strip and guard/occlusion for the instances `strip.mode`
 * and `occlusion.mode` select, within their budgets.
 * A check that could not run says why in `skipped` and never flags; the caller decides what that means.
 */
import { usageError } from '../core/errors.js';
import type { InputBatch } from '../gate/models/types.js';
import { argmaxRow, binomialSf, predictedClasses } from '../gate/stats.js';
import { type ActivationModel, loadActivationModel, readModelBytes } from './activation-model.js';
import {
  activationScore,
  DEFAULT_K,
  type LayerScorer,
  layerScorer,
  type Measure,
  VOTE_K,
} from './checks/activation.js';
import { knownTriggerCheck } from './checks/known-trigger.js';
import { type Learned, learnedTriggerCheck, patternsOf, TriggerMemory } from './checks/learned-trigger.js';
import { decidingParts, type Occlusions, occlude, referenceOf, referenceProba } from './checks/occlusion.js';
import { perturb, stripScores } from './checks/strip.js';
import {
  hostBatch,
  patternCopies,
  type TransplantScore,
  transplant,
  transplantScores,
  uplift,
} from './checks/transplant.js';
import { FPR_MARGIN, type GuardProfile, type Threshold } from './profile.js';
import { rowHash } from './row-hash.js';
import { triggerPresent } from './triggers.js';
import type { CheckResult, InstanceVerdict, Predict } from './types.js';

export interface StripOptions {
  /** Which instances are perturbed: all, those another check flagged, a random share (`rate`), or none. */
  mode: 'all' | 'flagged' | 'sample' | 'off';
  /** Share of instances for mode `sample` (default 0.05); flagged instances are always included. */
  rate?: number;
  /** At most this many instances per batch are perturbed (default 64); the rest say so in `skipped`. */
  maxInstances?: number;
  /** Time allowed for the perturbed copies' predictions of one batch (default 2000 ms). */
  deadlineMs?: number;
}

/** Patterns tested by guard/learned-trigger in one batch at most (each costs one answer per held row). */
const MAX_TESTS_PER_BATCH = 8;

/** guard/occlusion runs like STRIP (the model answers every occluded copy), with the same choices and budget. */
export type OcclusionOptions = StripOptions;

export interface ScorerOptions {
  /** The promoted ONNX model (needed for guard/activation); its digest must be the profile's. */
  model?: string;
  strip?: StripOptions;
  occlusion?: OcclusionOptions;
  seed?: number;
}

export interface Scorer {
  profile: GuardProfile;
  /** Checks that will never run with these options, and why. */
  unavailable: Partial<Record<CheckResult['id'], string>>;
  scoreBatch(batch: InputBatch, probabilities: Float64Array, predict?: Predict): Promise<InstanceVerdict[]>;
  /** Triggers guard/learned-trigger has confirmed so far (oldest first). */
  learned(): Learned[];
  /** Take back the triggers a previous run learned (its state folder). */
  restoreLearned(learned: Learned[]): void;
  close(): Promise<void>;
}

export async function createScorer(profile: GuardProfile, opts: ScorerOptions = {}): Promise<Scorer> {
  const k = profile.classes.length;
  const unavailable: Scorer['unavailable'] = { ...profile.skipped };
  const known = knownTriggerCheck(profile);
  const memory = new TriggerMemory();
  const learnedCheck = learnedTriggerCheck(memory, profile.classes);
  let model: ActivationModel | undefined;
  let layers: LayerScorer[] = [];
  let positionNorms: Array<number | undefined> = [];
  const act = profile.activation;
  const actThreshold = profile.thresholds.checks['guard/activation'];
  if (act && actThreshold) {
    if (opts.model) {
      const { bytes, digest } = await readModelBytes(opts.model);
      if (digest !== profile.model.digest)
        throw usageError(
          `the profile was fitted for another model (${profile.model.digest.slice(0, 19)}…, ${opts.model} is ${digest.slice(0, 19)}…)`,
          'fit a profile for this model with `antidote guard fit`',
        );
      model = await loadActivationModel(opts.model, {
        classes: k,
        layers: act.layers.map((l) => l.name),
        features: profile.model.features,
        bytes,
        digest,
      });
      layers = await Promise.all(act.layers.map((l) => layerScorer(l, act.k)));
      positionNorms = act.layers.map((l) => l.positions?.norm);
    } else unavailable['guard/activation'] = 'no ONNX model given to read activations from';
  }
  const strip = profile.strip;
  const stripThreshold = profile.thresholds.checks['guard/strip'];
  const stripMode = opts.strip?.mode ?? 'flagged';
  if (!strip || !stripThreshold) unavailable['guard/strip'] ??= 'the profile has no STRIP calibration';
  else if (stripMode === 'off') unavailable['guard/strip'] = 'STRIP turned off';
  const occ = profile.occlusion;
  const occThreshold = profile.thresholds.checks['guard/occlusion'];
  const occMode = opts.occlusion?.mode ?? 'flagged';
  const reference = occ ? referenceOf(occ.reference, profile.inputs, k) : undefined;
  if (!occ || !occThreshold)
    unavailable['guard/occlusion'] ??=
      'the profile was fitted before guard/occlusion existed; fit it again with `antidote guard fit`';
  else if (!occ.hosts)
    unavailable['guard/occlusion'] ??=
      "the profile was fitted before guard/occlusion's transplant step; fit it again with `antidote guard fit`";
  else if (occMode === 'off') unavailable['guard/occlusion'] = 'occlusion turned off';
  const hosts = occ?.hosts;
  const hostClass = hosts ? predictedClasses(Float64Array.from(hosts.probs), hosts.rows, k) : undefined;
  let hostRef: Float64Array | undefined;
  let hostAgreement: ReturnType<typeof agreement> | undefined;
  const textCols = new Set(profile.inputs.filter((c) => c.text).map((c) => c.name));
  const seed = opts.seed ?? 1;
  let sampleState = seed >>> 0 || 1;
  const sample = () => {
    sampleState = (Math.imul(sampleState, 1664525) + 1013904223) >>> 0;
    return sampleState / 4294967296;
  };

  return {
    profile,
    unavailable,
    async scoreBatch(batch, probabilities, predict) {
      if (probabilities.length !== batch.n * k)
        throw usageError(`scoreBatch: ${probabilities.length / k} probability rows for ${batch.n} instances`);
      const verdicts: InstanceVerdict[] = [];
      const learnedBefore = memory.learned.length;
      for (let i = 0; i < batch.n; i++) {
        const predicted = argmaxRow(probabilities, i, k);
        verdicts.push({
          index: i,
          predicted,
          predictedClass: profile.classes[predicted],
          flagged: false,
          checks: [known(batch, i), learnedCheck(batch, i, predicted)],
        });
      }
      // Activation: one local run of the edited model for the whole batch.
      if (model && actThreshold) {
        const run = await model.run(batch);
        layers.forEach((l, li) => {
          if (run.dims[li] !== l.dim)
            throw usageError(
              `layer ${l.name} gives ${run.dims[li]} values per instance, the profile expects ${l.dim}`,
              'fit the profile again for this model',
            );
        });
        for (const v of verdicts) {
          const s = activationScore(layers, run.layers, v.index, v.predicted, run.positions, positionNorms);
          const threshold = thresholdFor(actThreshold, v.predicted);
          const flagged = s.score > threshold;
          v.checks.push({
            id: 'guard/activation',
            score: s.score,
            threshold,
            flagged,
            reason: `layer ${s.layer}: ${describeMeasure(s.which, v.predictedClass, act?.k ?? DEFAULT_K)} ${s.raw.toFixed(2)} (score ${s.score.toFixed(2)}, threshold ${threshold.toFixed(2)})`,
          });
        }
      } else if (unavailable['guard/activation'])
        for (const v of verdicts) v.checks.push(skip('guard/activation', unavailable['guard/activation']));
      // STRIP on the selected instances, within the budget.
      if (strip && stripThreshold && stripMode !== 'off') {
        const { chosen, notRun } = choose(verdicts, stripMode, opts.strip, sample);
        let scores: Float64Array | undefined;
        let failure = '';
        if (chosen.length && !predict) failure = 'no way to query the model for perturbed copies';
        else if (chosen.length && predict) {
          const chosenPred = chosen.map((i) => verdicts[i].predicted);
          const copies = perturb(
            batch,
            chosen,
            strip,
            textCols,
            strip.perturbations,
            strip.mix,
            seed,
            chosenPred,
          );
          try {
            const probs = await answer(predict, copies, k, opts.strip?.deadlineMs);
            scores = stripScores(probs, chosen.length, strip.perturbations, k, chosenPred);
          } catch (err) {
            failure = `the model could not score the perturbed copies: ${(err as Error).message.split('\n')[0]}`;
          }
        }
        const at = new Map(chosen.map((c, j) => [c, j]));
        for (const v of verdicts) {
          const j = at.get(v.index);
          if (j === undefined) v.checks.push(skip('guard/strip', notRun.get(v.index) ?? 'not selected'));
          else if (!scores) v.checks.push(skip('guard/strip', failure));
          else {
            const s = scores[j];
            const t = thresholdFor(stripThreshold, v.predicted);
            v.checks.push({
              id: 'guard/strip',
              score: s,
              threshold: t,
              flagged: s > t,
              reason: `mixed with ${strip.perturbations} trusted rows of other classes, the answer "${v.predictedClass}" keeps ${(100 * s).toFixed(1)}% probability on average (threshold ${(100 * t).toFixed(1)}%)`,
            });
          }
        }
      } else if (unavailable['guard/strip'])
        for (const v of verdicts) v.checks.push(skip('guard/strip', unavailable['guard/strip']));
      // Occlusion on the selected instances (chosen after STRIP, so its flags count for mode `flagged`).
      if (occ && occThreshold && reference && hosts && hostClass && occMode !== 'off') {
        const { chosen, notRun } = choose(verdicts, occMode, opts.occlusion, sample);
        let scores: TransplantScore[] | undefined;
        let found: number[][] = [];
        let occluded: Occlusions | undefined;
        let parts: string[][] = [];
        let failure = '';
        if (chosen.length && !predict) failure = 'no way to query the model for occluded copies';
        else if (chosen.length && predict) {
          const o = occlude(batch, chosen, occ, profile.inputs, seed);
          occluded = o;
          parts = o.parts;
          const rowProbs = new Float64Array(chosen.length * k);
          chosen.forEach((i, j) => {
            rowProbs.set(probabilities.subarray(i * k, (i + 1) * k), j * k);
          });
          try {
            const probs = o.copies.n
              ? await answer(predict, o.copies, k, opts.occlusion?.deadlineMs)
              : new Float64Array(0);
            const pred = chosen.map((i) => verdicts[i].predicted);
            found = decidingParts(o, rowProbs, probs, referenceProba(reference, o.copies), pred, k);
            const t = transplant(batch, chosen, o, found, hosts, hostClass, pred, seed);
            const tp = t.copies.n
              ? await answer(predict, t.copies, k, opts.occlusion?.deadlineMs)
              : new Float64Array(0);
            hostRef ??= referenceProba(reference, hostBatch(hosts, batch));
            scores = transplantScores(t, chosen.length, tp, reference, hosts.probs, hostRef, pred, k);
          } catch (err) {
            failure = `the model could not score the occluded copies: ${(err as Error).message.split('\n')[0]}`;
          }
        }
        const at = new Map(chosen.map((c, j) => [c, j]));
        for (const v of verdicts) {
          const j = at.get(v.index);
          if (j === undefined) v.checks.push(skip('guard/occlusion', notRun.get(v.index) ?? 'not selected'));
          else if (!scores) v.checks.push(skip('guard/occlusion', failure));
          else {
            const s = scores[j];
            const t = thresholdFor(occThreshold, v.predicted);
            v.checks.push({
              id: 'guard/occlusion',
              score: s.score,
              threshold: t,
              flagged: s.score > t,
              reason: describeTransplant(s, found[j], parts[j], v.predictedClass, hosts.perCandidate, t),
            });
          }
        }
        // An instance nominates what occlusion blamed when one of its candidate parts already passes, in that
        // instance, the test guard/learned-trigger will give the pattern alone (the part moves the model beyond
        // the reference by more than every calibration row's score), and the reference reads the instance
        // without that part as another class (the part decided an answer the rest contradicts). Patterns
        // nominated by enough distinct instances are tested.
        if (scores && occluded && predict && hostRef) {
          const due = new Set<ReturnType<TriggerMemory['observe']>[number]>();
          for (const [i, j] of at) {
            const s = scores[j];
            // A learned trigger already explains the instance: its parts are no evidence of another.
            if (verdicts[i].checks.some((x) => x.id === 'guard/learned-trigger' && x.flagged)) continue;
            const bar = seenFor(occThreshold, verdicts[i].predicted);
            const patterns = s.uplifts.flatMap((u, cand) =>
              u > bar && !s.restAgrees[cand]
                ? patternsOf(batch, i, occluded, j, found[j].slice(0, cand + 1))
                : [],
            );
            if (!patterns.length) continue;
            for (const c of memory.observe(patterns, verdicts[i].predicted, rowHash(batch, i, seed)))
              due.add(c);
          }
          const hb = hostBatch(hosts, batch);
          hostAgreement ??= agreement(hostClass, hostRef, k);
          const { refClass, againstRate } = hostAgreement;
          let tests = 0;
          // A learned trigger may flag the share of the false-alarm rate the calibrated checks leave (FPR_MARGIN)
          // of the held trusted rows: those carrying it (flagged on sight), or, for a pattern too common for that,
          // those carrying it that the model answers with its class (flagged only then).
          const cap = Math.floor(hb.n * (1 - FPR_MARGIN) * profile.thresholds.fpr);
          for (const c of due) {
            // Held trusted rows carrying the pattern, and those of them the model already answers with its class.
            let carrying = 0;
            let answered = 0;
            let against = 0;
            for (let h = 0; h < hb.n; h++)
              if (triggerPresent(c.pattern, hb, h)) {
                carrying++;
                if (hostClass[h] !== c.cls) continue;
                answered++;
                if (refClass[h] !== c.cls) against++;
              }
            const wronged = wrongedCarriers(carrying, against, againstRate[c.cls]);
            // Too common to flag on sight: flagged where answered with the class, if that is rare enough; if
            // not, rejected without asking the model.
            const onlyAnswered = wronged > cap;
            if (onlyAnswered && answered - (carrying - wronged) > cap) {
              memory.settle(c, undefined);
              continue;
            }
            if (tests++ >= MAX_TESTS_PER_BATCH) break;
            const { copies, host } = patternCopies(hosts, hb, c.pattern, hostClass, c.cls, seed);
            let probs: Float64Array;
            try {
              probs = await answer(predict, copies, k, opts.occlusion?.deadlineMs);
            } catch {
              continue;
            }
            const u = uplift(host, probs, referenceProba(reference, copies), hosts.probs, hostRef, c.cls, k);
            const confirmed = u.model - u.reference > seenFor(occThreshold, c.cls);
            memory.settle(
              c,
              confirmed
                ? {
                    modelWith: u.modelWith,
                    referenceWith: u.referenceWith,
                    ...(onlyAnswered ? { answered: true as const } : {}),
                  }
                : undefined,
            );
          }
        }
      } else if (unavailable['guard/occlusion'])
        for (const v of verdicts) v.checks.push(skip('guard/occlusion', unavailable['guard/occlusion']));
      // A trigger learned from this batch flags the batch's own instances too: their answers are still in hand.
      if (memory.learned.length > learnedBefore)
        for (const v of verdicts) {
          const at = v.checks.findIndex((c) => c.id === 'guard/learned-trigger');
          if (at >= 0 && !v.checks[at].flagged) v.checks[at] = learnedCheck(batch, v.index, v.predicted);
        }
      for (const v of verdicts) v.flagged = v.checks.some((c) => c.flagged);
      return verdicts;
    },
    learned: () => [...memory.learned],
    restoreLearned: (learned) => memory.restore(learned),
    async close() {
      await model?.close();
    },
  };
}

/** 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st. */
export function ordinal(k: number): string {
  const teen = k % 100 >= 11 && k % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th');
  return `${k}${suffix}`;
}

function describeMeasure(which: Measure, cls: string, k: number): string {
  if (which === 'knn') return `distance to the ${ordinal(k)} nearest trusted "${cls}" activation`;
  if (which === 'position') return 'distance from its most unusual word position to the nearest trusted one';
  if (which === 'disagreement')
    return `share of the ${VOTE_K} nearest trusted activations the model answers otherwise than "${cls}"`;
  return `Mahalanobis distance to trusted "${cls}" activations`;
}

/** What the transplant step found, in the words of the part it tried. */
function describeTransplant(
  s: TransplantScore,
  top: number[] | undefined,
  parts: string[],
  cls: string,
  hosts: number,
  t: number,
): string {
  if (!top?.length || s.candidate < 0) return 'no part of the instance moves the answer when occluded';
  const names = top.slice(0, s.candidate + 1).map((p) => parts[p].replace(/^(removing|replacing) /, ''));
  return `the answer "${cls}" depends on ${names.join(' and ')}; written into ${hosts} trusted rows the model answers otherwise, it gives "${cls}" ${pct(s.modelWith)} on average, a model of the trusted data ${pct(s.referenceWith)}; that model reads the rest of the instance as "${cls}" ${pct(s.referenceRest)} (score ${s.score.toFixed(3)}, threshold ${t.toFixed(3)})`;
}

const pct = (p: number) => `${(100 * p).toFixed(1)}%`;

/** The instances a costly check (STRIP, occlusion) runs on, and why the others are left out. */
function choose(
  verdicts: InstanceVerdict[],
  mode: StripOptions['mode'],
  o: StripOptions | undefined,
  sample: () => number,
) {
  const chosen: number[] = [];
  const notRun = new Map<number, string>();
  const max = o?.maxInstances ?? 64;
  for (const v of verdicts) {
    const flaggedAlready = v.checks.some((c) => c.flagged);
    const want = mode === 'all' || flaggedAlready || (mode === 'sample' && sample() < (o?.rate ?? 0.05));
    if (!want) notRun.set(v.index, mode === 'flagged' ? 'not flagged by another check' : 'not sampled');
    else if (chosen.length >= max) notRun.set(v.index, `over the budget of ${max} instances per batch`);
    else chosen.push(v.index);
  }
  return { chosen, notRun };
}

/** The model's answer for extra copies, within a deadline (default 2000 ms). */
async function answer(
  predict: Predict,
  copies: InputBatch,
  k: number,
  deadlineMs = 2000,
): Promise<Float64Array> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const probs = await Promise.race([
      predict(copies),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
      }),
    ]);
    if (probs.length !== copies.n * k) throw new Error('the model answered the wrong number of rows');
    return probs;
  } finally {
    clearTimeout(timer);
  }
}

/** The threshold that applies to an instance of predicted class `cls`. */
export function thresholdFor(t: Threshold, cls: number): number {
  return t.perClass?.[cls] ?? t.threshold;
}

/**
 * Beyond every calibration score of the class: where the flagging threshold was extrapolated past that, what still
 * nominates a pattern for guard/learned-trigger and what its own test (an uplift averaged over many trusted rows,
 * far steadier than one instance's score) must beat.
 */
export function seenFor(t: Threshold, cls: number): number {
  return t.perClassSeen?.[cls] ?? thresholdFor(t, cls);
}

/** The reference's answer on each held row, and per class the share of held rows the model answers so against it. */
function agreement(hostClass: ArrayLike<number>, hostRef: Float64Array, k: number) {
  const refClass = predictedClasses(hostRef, hostClass.length, k);
  const againstRate = new Float64Array(k);
  for (let h = 0; h < hostClass.length; h++)
    if (refClass[h] !== hostClass[h]) againstRate[hostClass[h]] += 1 / hostClass.length;
  return { refClass, againstRate };
}

/**
 * The held trusted rows already carrying a pattern that a flag would wrong. Rows the promoted model answers with
 * the pattern's class where a model of the trusted data answers otherwise are what a backdoor firing on a natural
 * carrier looks like, and a flag there is right; they are discounted only when that happens to the carriers more
 * often than to held rows at large (one-sided binomial, 5%), since a weak model disagrees with the reference by
 * chance too.
 */
export function wrongedCarriers(carrying: number, against: number, againstRate: number): number {
  if (!against) return carrying;
  return binomialSf(against, carrying, againstRate) <= 0.05 ? carrying - against : carrying;
}

function skip(id: CheckResult['id'], why: string): CheckResult {
  return { id, score: 0, threshold: 0, flagged: false, reason: `not run: ${why}`, skipped: why };
}
