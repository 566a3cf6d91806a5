/**
 * Append one array to another without spreading it into call arguments: `a.push(...b)` passes every
 * element of `b` as an argument and overflows the stack once `b` has ~100k elements (a lock with 120k
 * changed entries did), so every append in src/ goes through here.
 */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const x of items) target.push(x);
  return target;
}
