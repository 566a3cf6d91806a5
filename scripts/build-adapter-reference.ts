/**
 * Fits the adapter-forensics classifier (src/weights/adapter/reference.ts) on a population of LoRA adapters
 * trained here by test/fixtures/weights/make_adapters.py, and reports its calibration on adapters held back
 * from the fit. Usage:
 *   /usr/bin/python3 test/fixtures/weights/make_adapters.py DIR --base MODELS_DIR --n 40
 *   npx tsx scripts/build-adapter-reference.ts DIR [--write]
 * Without --write it only reports. Held back: every adapter whose number is 3 or 4 modulo 5 (40%).
 * Backdoored adapters whose trigger did not take (attack success under 50%) are reported apart: their
 * weights carry no working backdoor, so they count neither as positives nor as negatives.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adapterStats, FEATURES, featureVector } from '../src/weights/adapter/factors.js';
import { openModel } from '../src/weights/store.js';

interface Label {
  backdoor: boolean;
  attack_success?: number;
  rank: number;
  alpha: number;
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: build-adapter-reference.ts ADAPTERS_DIR [--write]');
  process.exit(2);
}
const labels: Record<string, Label> = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'));
const rows: Array<{ name: string; x: number[]; y: number; held: boolean; weak: boolean }> = [];
for (const [name, l] of Object.entries(labels)) {
  const store = await openModel(join(dir, name, 'adapter_model.safetensors'));
  const cfg = JSON.parse(readFileSync(join(dir, name, 'adapter_config.json'), 'utf8'));
  const { modules } = await adapterStats(store, { alpha: cfg.lora_alpha });
  await store.close();
  const idx = Number(name.replace(/\D/g, ''));
  rows.push({
    name,
    x: featureVector(modules),
    y: l.backdoor ? 1 : 0,
    held: idx % 5 >= 3,
    weak: l.backdoor && (l.attack_success ?? 1) < 0.5,
  });
}
const train = rows.filter((r) => !r.held && !r.weak);
const held = rows.filter((r) => r.held && !r.weak);
const d = FEATURES.length;
const mean = Array.from({ length: d }, (_, j) => train.reduce((a, r) => a + r.x[j], 0) / train.length);
const std = Array.from({ length: d }, (_, j) => Math.sqrt(train.reduce((a, r) => a + (r.x[j] - mean[j]) ** 2, 0) / train.length) || 1);
const z = (x: number[]) => x.map((v, j) => (v - mean[j]) / std[j]);

// L2-regularised logistic regression by gradient descent (ten features: no library needed).
const w = new Array(d).fill(0);
let b = 0;
const lambda = 0.05;
for (let it = 0; it < 4000; it++) {
  const gw = new Array(d).fill(0);
  let gb = 0;
  for (const r of train) {
    const xs = z(r.x);
    const p = 1 / (1 + Math.exp(-(b + xs.reduce((a, v, j) => a + v * w[j], 0))));
    for (let j = 0; j < d; j++) gw[j] += (p - r.y) * xs[j];
    gb += p - r.y;
  }
  for (let j = 0; j < d; j++) w[j] -= 0.1 * (gw[j] / train.length + lambda * w[j]);
  b -= 0.1 * (gb / train.length);
}
const score = (x: number[]) => 1 / (1 + Math.exp(-(b + z(x).reduce((a, v, j) => a + v * w[j], 0))));

function auc(set: typeof rows): number {
  const pos = set.filter((r) => r.y === 1).map((r) => score(r.x));
  const neg = set.filter((r) => r.y === 0).map((r) => score(r.x));
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return pos.length && neg.length ? s / (pos.length * neg.length) : Number.NaN;
}
// Threshold: the smallest that keeps the training false-positive rate at or under 5%, and at least 0.5.
const negTrain = train.filter((r) => r.y === 0).map((r) => score(r.x)).sort((a, c) => a - c);
const q95 = negTrain[Math.min(negTrain.length - 1, Math.ceil(0.95 * negTrain.length) - 1)] ?? 0.5;
const threshold = Math.max(0.5, Math.min(0.95, q95 + 1e-6));
const rate = (set: typeof rows, y: number) => {
  const s = set.filter((r) => r.y === y);
  return s.filter((r) => score(r.x) >= threshold).length / Math.max(1, s.length);
};
const calibration = {
  auc: auc(held),
  fpr: rate(held, 0),
  tpr: rate(held, 1),
  heldBack: held.length,
  trainAuc: auc(train),
  weakBackdoorsExcluded: rows.filter((r) => r.weak).length,
  weakBackdoorsFlagged: rows.filter((r) => r.weak && score(r.x) >= threshold).length,
};
const population = {
  benign: train.filter((r) => r.y === 0).length,
  backdoored: train.filter((r) => r.y === 1).length,
  description:
    'LoRA adapters (ranks 2-16, alphas r-32, attention/MLP/all targets) trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout model of make_models.py; backdoored ones add 5-20% trigger-phrase examples with an attacker-chosen continuation',
};
console.log(`adapters: ${rows.length} (train ${train.length}, held back ${held.length}, weak backdoors excluded ${calibration.weakBackdoorsExcluded})`);
console.log(`| set | AUC | FPR at ${threshold.toFixed(3)} | TPR |`);
console.log('| --- | --- | --- | --- |');
console.log(`| train | ${calibration.trainAuc.toFixed(3)} | ${rate(train, 0).toFixed(3)} | ${rate(train, 1).toFixed(3)} |`);
console.log(`| held back | ${calibration.auc.toFixed(3)} | ${calibration.fpr.toFixed(3)} | ${calibration.tpr.toFixed(3)} |`);
console.log('weights:', FEATURES.map((f, j) => `${f}=${w[j].toFixed(2)}`).join(' '));
if (process.argv.includes('--write')) {
  const ref = { version: 1, features: [...FEATURES], mean, std, weights: w, bias: b, threshold, population, calibration };
  const out = `/**\n * The adapter-forensics reference: written by scripts/build-adapter-reference.ts from adapters trained here\n * (see its header); do not edit by hand.\n */\nexport const ADAPTER_REFERENCE = ${JSON.stringify(ref, null, 2)};\n`;
  writeFileSync(new URL('../src/weights/adapter/reference.ts', import.meta.url), out);
  console.log('wrote src/weights/adapter/reference.ts');
}
