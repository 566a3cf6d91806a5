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

/** Minimise f. `fg(x, g)` returns f(x) and writes the gradient into g. */
export function lbfgs(
  fg: (x: Float64Array, g: Float64Array) => number,
  x0: Float64Array,
  opts: LbfgsOptions,
): LbfgsResult {
  const n = x0.length;
  const m = opts.m ?? 8;
  const tol = opts.tol ?? 1e-7;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  let it = 0;
  for (; it < opts.maxIter; it++) {
    // Two-loop recursion: d = -H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      alpha[j] = rho[j] * dot(S[j], d);
      axpy(-alpha[j], Y[j], d);
    }
    if (k > 0) {
      const yy = dot(Y[k - 1], Y[k - 1]);
      const gamma = yy > 0 ? 1 / (rho[k - 1] * yy) : 1;
      for (let i = 0; i < n; i++) d[i] *= gamma;
    } else {
      const gn = Math.sqrt(dot(g, g));
      if (gn === 0) break;
      for (let i = 0; i < n; i++) d[i] /= Math.max(1, gn);
    }
    for (let j = 0; j < k; j++) {
      const beta = rho[j] * dot(Y[j], d);
      axpy(alpha[j] - beta, S[j], d);
    }
    let gd = dot(g, d);
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
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const rel = (f - fNew) / Math.max(1, Math.abs(f));
    x.set(xNew);
    g.set(gNew);
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

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}
