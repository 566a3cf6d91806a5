/**
 * JSON nesting bounded before any parser that recurses sees the data: DuckDB's JSON reader segfaulted on
 * JSON Lines nested 100,000 deep (exit 139, nothing on stderr), and our own walkers, zod and
 * JSON.stringify overflow the stack on deep values. The scan is a byte-level state machine (strings and
 * escapes skipped), streaming for files, so it costs no memory and cannot itself recurse.
 */
import { createReadStream } from 'node:fs';
import { zlib } from './builtins.js';
import { LIMITS } from './limits.js';

export interface DepthScan {
  depth: number;
  inString: boolean;
  escaped: boolean;
  line: number;
}

export const newDepthScan = (): DepthScan => ({ depth: 0, inString: false, escaped: false, line: 1 });

/** Feed bytes (or a string's char codes); returns the line where nesting first exceeds `max`, else 0. */
export function feedDepth(s: DepthScan, chunk: Uint8Array | string, max: number): number {
  const text = typeof chunk === 'string';
  for (let i = 0; i < chunk.length; i++) {
    const c = text ? (chunk as string).charCodeAt(i) : (chunk as Uint8Array)[i];
    if (c === 10) s.line++;
    if (s.inString) {
      if (s.escaped) s.escaped = false;
      else if (c === 92) s.escaped = true;
      else if (c === 34) s.inString = false;
      continue;
    }
    if (c === 34) s.inString = true;
    else if (c === 91 || c === 123) {
      if (++s.depth > max) return s.line;
    } else if (c === 93 || c === 125) {
      if (s.depth > 0) s.depth--;
    }
  }
  return 0;
}

/** Throws when `text` nests deeper than `max` (default LIMITS.json.maxDepth); then JSON.parse. */
export function parseJsonBounded(text: string, max = LIMITS.json.maxDepth): unknown {
  const line = feedDepth(newDepthScan(), text, max);
  if (line) throw new JsonDepthError(max, line);
  return JSON.parse(text);
}

export class JsonDepthError extends Error {
  constructor(
    readonly max: number,
    readonly line: number,
  ) {
    super(`JSON nests deeper than ${max} levels (line ${line})`);
  }
}

/** Stream a (possibly gzip-compressed) file and throw JsonDepthError at the first line nested too deeply. */
export async function assertFileJsonDepth(
  path: string,
  gz: boolean,
  max = LIMITS.json.maxDepth,
): Promise<void> {
  const s = newDepthScan();
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gz ? raw.pipe(zlib().createGunzip()) : raw;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const line = feedDepth(s, chunk, max);
      if (line) throw new JsonDepthError(max, line);
    }
  } finally {
    raw.destroy();
    if (stream !== raw) (stream as ReturnType<typeof import('node:zlib').createGunzip>).destroy();
  }
}
