/**
 * What the proxy and the replayer need from a guard profile: the classes, the input columns and the output
 * distributions on the trusted set (overall and per slice). A narrow structural view of the profile written by
 * `antidote guard fit` (src/guard/profile.ts), so the transport does not depend on the scorers' internals.
 */

export interface OutputDist {
  n: number;
  classShares: number[];
  /** Per class, counts of its probability in `bins` equal-width bins over [0, 1]. */
  histograms: number[][];
}

export type SliceRule =
  | { op: 'eq'; column: string; value: string }
  | { op: 'missing'; column: string }
  | { op: 'range'; column: string; lo: number | null; hi: number | null }
  | { op: 'contains'; column: string; token: string };

export interface WatchProfile {
  model: { digest: string; features?: string[] };
  inputs: Array<{ name: string; type: 'number' | 'string'; text: boolean }>;
  classes: string[];
  outputs: {
    bins: number;
    overall: OutputDist;
    slices: Array<{ text: string; rule: SliceRule; distribution: OutputDist }>;
  };
}

/** One check's result on one instance (the scorer's CheckResult, src/guard/types.ts). */
export interface CheckOutcome {
  id: string;
  score: number;
  threshold: number;
  flagged: boolean;
  reason: string;
  skipped?: string;
}

export interface InstanceOutcome {
  index: number;
  predicted: number;
  predictedClass: string;
  flagged: boolean;
  checks: CheckOutcome[];
}

/** The instance scorer (src/guard/scorer.ts createScorer): checks every instance of a batch. */
export interface InstanceScorer {
  scoreBatch(
    batch: import('../../gate/models/types.js').InputBatch,
    probabilities: Float64Array,
    predict?: (batch: import('../../gate/models/types.js').InputBatch) => Promise<Float64Array>,
  ): Promise<InstanceOutcome[]>;
  /** Triggers learned at run time (guard/learned-trigger), when the scorer learns any. */
  learned?(): import('../checks/learned-trigger.js').Learned[];
  close(): Promise<void>;
}
