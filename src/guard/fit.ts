/**
 * `antidote guard fit` as a library: run the promoted model on the trusted set and record what the guard
 * compares production against. The trusted rows are split (seeded) into fit rows (statistics, neighbour
 * index, STRIP pool, occlusion's reference model) and held-back calibration rows (thresholds): a threshold set
 * on the rows its statistics came from would be optimistic (STRIP, which fits nothing, is calibrated on every
 * trusted row). The false-alarm rate is split evenly between the calibrated checks
 * (activation, STRIP, occlusion) after a margin (FPR_MARGIN), so an instance of trusted traffic is flagged by any
 * of them at most at that rate; within activation, the largest of the normalised distances is calibrated
 * directly. Each threshold holds its rate for this calibration set with 90% confidence (linalg.ts,
 * conformalThreshold), not only on average, where the rows are enough for that; where they are too few the
 * threshold is read from the tail of their scores (tail.ts) and marked as extrapolated. Every threshold is set
 * per predicted class, so each class holds the rate, not only all of them together. Pure analysis:
 * returns the profile, writes nothing.
 */
import { createHash } from 'node:crypto';
import { schemaError, usageError } from '../core/errors.js';
import { toolVersion } from '../core/version.js';
import { fileDigest } from '../gate/gate.js';
import { httpModel } from '../gate/models/http.js';
import { type GateModel, type InputBatch, ModelError, sliceBatch } from '../gate/models/types.js';
import { readTable } from '../gate/read.js';
import { predictedClasses, rng } from '../gate/stats.js';
import { classesOf, featureColumns, isTextColumn, shapeTable } from '../gate/table.js';
import type { Positions } from './activation-model.js';
import {
  type ActivationModel,
  chooseLayers,
  loadActivationModel,
  readModelBytes,
} from './activation-model.js';
import { activationScore, DEFAULT_K, fitLayer, layerScorer, positionReference } from './checks/activation.js';
import {
  DEFAULT_MAX_COPIES,
  DEFAULT_MAX_SHARE,
  DEFAULT_MAX_SPAN,
  DEFAULT_REPLACEMENTS,
  decidingParts,
  fitReference,
  occlude,
  referenceOf,
  referenceProba,
  substituteValues,
} from './checks/occlusion.js';
import {
  DEFAULT_MIX_TABULAR,
  DEFAULT_MIX_TEXT,
  DEFAULT_PERTURBATIONS,
  perturb,
  stripScores,
} from './checks/strip.js';
import { hostBatch, pickHosts, transplant, transplantScores } from './checks/transplant.js';
import { DEFAULT_BINS, outputDistribution } from './distribution.js';
import { quantile } from './linalg.js';
import {
  encodeF32,
  FPR_MARGIN,
  type GuardProfile,
  type KnownTrigger,
  PROFILE_FORMAT,
  PROFILE_VERSION,
  type Threshold,
} from './profile.js';
import { sliceMatches, slicesOf } from './slices.js';
import { calibratedThreshold, perClassThresholds } from './tail.js';
import {
  type RawTrigger,
  triggerPresent,
  triggersFromAuditReport,
  triggersFromGateReport,
} from './triggers.js';

