/**
 * The adapter-forensics reference: written by scripts/build-adapter-reference.ts from adapters trained here
 * (see its header); do not edit by hand.
 */
export const ADAPTER_REFERENCE = {
  version: 1,
  features: [
    'mean_log_top',
    'max_log_top',
    'mean_log_fro',
    'max_log_fro',
    'mean_energy_top1',
    'max_energy_top1',
    'mean_entropy',
    'min_entropy',
    'mean_log_kurtosis',
    'max_log_kurtosis',
  ],
  mean: [
    0.3342609156210181, 1.0135485420702746, 0.5140325281977216, 1.1078016400140742, 0.7226805897367319,
    0.9158016278366908, 0.4652536789879943, 0.18066930316013402, 1.8516060321524908, 2.1558947405513025,
  ],
  std: [
    0.6624734795169696, 0.6029867380389357, 0.6241422649203398, 0.5698800876069751, 0.1235214954107145,
    0.08561023651585548, 0.15500470249065282, 0.13894090522475805, 0.09772798950613365, 0.1536898265193025,
  ],
  weights: [
    0.33773061503425766, -0.05561564503763163, 0.3557844424301188, -0.2720636663572895, -0.20347676451989516,
    0.8454435755288924, 1.0185879614114897, -0.47100087036167404, 0.0777508354532651, -0.15128549902999391,
  ],
  bias: -0.12804283749089798,
  threshold: 0.7351070569569464,
  population: {
    benign: 12,
    backdoored: 11,
    description:
      'LoRA adapters (ranks 2-16, alphas r-32, attention/MLP/all targets) trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout model of make_models.py; backdoored ones add 5-20% trigger-phrase examples with an attacker-chosen continuation',
  },
  calibration: {
    auc: 0.5306122448979592,
    fpr: 0.14285714285714285,
    tpr: 0.14285714285714285,
    heldBack: 14,
    trainAuc: 0.8939393939393939,
    weakBackdoorsExcluded: 1,
    weakBackdoorsFlagged: 1,
  },
};
