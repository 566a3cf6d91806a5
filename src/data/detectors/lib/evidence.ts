/** A rate or statistic for a finding's evidence: three decimals, as a number. */
export const round3 = (x: number): number => Number(x.toFixed(3));
