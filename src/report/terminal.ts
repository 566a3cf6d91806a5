/**
 * Text meant for a terminal carries values from the data: zip entry names, file names, column values,
 * trigger tokens. An escape sequence among them could rewrite the screen (clear a BLOCK line, fake a
 * PASS, set the window title), so every string of a report is escaped before a text renderer sees it.
 * JSON output needs none of this (JSON.stringify escapes control characters).
 */

// C0 controls except tab, DEL, C1 controls, and the bidirectional overrides that reorder what is shown.
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const c = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (c === 0x1b) return '\\e';
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u{${c.toString(16)}}`;
}

/** One string made safe to print: control characters and escape sequences shown as visible escapes. */
export function termSafe(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** A copy of `value` with every string in it (keys included) made safe to print. */
export function termSafeDeep<T>(value: T): T {
  return walk(value, 0) as T;
}

function walk(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return termSafe(v);
  if (v === null || typeof v !== 'object' || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
  if (ArrayBuffer.isView(v) || v instanceof Date) return v;
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [walk(k, depth + 1), walk(x, depth + 1)]));
  if (v instanceof Set) return new Set([...v].map((x) => walk(x, depth + 1)));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[termSafe(k)] = walk(x, depth + 1);
  return out;
}
