/**
 * The two tests the window checks need beyond the shared ones: the chi-square test of a window's class counts
 * against the trusted counts (a 2 × k contingency table, so the profile's own sampling error counts), and the
 * chi-square survival function (Wilson-Hilferty cube-root approximation; good to a few per cent of p in the
 * tail, which is all a threshold at 0.01 / scopes needs).
 */
import { normalUpperTail } from '../../data/stats/tests.js';

export function chiSquareSf(x: number, df: number): number {
  if (df <= 0) return 1;
  if (!(x > 0)) return 1;
  const a = 2 / (9 * df);
  const z = ((x / df) ** (1 / 3) - (1 - a)) / Math.sqrt(a);
  return normalUpperTail(z);
}

/** Two-sample chi-square of counts `a` (trusted) against `b` (window); classes empty in both are dropped. */
export function chiSquareTwoSample(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { stat: number; df: number; p: number } {
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    na += a[i];
    nb += b[i];
  }
  if (na === 0 || nb === 0) return { stat: 0, df: 0, p: 1 };
  const n = na + nb;
  let stat = 0;
  let cells = 0;
  for (let i = 0; i < a.length; i++) {
    const col = a[i] + b[i];
    if (col === 0) continue;
    cells++;
    const ea = (na * col) / n;
    const eb = (nb * col) / n;
    stat += (a[i] - ea) ** 2 / ea + (b[i] - eb) ** 2 / eb;
  }
  const df = cells - 1;
  return { stat, df, p: chiSquareSf(stat, df) };
}