export interface FitOptions {
  model: string;
  trusted: string;
  label: string;
  id?: string;
  features?: string[];
  layers?: string[];
  audit?: string[];
  gate?: string[];
  slices?: string[];
  fpr?: number;
  seed?: number;
  /** Share of trusted rows held back for calibration (default 0.4). */
  calibrationShare?: number;
  strip?: {
    perturbations?: number;
    mix?: number;
    poolRows?: number;
    maxCalibrationRows?: number;
    off?: boolean;
  };
  occlusion?: { off?: boolean; maxSpan?: number; maxCalibrationRows?: number };
  k?: number;
  http?: { timeoutMs?: number; deadlineMs?: number };
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

export async function fitProfile(opts: FitOptions): Promise<GuardProfile> {
  const fpr = opts.fpr ?? 0.01;
  if (!(fpr > 0 && fpr < 0.5)) throw usageError(`--fpr must be between 0 and 0.5 (got ${fpr})`);
  const seed = opts.seed ?? 1;
  const raw = await readTable(opts.trusted);
  const classes = classesOf(raw, opts.label);
  if (classes.length < 2)
    throw schemaError(`${opts.trusted}: the label column "${opts.label}" has fewer than two classes`);
  const table = shapeTable(opts.trusted, raw, { label: opts.label, id: opts.id }, classes);
  const features = featureColumns(table, { label: opts.label, id: opts.id, features: opts.features });
  const k = classes.length;
  const inputs = features.map((name) => {
    const col = table.columns.get(name);
    return {
      name,
      type: col?.kind === 'number' ? ('number' as const) : ('string' as const),
      text: col ? isTextColumn(col) : false,
    };
  });
  const batch: InputBatch = {
    n: table.n,
    columns: new Map(features.map((f) => [f, table.columns.get(f)!])),
    ids: table.ids,
  };
  if (table.n < 50)
    throw schemaError(
      `${opts.trusted}: ${table.n} rows are too few to calibrate a guard`,
      'give at least a few hundred trusted rows',
    );

  // Model: an ONNX file (activations available) or an HTTP endpoint (outputs and STRIP only).
  const skipped: GuardProfile['skipped'] = {};
  let onnx: ActivationModel | undefined;
  let endpoint: GateModel | undefined;
  let digest: string;
  let layers: string[] = [];
  if (isUrl(opts.model)) {
    if (opts.layers?.length)
      throw usageError(
        `--layer ${opts.layers[0]}: ${opts.model} is an HTTP endpoint, which exposes no layers`,
        'give the ONNX file of the model to read activations',
      );
    endpoint = httpModel(opts.model, { classes: k, columns: features, ...opts.http });
    digest = endpoint.digest;
    skipped['guard/activation'] = 'the model is an HTTP endpoint; activations need its ONNX file';
  } else if (/\.(onnx|ort)$/i.test(opts.model)) {
    const read = await readModelBytes(opts.model);
    digest = read.digest;
    layers = chooseLayers(read.bytes, opts.layers, `ONNX model ${opts.model}`);
    if (!layers.length)
      skipped['guard/activation'] = 'the graph has no Gemm/MatMul layer to read; name one with --layer';
    onnx = await loadActivationModel(opts.model, { classes: k, layers, features: opts.features, ...read });
  } else
    throw usageError(
      `cannot tell what kind of model ${opts.model} is`,
      'give an .onnx file or an http(s):// endpoint',
    );

  try {
    const predict = async (b: InputBatch) =>
      onnx ? (await onnx.run(b)).probs : await (endpoint as GateModel).score(b);
    // Seeded split into fit and calibration rows.
    const order = Array.from({ length: table.n }, (_, i) => i);
    const rand = rng(seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const nCal = Math.round(table.n * (opts.calibrationShare ?? 0.4));
    const calRows = order.slice(0, nCal).sort((a, b) => a - b);
    const fitRows = order.slice(nCal).sort((a, b) => a - b);
    const calBatch = sliceBatch(batch, calRows);

    const run = onnx ? await onnx.run(batch) : undefined;
    if (onnx && run && layers.length) {
      // A layer must have one fixed shape per instance: compare with a run on the single shortest row.
      const one = await onnx.run(sliceBatch(batch, [shortestRow(batch)]));
      layers.forEach((l, li) => {
        if (one.dims[li] !== run.dims[li])
          throw usageError(
            `--layer ${l}: its size per instance changes with the input (${one.dims[li]} values for one row, ${run.dims[li]} for the trusted set), so it has no fixed shape`,
            'choose a tensor of shape [N, d], e.g. the input of the last Gemm/MatMul',
          );
      });
    }
    const probs = run ? run.probs : await predict(batch);
    const predicted = predictedClasses(probs, table.n, k);

    // Output distributions, overall and per slice.
    const sliceCols = opts.slices?.length ? opts.slices : features;
    for (const s of sliceCols)
      if (!table.columns.has(s))
        throw usageError(`--slices names "${s}", which ${opts.trusted} does not have`);
    const slices = slicesOf(table, sliceCols, Math.max(20, Math.ceil(table.n * 0.02))).map((s) => {
      const rows: number[] = [];
      for (let i = 0; i < table.n; i++) if (sliceMatches(s.rule, batch, i)) rows.push(i);
      return { text: s.text, rule: s.rule, distribution: outputDistribution(probs, k, DEFAULT_BINS, rows) };
    });

    // Known triggers and how often trusted rows already carry them.
    const rawTriggers: RawTrigger[] = [];
    for (const a of opts.audit ?? []) rawTriggers.push(...(await triggersFromAuditReport(a, inputs)));
    for (const g of opts.gate ?? []) rawTriggers.push(...(await triggersFromGateReport(g, inputs)));
    const triggers: KnownTrigger[] = rawTriggers.map((t) => {
      let hits = 0;
      for (let i = 0; i < table.n; i++) if (triggerPresent(t, batch, i)) hits++;
      const trustedRate = hits / table.n;
      return trustedRate > fpr
        ? {
            ...t,
            trustedRate,
            disabled: `present in ${(100 * trustedRate).toFixed(1)}% of trusted rows, above the false-alarm rate`,
          }
        : { ...t, trustedRate };
    });

    const calibrated = (layers.length ? 1 : 0) + (opts.strip?.off ? 0 : 1) + (opts.occlusion?.off ? 0 : 1);
    const alpha = (fpr * FPR_MARGIN) / Math.max(1, calibrated);
    const thresholds: GuardProfile['thresholds'] = { fpr, checks: {} };
    const thresholdOf = (scores: Float64Array, classOf?: ArrayLike<number>): Threshold => {
      if (!classOf) {
        const t = calibratedThreshold(scores, alpha);
        let over = 0;
        for (const s of scores) if (s > t.threshold) over++;
        return {
          threshold: t.threshold,
          fpr: alpha,
          calibrationRows: scores.length,
          observedFpr: scores.length ? over / scores.length : 0,
          expectedFpr: t.expectedFpr,
          ...(t.extrapolated ? { extrapolated: true } : {}),
        };
      }
      // Class by class: each predicted class keeps its own false-alarm rate, so the whole does too.
      const ofClass = Array.from({ length: k }, (_, c) => scores.filter((_, i) => classOf[i] === c));
      const perClass = perClassThresholds(ofClass, alpha);
      // Weighted by how often the model answers each class.
      let expectedFpr = 0;
      ofClass.forEach((x, c) => {
        if (scores.length) expectedFpr += (x.length / scores.length) * perClass[c].expectedFpr;
      });
      let over = 0;
      scores.forEach((s, i) => {
        if (s > perClass[classOf[i]].threshold) over++;
      });
      const finite = perClass.map((t) => t.threshold).filter(Number.isFinite);
      const finiteMax = finite.length ? Math.max(...finite) : Number.NaN;
      return {
        threshold: Number.isFinite(finiteMax) ? finiteMax : 1,
        fpr: alpha,
        calibrationRows: scores.length,
        observedFpr: scores.length ? over / scores.length : 0,
        perClass: perClass.map((t) => (Number.isFinite(t.threshold) ? t.threshold : Number.MAX_VALUE)),
        classRows: ofClass.map((x) => x.length),
        expectedFpr,
        ...(perClass.some((t) => t.extrapolated)
          ? {
              extrapolated: true,
              perClassSeen: perClass.map((t) => (Number.isFinite(t.seen) ? t.seen : Number.MAX_VALUE)),
            }
          : {}),
      };
    };

    // Activation statistics on fit rows, normalisers and threshold on calibration rows.
    let activation: GuardProfile['activation'];
    if (onnx && run && layers.length) {
      const kNeighbours = opts.k ?? DEFAULT_K;
      const fitPred = Int32Array.from(fitRows, (r) => predicted[r]);
      const calPred = Int32Array.from(calRows, (r) => predicted[r]);
      const profiles = layers.map((name, li) => {
        const d = run.dims[li];
        const all = run.layers[li];
        const pick = (rows: number[]) => {
          const out = new Float32Array(rows.length * d);
          rows.forEach((r, i) => {
            out.set(all.subarray(r * d, (r + 1) * d), i * d);
          });
          return out;
        };
        const p = fitLayer(name, pick(fitRows), d, fitPred, k);
        const seq = run.positions[li];
        let calPos: Positions | undefined;
        if (seq) {
          const ref = positionReference(subsetPositions(seq, fitRows), seed);
          p.positions = { d: seq.d, rows: ref.rows, vectors: encodeF32(ref.vectors), norm: 1 };
          calPos = subsetPositions(seq, calRows);
        }
        return { p, cal: pick(calRows), calPos };
      });
      for (const { p, cal, calPos } of profiles) {
        const scorer = await layerScorer(p, kNeighbours);
        if (p.positions && calPos && scorer.position) {
          const pd = new Float64Array(calRows.length);
          for (let i = 0; i < calRows.length; i++) pd[i] = scorer.position(calPos, i);
          p.positions.norm = quantile(pd, 0.99) || 1;
        }
        const m = new Float64Array(calRows.length);
        const nn = new Float64Array(calRows.length);
        const dis = new Float64Array(calRows.length);
        for (let i = 0; i < calRows.length; i++) {
          const dd = scorer.distances(cal, i * p.dim, calPred[i]);
          m[i] = Number.isFinite(dd.mahalanobis) ? dd.mahalanobis : 0;
          nn[i] = Number.isFinite(dd.knn) ? dd.knn : 0;
          dis[i] = dd.disagreement;
        }
        // A label-disagreement share below 0.1 at the 99th percentile is noise, not a scale.
        p.norm = {
          mahalanobis: quantile(m, 0.99) || 1,
          knn: quantile(nn, 0.99) || 1,
          disagreement: Math.max(0.1, quantile(dis, 0.99)),
        };
      }
      const scorers = await Promise.all(profiles.map(({ p }) => layerScorer(p, kNeighbours)));
      const cals = profiles.map(({ cal }) => cal);
      const calPositions = profiles.map(({ calPos }) => calPos);
      const norms = profiles.map(({ p }) => p.positions?.norm);
      const scores = new Float64Array(calRows.length);
      for (let i = 0; i < calRows.length; i++)
        scores[i] = activationScore(scorers, cals, i, calPred[i], calPositions, norms).score;
      thresholds.checks['guard/activation'] = thresholdOf(scores, calPred);
      const maxAbsDiff = await onnx.verify(calBatch);
      if (!(maxAbsDiff <= 1e-5))
        throw new ModelError(
          `exposing ${layers.join(', ')} as extra outputs changes the model's probabilities (by up to ${maxAbsDiff})`,
          'choose another --layer',
        );
      activation = {
        layers: profiles.map(({ p }) => p),
        k: kNeighbours,
        verified: { rows: calRows.length, maxAbsDiff },
      };
    }

    // STRIP: a pool of fit rows, perturbed calibration rows scored by the model.
    let strip: GuardProfile['strip'];
    if (opts.strip?.off) skipped['guard/strip'] = 'turned off at fit time';
    else {
      const P = opts.strip?.perturbations ?? DEFAULT_PERTURBATIONS;
      const mix = opts.strip?.mix ?? (inputs.some((c) => c.text) ? DEFAULT_MIX_TEXT : DEFAULT_MIX_TABULAR);
      const poolN = Math.min(opts.strip?.poolRows ?? 200, fitRows.length);
      const poolRows = [...fitRows];
      const r2 = rng(seed + 11);
      for (let i = poolRows.length - 1; i > 0; i--) {
        const j = Math.floor(r2() * (i + 1));
        [poolRows[i], poolRows[j]] = [poolRows[j], poolRows[i]];
      }
      const chosen = poolRows.slice(0, poolN);
      const pool: Record<string, Array<string | number | null>> = {};
      for (const f of features) {
        const col = batch.columns.get(f)!;
        pool[f] = chosen.map((r) =>
          col.kind === 'number' ? (Number.isNaN(col.values[r]) ? null : col.values[r]) : col.values[r],
        );
      }
      strip = { perturbations: P, mix, pool, poolRows: poolN, poolClasses: chosen.map((r) => predicted[r]) };
      // STRIP fits nothing: a row's copies mix it only with pool rows the model assigns to another class, never
      // with itself, so every trusted row (pool rows too) scores as a new instance would, and all of them
      // calibrate it. With few rows per class the threshold is the largest score seen, and every row added makes
      // that bound hold a smaller rate. (A pool of one class mixes rows with their own class, so its rows stay out.)
      const inPool = new Set(chosen);
      const oneClass = new Set(strip.poolClasses).size < 2;
      const stripRows = [...calRows, ...fitRows.filter((r) => !oneClass || !inPool.has(r))].slice(
        0,
        opts.strip?.maxCalibrationRows ?? 2000,
      );
      const rows = Array.from({ length: stripRows.length }, (_, i) => i);
      const text = new Set(inputs.filter((c) => c.text).map((c) => c.name));
      const calPred = stripRows.map((r) => predicted[r]);
      const copies = perturb(sliceBatch(batch, stripRows), rows, strip, text, P, mix, seed, calPred);
      const pp = await predict(copies);
      thresholds.checks['guard/strip'] = thresholdOf(stripScores(pp, rows.length, P, k, calPred), calPred);
    }

    // Occlusion: a reference fitted on fit rows' labels; calibration rows occluded and scored by the model.
    let occlusion: GuardProfile['occlusion'];
    if (opts.occlusion?.off) skipped['guard/occlusion'] = 'turned off at fit time';
    else {
      const fitBatch = sliceBatch(batch, fitRows);
      const fitLabels = Int32Array.from(fitRows, (r) => table.labels[r]);
      occlusion = {
        maxSpan: opts.occlusion?.maxSpan ?? DEFAULT_MAX_SPAN,
        maxShare: DEFAULT_MAX_SHARE,
        replacements: DEFAULT_REPLACEMENTS,
        maxCopies: DEFAULT_MAX_COPIES,
        values: substituteValues(batch, fitRows, inputs, seed),
        reference: fitReference(fitBatch, fitLabels, inputs, k),
        hosts: pickHosts(batch, fitRows, probs, k, seed),
      };
      const ref = referenceOf(occlusion.reference, inputs, k);
      const hosts = occlusion.hosts as NonNullable<typeof occlusion.hosts>;
      const hostClass = predictedClasses(Float64Array.from(hosts.probs), hosts.rows, k);
      const hostRef = referenceProba(ref, hostBatch(hosts, calBatch));
      // Calibrated on the held-back rows except those the promoted model answers against their label while the
      // reference reads them as labelled: such a row (a trusted row carrying a trigger) is what the check is for,
      // not a clean example. Rows both models get wrong (hard or noisy rows) stay: traffic has them too.
      const calRef = referenceProba(ref, calBatch);
      const refPred = predictedClasses(calRef, calRows.length, k);
      const agreeing = calRows.flatMap((r, j) =>
        predicted[r] === table.labels[r] || refPred[j] !== table.labels[r] ? [j] : [],
      );
      const maxCal = Math.min(agreeing.length, opts.occlusion?.maxCalibrationRows ?? 2000);
      const calPred = Array.from({ length: maxCal }, (_, i) => predicted[calRows[agreeing[i]]]);
      const rowProbs = new Float64Array(maxCal * k);
      for (let i = 0; i < maxCal; i++)
        for (let c = 0; c < k; c++) rowProbs[i * k + c] = probs[calRows[agreeing[i]] * k + c];
      const scores = new Float64Array(maxCal);
      // In chunks, so a large calibration set never holds every copy at once.
      for (let lo = 0; lo < maxCal; lo += 64) {
        const rows = agreeing.slice(lo, Math.min(maxCal, lo + 64));
        const occ = occlude(calBatch, rows, occlusion, inputs, seed);
        const cp = occ.copies.n ? await predict(occ.copies) : new Float64Array(0);
        const pred = calPred.slice(lo, lo + rows.length);
        const s = decidingParts(
          occ,
          rowProbs.subarray(lo * k, (lo + rows.length) * k),
          cp,
          referenceProba(ref, occ.copies),
          pred,
          k,
        );
        const t = transplant(calBatch, rows, occ, s, hosts, hostClass, pred, seed);
        const tp = t.copies.n ? await predict(t.copies) : new Float64Array(0);
        const ts = transplantScores(t, rows.length, tp, ref, hosts.probs, hostRef, pred, k);
        ts.forEach((x, j) => {
          scores[lo + j] = x.score;
        });
      }
      thresholds.checks['guard/occlusion'] = thresholdOf(scores, calPred);
    }

    return {
      format: PROFILE_FORMAT,
      version: PROFILE_VERSION,
      tool: { name: 'antidote', version: toolVersion() },
      createdAt: new Date().toISOString(),
      model: {
        kind: onnx ? 'onnx' : 'http',
        source: isUrl(opts.model) ? redact(opts.model) : opts.model,
        digest,
        ...(opts.features?.length ? { features: opts.features } : {}),
      },
      inputs,
      label: opts.label,
      classes,
      trusted: {
        path: opts.trusted,
        digest: await fileDigest(opts.trusted),
        rows: table.n,
        fitRows: fitRows.length,
        calibrationRows: calRows.length,
      },
      outputs: { bins: DEFAULT_BINS, overall: outputDistribution(probs, k, DEFAULT_BINS), slices },
      triggers,
      ...(activation ? { activation } : {}),
      ...(strip ? { strip } : {}),
      ...(occlusion ? { occlusion } : {}),
      thresholds,
      skipped,
    };
  } finally {
    await onnx?.close();
    await endpoint?.close();
  }
}

/** The position vectors of the given instances, in that order. */
function subsetPositions(pos: Positions, rows: number[]): Positions {
  const offsets = new Int32Array(rows.length + 1);
  let total = 0;
  rows.forEach((r, i) => {
    offsets[i] = total;
    total += pos.offsets[r + 1] - pos.offsets[r];
  });
  offsets[rows.length] = total;
  const vectors = new Float32Array(total * pos.d);
  rows.forEach((r, i) => {
    vectors.set(pos.vectors.subarray(pos.offsets[r] * pos.d, pos.offsets[r + 1] * pos.d), offsets[i] * pos.d);
  });
  return { d: pos.d, offsets, vectors };
}

/** The row whose text is shortest (the one most likely to change a shape that depends on the input). */
function shortestRow(batch: InputBatch): number {
  let best = 0;
  let len = Number.POSITIVE_INFINITY;
  for (let i = 0; i < batch.n; i++) {
    let l = 0;
    for (const col of batch.columns.values()) if (col.kind === 'string') l += col.values[i].length;
    if (l < len) {
      len = l;
      best = i;
    }
  }
  return best;
}

/** An endpoint's URL without credentials (they never go into a file). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return createHash('sha256').update(url).digest('hex');
  }
}
