/**
 * joblib's array wrapper: a plain data holder (subclass, shape, order, dtype) that joblib's loader replaces by
 * the array whose bytes follow it. The legacy NDArrayWrapper/ZNDArrayWrapper (joblib < 0.10) are not listed:
 * they make joblib open other files named in the pickle.
 */
export const joblibProfile: readonly string[] = [
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
];
