/** How a time role's values (source.ts timeExpr: epoch ms, or a number as written) are shown in reports. */

/**
 * A time value (timeExpr's number) as people read it: epoch milliseconds and epoch seconds as ISO 8601 (a
 * number from 1e9 is taken as seconds, 2001 on; from 1e11 as milliseconds, 1973 on), a smaller number (a day
 * or window counter) as written.
 */
export function timeText(t: number): string | null {
  if (!Number.isFinite(t)) return null;
  if (Math.abs(t) >= 1e11) return new Date(t).toISOString();
  if (Math.abs(t) >= 1e9) return new Date(t * 1000).toISOString();
  return String(t);
}
