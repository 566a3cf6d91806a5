/** Placeholder until scripts/build-adapter-reference.ts writes the fitted reference. */
export const ADAPTER_REFERENCE = {
  version: 1,
  features: [] as string[],
  mean: [] as number[],
  std: [] as number[],
  weights: [] as number[],
  bias: 0,
  threshold: 0.5,
  population: { benign: 0, backdoored: 0, description: '' },
  calibration: { auc: 0, fpr: 0, tpr: 0, heldBack: 0 },
};
