/**
 * The guard layer's public surface (what `guard proxy` and `guard replay` import):
 *   profile.ts       GuardProfile, readProfile, writeProfile, serializeProfile
 *   scorer.ts        createScorer(profile, opts) -> scoreBatch(batch, probabilities, predict?)
 *   types.ts         InstanceVerdict, CheckResult, Predict
 *   distribution.ts  outputDistribution, psiOfHistograms (per-window output shift)
 *   slices.ts        sliceMatches (which profile slices an instance belongs to)
 *   fit.ts           fitProfile (used by `guard fit`)
 */
export * from './distribution.js';
export * from './profile.js';
export * from './scorer.js';
export * from './slices.js';
export * from './triggers.js';
export * from './types.js';
