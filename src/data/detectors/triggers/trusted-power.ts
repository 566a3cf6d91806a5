/**
 * What the trusted set can say about a pattern. Were the pattern's rows ordinary, the trusted set would hold
 * its share of them; below TRUSTED_POWER_ROWS expected there, it can neither show the pattern new
 * (over-represented in the batch) nor vouch for a natural one, and the tests that lean on it step aside.
 */
import { betaBinomialUpperTail } from '../../stats/shift.js';
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

/**
 * A pattern carries its label by nature through a part of it the trusted set knows: the part's trusted rows
 * (kt of nt with the label) carry the label more often than trusted rows at large do (`base`; binomial at
 * `level`, Bonferroni over the `parts` of the pattern tried), and the pattern's own rows (k of n with the label)
 * are no more often labelled so than the part's trusted rows let a row be (beta-binomial on their Jeffreys
 * posterior, at `level`). A name that decides its class ("emma" in "said emma") is such a part; a planted phrase
 * of ordinary words has none, and a part the trusted set has never seen vouches for nothing. Labels alone cannot
 * tell such a phrase from a plant made of words that mark the label by nature ("span" in spam): triggers.ts then
 * reads whether the phrase's rows are the part's kind of rows.
 */
export function labelledByNatureThroughPart(
  k: number,
  n: number,
  kt: number,
  nt: number,
  base: number,
  level: number,
  parts = 1,
): boolean {
  if (nt === 0 || binomialUpperTail(kt, nt, base) > level / Math.max(1, parts)) return false;
  return betaBinomialUpperTail(k, n, kt + 0.5, nt - kt + 0.5) > level;
}
