/** What every gate check reads, and the settings with their defaults (all overridable through the library). */
import type { GateTable } from './table.js';

export interface GateSettings {
  seed: number;
  /** Bootstrap replicates and confidence level of the intervals. */
  replicates: number;
  confidence: number;
  /** A regression smaller than this practical margin is not a finding even when significant. */
  margins: { accuracy: number; log_loss: number; auc: number; recall: number };
  slices: {
    minSize: number;
    margin: number;
    alpha: number;
    maxTerms: number;
    beam: number;
    minNetLosses: number;
  };
  shift: { psiMajor: number; minFlips: number; coverage: number; maxShare: number; minRegionShift: number };
  probes: {
    rows: number;
    minFlipRate: number;
    minExcess: number;
    alpha: number;
    controls: number;
    maxTriggers: number;
  };
}

export const DEFAULT_SETTINGS: GateSettings = {
  seed: 1,
  replicates: 500,
  confidence: 0.95,
  margins: { accuracy: 0.005, log_loss: 0.01, auc: 0.005, recall: 0.05 },
  slices: { minSize: 20, margin: 0.05, alpha: 0.05, maxTerms: 3, beam: 20, minNetLosses: 5 },
  shift: { psiMajor: 0.25, minFlips: 10, coverage: 0.5, maxShare: 0.2, minRegionShift: 0.1 },
  probes: { rows: 200, minFlipRate: 0.4, minExcess: 0.25, alpha: 0.01, controls: 20, maxTriggers: 200 },
};

export interface GateContext {
  trusted: GateTable;
  classes: string[];
  /** Input columns (everything but label and id, or --features). */
  features: string[];
  /** Probabilities on the trusted rows, n × k. */
  incumbent: Float64Array;
  candidate: Float64Array;
  settings: GateSettings;
}
