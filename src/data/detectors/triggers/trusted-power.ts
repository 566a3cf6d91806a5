/**
 * What the trusted set can say about a pattern. Were the pattern's rows ordinary, the trusted set would hold
 * its share of them; below TRUSTED_POWER_ROWS expected there, it can neither show the pattern new
 * (over-represented in the batch) nor vouch for a natural one, and the tests that lean on it step aside.
 */
import { binomialUpperTail } from '../../stats/tests.js';

/** Fewest rows the trusted set must be expected to hold for it to show an excess. */
export const TRUSTED_POWER_ROWS = 5;

/** Trusted rows expected among `rows` (batch and trusted together) were they ordinary. */
export function expectedTrustedRows(rows: number, trusted: number, incoming: number): number {
  return (rows * trusted) / Math.max(1, incoming + trusted);
}

/**
 * A pattern carries its label by nature when its rows with that label are no more common in the batch than in
 * the trusted set (k incoming rows, kt trusted ones; pRef the batch's share of both sets' rows): not
 * over-represented at the nominal `level`, where the trusted set could show it. A natural pattern does so in
 * the trusted rows too, however a model of them misreads it; a plant adds rows the trusted set does not have.
 * Where the trusted set cannot tell, false.
 */
export function labelledByNature(k: number, kt: number, pRef: number, level: number): boolean {
  return (k + kt) * (1 - pRef) >= TRUSTED_POWER_ROWS && binomialUpperTail(k, k + kt, pRef) > level;
}
