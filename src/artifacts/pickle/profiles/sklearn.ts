/**
 * scikit-learn: every public estimator/transformer class and the internal helper classes fitted models
 * pickle (trees, loss and link objects, binners, distance metrics, KD/Ball trees), generated from the
 * installed scikit-learn by test/fixtures/pickle/gen_profiles.py into sklearn-generated.ts.
 */
import { sklearnClasses } from './sklearn-generated.js';

export const sklearnProfile: readonly string[] = sklearnClasses;
