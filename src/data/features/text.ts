/**
 * Text to token hashes. A token is a run of letters, digits, apostrophes, underscores or any non-ASCII
 * character (so words of every script and emoji sequences stay whole); every other visible ASCII character
 * (punctuation) is a token of its own. ASCII letters are lower-cased. Tokens are stored as 32-bit hashes
 * in one flat array with row offsets (CSR), so a million rows cost two typed arrays, not a million arrays.
 * Word n-grams are derived on demand from consecutive token hashes (see `ngramHash`).
 */
import { combineMany, hashRange } from './hash.js';

export interface TokenizedText {
  /** offsets[i]..offsets[i+1] index `tokens` for row i (length n + 1). */
  offsets: Int32Array;
  tokens: Uint32Array;
}

/** 0 = separator (space, control), 1 = word character, 2 = punctuation (a token of its own). */
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c <= 32 || c === 127) CLASS[c] = 0;
  else if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 39 || c === 95)
    CLASS[c] = 1;
  else CLASS[c] = 2;
}

function charClass(c: number): number {
  if (c < 128) return CLASS[c];
  // Unicode white space that appears in real text.
  if (
    c === 0xa0 ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x3000 ||
    (c >= 0x2000 && c <= 0x200b) ||
    c === 0xfeff
  )
    return 0;
  return 1;
}

/** Whether the token starting at s[i] is a word (not a punctuation mark). */
export function isWordAt(s: string, i: number): boolean {
  return charClass(s.charCodeAt(i)) === 1;
}

/** Call `emit(hash, start, end)` for each token of s. */
export function forEachToken(s: string, emit: (h: number, start: number, end: number) => void): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const cls = charClass(s.charCodeAt(i));
    if (cls === 0) {
      i++;
      continue;
    }
    if (cls === 2) {
      emit(hashRange(s, i, i + 1), i, i + 1);
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && charClass(s.charCodeAt(j)) === 1) j++;
    emit(hashRange(s, i, j), i, j);
    i = j;
  }
}

/** Token strings of s (lower-cased), for reports. */
export function tokenStrings(s: string): string[] {
  const out: string[] = [];
  forEachToken(s, (_h, a, b) => out.push(s.slice(a, b).toLowerCase()));
  return out;
}

/** Tokenise a column of texts into CSR token hashes. `maxTokensPerRow` bounds hostile rows. */
export function tokenizeColumn(texts: readonly string[], maxTokensPerRow = 512): TokenizedText {
  const n = texts.length;
  const offsets = new Int32Array(n + 1);
  let cap = Math.max(1024, n * 24);
  let tokens = new Uint32Array(cap);
  let k = 0;
  let count = 0;
  const emit = (h: number) => {
    if (count >= maxTokensPerRow) return;
    if (k === cap) {
      cap *= 2;
      const t = new Uint32Array(cap);
      t.set(tokens);
      tokens = t;
    }
    tokens[k++] = h;
    count++;
  };
  for (let i = 0; i < n; i++) {
    offsets[i] = k;
    count = 0;
    forEachToken(texts[i] ?? '', emit);
  }
  offsets[n] = k;
  return { offsets, tokens: tokens.slice(0, k) };
}

/** Hash of the word n-gram tokens[start .. start+len) (len 1 is the token hash itself, re-tagged). */
export function ngramHash(tokens: Uint32Array, start: number, len: number): number {
  return len === 1 ? tokens[start] : combineMany(tokens, start, len);
}

/** The n-gram strings of one text whose hash is `h` (used to name a mined trigger). */
export function findNgram(s: string, h: number, maxN: number): string | undefined {
  const toks: number[] = [];
  const spans: Array<[number, number]> = [];
  forEachToken(s, (t, a, b) => {
    toks.push(t);
    spans.push([a, b]);
  });
  const arr = Uint32Array.from(toks);
  for (let len = 1; len <= maxN; len++) {
    for (let i = 0; i + len <= arr.length; i++) {
      if (ngramHash(arr, i, len) === h) {
        return spans
          .slice(i, i + len)
          .map(([a, b]) => s.slice(a, b).toLowerCase())
          .join(' ');
      }
    }
  }
  return undefined;
}
