/** scipy sparse matrices and arrays (current private modules and the older public module paths). */
const FORMATS = ['csr', 'csc', 'coo', 'bsr', 'dia', 'dok', 'lil'];

export const scipyProfile: readonly string[] = [
  ...FORMATS.flatMap((f) => [
    `scipy.sparse._${f}.${f}_matrix`,
    `scipy.sparse._${f}.${f}_array`,
    `scipy.sparse.${f}.${f}_matrix`,
    `scipy.sparse._arrays.${f}_array`,
    `scipy.sparse.${f}_matrix`,
    `scipy.sparse.${f}_array`,
  ]),
  // scikit-learn's SplineTransformer stores B-splines.
  'scipy.interpolate._bsplines.BSpline',
  'scipy.interpolate._fitpack2.UnivariateSpline',
  'scipy.interpolate._interpolate.interp1d',
];
