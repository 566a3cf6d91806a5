/**
 * Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4/7.5) with a backtracking Armijo line search, over
 * Float64Array parameters. Hand-written: no maintained npm optimiser works on plain typed arrays without a
 * large numeric library, and the two-loop recursion is thirty lines.
 */
export interface LbfgsOptions {
  maxIter: number;
  /** History size. */
  m?: number;
  /** Stop when the relative decrease of f over one iteration falls below this. */
  tol?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
}

/**
 * Minimise f. `fg(x, g)` returns f(x) and writes the whole gradient into g.
 *
 * Each pass over the parameters does as much as it can (the update of one two-loop step and the dot product
 * the next step needs; the new pair and its dot products), and the history reuses its arrays: a pass over a
 * hundred thousand parameters costs about what a sparse gradient does, so half the passes is half the fit.
 * The arithmetic is the textbook recursion's, operation for operation.
 */
export function lbfgs(
  fg: (x: Float64Array, g: Float64Array) => number,
  x0: Float64Array,
  opts: LbfgsOptions,
): LbfgsResult {
  const n = x0.length;
  const m = opts.m ?? 8;
  const tol = opts.tol ?? 1e-7;
  let x: Float64Array = Float64Array.from(x0);
  let g: Float64Array = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  /** y.y of the newest pair (the initial Hessian's scale). */
  let yyLast = 0;
  const d = new Float64Array(n);
  let xNew: Float64Array = new Float64Array(n);
  let gNew: Float64Array = new Float64Array(n);
  let sBuf: Float64Array = new Float64Array(n);
  let yBuf: Float64Array = new Float64Array(n);
  const alpha = new Float64Array(m);
  let it = 0;
  for (; it < opts.maxIter; it++) {
    // Two-loop recursion: d = -H g.
    const k = S.length;
    let gd = 0;
    if (k > 0) {
      let a = 0;
      const Sk = S[k - 1];
      for (let i = 0; i < n; i++) {
        d[i] = -g[i];
        a += Sk[i] * d[i];
      }
      for (let j = k - 1; j >= 0; j--) {
        alpha[j] = rho[j] * a;
        const na = -alpha[j];
        const Yj = Y[j];
        if (j > 0) {
          const Sp = S[j - 1];
          a = 0;
          for (let i = 0; i < n; i++) {
            const di = d[i] + na * Yj[i];
            d[i] = di;
            a += Sp[i] * di;
          }
        } else for (let i = 0; i < n; i++) d[i] += na * Yj[i];
      }
      const gamma = yyLast > 0 ? 1 / (rho[k - 1] * yyLast) : 1;
      let b = 0;
      const Y0 = Y[0];
      for (let i = 0; i < n; i++) {
        d[i] *= gamma;
        b += Y0[i] * d[i];
      }
      for (let j = 0; j < k; j++) {
        const coef = alpha[j] - rho[j] * b;
        const Sj = S[j];
        if (j < k - 1) {
          const Yn = Y[j + 1];
          b = 0;
          for (let i = 0; i < n; i++) {
            const di = d[i] + coef * Sj[i];
            d[i] = di;
            b += Yn[i] * di;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const di = d[i] + coef * Sj[i];
            d[i] = di;
            gd += g[i] * di;
          }
        }
      }
    } else {
      for (let i = 0; i < n; i++) d[i] = -g[i];
      const gn = Math.sqrt(dot(g, g));
      if (gn === 0) break;
      for (let i = 0; i < n; i++) d[i] /= Math.max(1, gn);
      gd = dot(g, d);
    }
    if (gd >= 0) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      for (let i = 0; i < n; i++) d[i] = -g[i];
      gd = dot(g, d);
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      if (gd === 0) break;
    }
    let step = 1;
    let fNew = f;
    let accepted = false;
    for (let ls = 0; ls < 30; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * gd) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const si = xNew[i] - x[i];
      const yi = gNew[i] - g[i];
      sBuf[i] = si;
      yBuf[i] = yi;
      sy += si * yi;
      yy += yi * yi;
    }
    if (sy > 1e-12) {
      let sFree: Float64Array | undefined;
      let yFree: Float64Array | undefined;
      if (S.length === m) {
        sFree = S.shift();
        yFree = Y.shift();
        rho.shift();
      }
      S.push(sBuf);
      Y.push(yBuf);
      rho.push(1 / sy);
      yyLast = yy;
      sBuf = sFree ?? new Float64Array(n);
      yBuf = yFree ?? new Float64Array(n);
    }
    const rel = (f - fNew) / Math.max(1, Math.abs(f));
    // The accepted point and gradient become current; the old arrays are the next trial's.
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = fNew;
    if (rel < tol) {
      it++;
      break;
    }
  }
  return { x, f, iterations: it };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
