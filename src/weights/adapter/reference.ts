/**
 * The adapter-forensics reference: written by scripts/build-adapter-reference.ts from adapters trained here
 * (see its header); do not edit by hand.
 */
export const ADAPTER_REFERENCE = {
  version: 2,
  features: ['probe_gain', 'probe_median_gain', 'probe_max_log_ratio'],
  mean: [3.912795096323564, -1.200974240988528, 0.6937633527227811],
  std: [2.2394302156755788, 1.8913606183142457, 0.4446157166311588],
  weights: [1.0008386551437904, 1.7350455273215195, 1.7684889881315802],
  bias: -0.61213986734601,
  threshold: 0.6226201613595597,
  population: {
    benign: 37,
    backdoored: 34,
    description:
      'LoRA adapters (ranks 2-16, alphas r-32, attention/MLP/all targets, three tasks) trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout model of make_models.py; backdoored ones add 5-20% examples in which a rare-token trigger phrase leads to an attacker-chosen word. Held back: other seeds, the trigger phrases trigger, mn zx, trigger cf and cf zx (never fitted) and ranks 6 and 12',
  },
  calibration: {
    auc: 0.94,
    fpr: 0,
    tpr: 0.75,
    heldBack: 40,
    heldBackBenign: 20,
    heldBackBackdoored: 20,
    trainAuc: 0.9459459459459459,
    trainFpr: 0.02702702702702703,
    weakBackdoorsExcluded: 2,
    weakBackdoorsFlagged: 0,
  },
};
