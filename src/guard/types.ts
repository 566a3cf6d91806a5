/**
 * What the guard says about one instance. Stable interface for `guard proxy` and `guard replay`:
 * every instance gets an InstanceVerdict listing each check that ran (or why it did not).
 */
import type { InputBatch } from '../gate/models/types.js';
import type { CheckId } from './profile.js';

export interface CheckResult {
  id: CheckId;
  /** Higher is more suspicious; compare with `threshold` (flagged when score > threshold). */
  score: number;
  threshold: number;
  flagged: boolean;
  /** One sentence a person can act on (names the trigger, the layer, the entropy). */
  reason: string;
  /** Set when the check did not run for this instance (no model given, budget spent, upstream failed). */
  skipped?: string;
}

export interface InstanceVerdict {
  /** Row of the batch. */
  index: number;
  /** Predicted class index and name, from the probabilities the caller passed (the upstream's answer). */
  predicted: number;
  predictedClass: string;
  /** True when any check flagged the instance. */
  flagged: boolean;
  checks: CheckResult[];
}

/** Class probabilities (row-major n × k) for a batch: the upstream model, called for STRIP perturbations. */
export type Predict = (batch: InputBatch) => Promise<Float64Array>;
