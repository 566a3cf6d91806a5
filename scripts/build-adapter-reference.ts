/**
 * Fits the adapter-forensics classifier (src/weights/adapter/reference.ts) on a population of LoRA adapters
 * trained here by test/fixtures/weights/make_adapters.py, and reports its calibration on a second population
 * held back from the fit: other seeds, trigger phrases no fitted adapter used, and ranks the fit never saw.
 * Usage:
 *   /usr/bin/python3 test/fixtures/weights/make_adapters.py FIT_DIR --base MODELS_DIR --n 50
 *   /usr/bin/python3 test/fixtures/weights/make_adapters.py HELD_DIR --base MODELS_DIR --n 20 --heldout
 *   npx tsx scripts/build-adapter-reference.ts FIT_DIR HELD_DIR [--write]
 * Each folder holds its base (base/) beside the adapters. Without --write it only reports. Backdoored
 * adapters whose trigger did not take (attack success under 50%) are reported apart: their weights carry no
 * working backdoor, so they count neither as positives nor as negatives. The probe figures of each adapter
 * are kept in FOLDER/.probe-features.json so that a second run does not probe again.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROBE_VERSION } from '../src/weights/adapter/probe.js';
import { assessAdapter, PROBE_FEATURES, probeVector } from '../src/weights/adapter/score.js';
import { openModel, type TensorStore } from '../src/weights/store.js';

interface Label {
  backdoor: boolean;
  attack_success?: number;
  trigger?: string;
}
interface Row {
  name: string;
  x: number[];
  y: number;
  weak: boolean;
  trigger?: string;
}

const [fitDir, heldDir] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!fitDir || (!heldDir && !process.argv.includes('--probe-only'))) {
  console.error('usage: build-adapter-reference.ts FIT_DIR HELD_DIR [--write]');
  process.exit(2);
}

async function probePopulation(dir: string, log = true): Promise<Row[]> {
  const labels: Record<string, Label> = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'));
  const cachePath = join(dir, '.probe-features.json');
  const kept = existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
  const cache: Record<string, number[]> = kept.version === PROBE_VERSION ? kept.features : {};
  const baseDir = join(dir, 'base');
  let base: TensorStore | undefined;
  const rows: Row[] = [];
  for (const [name, l] of Object.entries(labels).sort()) {
    let x = cache[name];
    if (!x) {
      base ??= await openModel(baseDir);
      const t0 = performance.now();
      const store = await openModel(join(dir, name));
      const a = await assessAdapter(join(dir, name), store, { store: base, path: baseDir });
      await store.close();
      if (!a.probe) throw new Error(`${name}: the probe did not run (${a.probeSkipped})`);
      x = probeVector(a.probe);
      cache[name] = x;
      writeFileSync(`${cachePath}.tmp`, JSON.stringify({ version: PROBE_VERSION, features: cache }));
      renameSync(`${cachePath}.tmp`, cachePath);
      if (log)
        console.error(`${dir} ${name} ${l.backdoor ? 'backdoor' : 'benign'} ${x.map((v) => v.toFixed(3)).join(' ')} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    rows.push({ name, x, y: l.backdoor ? 1 : 0, weak: l.backdoor && (l.attack_success ?? 1) < 0.5, trigger: l.trigger });
  }
  await base?.close();
  return rows;
}

const only = process.argv.indexOf('--probe-only');
if (only > 0) {
  // Fill one folder's cache and stop (two folders can then be probed by two processes at once).
  await probePopulation(process.argv[only + 1]);
  process.exit(0);
}
const all = await probePopulation(fitDir);
const heldAll = await probePopulation(heldDir);
const train = all.filter((r) => !r.weak);
const held = heldAll.filter((r) => !r.weak);
const d = PROBE_FEATURES.length;
const mean = Array.from({ length: d }, (_, j) => train.reduce((a, r) => a + r.x[j], 0) / train.length);
const std = Array.from(
  { length: d },
  (_, j) => Math.sqrt(train.reduce((a, r) => a + (r.x[j] - mean[j]) ** 2, 0) / train.length) || 1,
);
const z = (x: number[]) => x.map((v, j) => (v - mean[j]) / std[j]);

// L2-regularised logistic regression by gradient descent (three features: no library needed).
const w = new Array(d).fill(0);
let b = 0;
const lambda = 0.01;
for (let it = 0; it < 20000; it++) {
  const gw = new Array(d).fill(0);
  let gb = 0;
  for (const r of train) {
    const xs = z(r.x);
    const p = 1 / (1 + Math.exp(-(b + xs.reduce((a, v, j) => a + v * w[j], 0))));
    for (let j = 0; j < d; j++) gw[j] += (p - r.y) * xs[j];
    gb += p - r.y;
  }
  for (let j = 0; j < d; j++) w[j] -= 0.2 * (gw[j] / train.length + lambda * w[j]);
  b -= 0.2 * (gb / train.length);
}
const score = (x: number[]) => 1 / (1 + Math.exp(-(b + z(x).reduce((a, v, j) => a + v * w[j], 0))));

function auc(set: Row[]): number {
  const pos = set.filter((r) => r.y === 1).map((r) => score(r.x));
  const neg = set.filter((r) => r.y === 0).map((r) => score(r.x));
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return pos.length && neg.length ? s / (pos.length * neg.length) : Number.NaN;
}
// Threshold: just above the 95th percentile of the fitted benign adapters' scores, and at least 0.5.
const negTrain = train
  .filter((r) => r.y === 0)
  .map((r) => score(r.x))
  .sort((a, c) => a - c);
const q95 = negTrain[Math.min(negTrain.length - 1, Math.ceil(0.95 * negTrain.length) - 1)] ?? 0.5;
const threshold = Math.max(0.5, Math.min(0.95, q95 + 1e-6));
const rate = (set: Row[], y: number) => {
  const s = set.filter((r) => r.y === y);
  return s.filter((r) => score(r.x) >= threshold).length / Math.max(1, s.length);
};
const weak = [...all, ...heldAll].filter((r) => r.weak);
const calibration = {
  auc: auc(held),
  fpr: rate(held, 0),
  tpr: rate(held, 1),
  heldBack: held.length,
  heldBackBenign: held.filter((r) => r.y === 0).length,
  heldBackBackdoored: held.filter((r) => r.y === 1).length,
  trainAuc: auc(train),
  trainFpr: rate(train, 0),
  weakBackdoorsExcluded: weak.length,
  weakBackdoorsFlagged: weak.filter((r) => score(r.x) >= threshold).length,
};
const population = {
  benign: train.filter((r) => r.y === 0).length,
  backdoored: train.filter((r) => r.y === 1).length,
  description:
    'LoRA adapters (ranks 2-16, alphas r-32, attention/MLP/all targets, three tasks) trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout model of make_models.py; backdoored ones add 5-20% examples in which a rare-token trigger phrase leads to an attacker-chosen word. Held back: other seeds, the trigger phrases trigger, mn zx, trigger cf and cf zx (never fitted) and ranks 6 and 12',
};
console.log(
  `adapters: fitted ${all.length} (${train.length} used), held back ${heldAll.length} (${held.length} used); weak backdoors excluded ${weak.length}`,
);
console.log(`| set | benign | backdoored | AUC | FPR at ${threshold.toFixed(3)} | TPR |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [n, set] of [
  ['fitted', train],
  ['held back', held],
] as const)
  console.log(
    `| ${n} | ${set.filter((r) => r.y === 0).length} | ${set.filter((r) => r.y === 1).length} | ${auc(set).toFixed(3)} | ${rate(set, 0).toFixed(3)} | ${rate(set, 1).toFixed(3)} |`,
  );
const byTrigger = new Map<string, Row[]>();
for (const r of held.filter((x) => x.y === 1)) byTrigger.set(r.trigger ?? '?', [...(byTrigger.get(r.trigger ?? '?') ?? []), r]);
for (const [t, rs] of byTrigger)
  console.log(`held-back trigger "${t}": ${rs.filter((r) => score(r.x) >= threshold).length} of ${rs.length} flagged`);
console.log('weights:', PROBE_FEATURES.map((f, j) => `${f}=${w[j].toFixed(2)}`).join(' '), `bias=${b.toFixed(2)}`);
if (process.argv.includes('--write')) {
  const ref = { version: 2, features: [...PROBE_FEATURES], mean, std, weights: w, bias: b, threshold, population, calibration };
  const out = `/**\n * The adapter-forensics reference: written by scripts/build-adapter-reference.ts from adapters trained here\n * (see its header); do not edit by hand.\n */\nexport const ADAPTER_REFERENCE = ${JSON.stringify(ref, null, 2)};\n`;
  const path = new URL('../src/weights/adapter/reference.ts', import.meta.url).pathname;
  writeFileSync(`${path}.tmp`, out);
  renameSync(`${path}.tmp`, path);
  console.log('wrote src/weights/adapter/reference.ts');
}
