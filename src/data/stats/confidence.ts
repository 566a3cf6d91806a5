/**
 * Confidence bounds the audit reads counts at. One standard for every detector: a count that decides whether
 * rows are quarantined is read at its one-sided 95% bound (z = 1.645), in the direction that favours "clean
 * data explains it" (a small reference's share of low-probability rows at its upper bound, an account's rate
 * at its lower bound), so a handful of rows never reads as a pile.
 */

/** Standard errors of every one-sided bound the audit reads a count at (95%). */
export const EVIDENCE_Z = 1.645;

/** Wilson score interval of a share x/n at z standard errors; [0, 1] when n is 0. */
export function wilson(x: number, n: number, z = EVIDENCE_Z): { lower: number; upper: number } {
  if (n <= 0) return { lower: 0, upper: 1 };
  const ph = x / n;
  const z2 = z * z;
  const mid = ph + z2 / (2 * n);
  const half = z * Math.sqrt((ph * (1 - ph)) / n + z2 / (4 * n * n));
  return {
    lower: Math.max(0, (mid - half) / (1 + z2 / n)),
    upper: Math.min(1, (mid + half) / (1 + z2 / n)),
  };
}
