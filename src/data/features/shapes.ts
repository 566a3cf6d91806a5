/**
 * Structural patterns of a text, for trigger mining: what a template, a header or a style leaves behind
 * when no word or phrase is new. Per text:
 *   - header fields (`x-mailer: outlook express 5.00`): the leading `Field: value` lines of a mail, up to the
 *     first blank line, each one pattern (a field and its value are one unit a sender chooses) that covers
 *     the tokens of its line;
 *   - per sentence (the first few and the last): its first one and two words, its last one and two words,
 *     its skeleton (function words and punctuation kept, each run of other words one `_`, the first six
 *     symbols: `when _ , _ .`) and its frame (an opening function word and the clause marks: `when , .`);
 *   - its punctuation sequence (the first eight marks), the marks it ends with (`! !`, `. . .`), its
 *     casing (all lower, all upper, every word capitalised) and its opening word's (capitals; lower case);
 *   - the same shapes of a mail's Subject line, apart from the body's.
 * Keys are built from the tokeniser's hashes (no strings: a million mail bodies stay cheap), each kind with
 * a tag of its own so they never meet a word n-gram's hash; names are built only to report a pattern.
 */
import { combine, fmix, hashString } from './hash.js';
import { forEachToken, isWordAt } from './text.js';

/** English function words (closed classes): what a syntactic template is made of. */
const FUNCTION_WORDS = (
  'a an the this that these those some any no every each all both either neither ' +
  'i me my mine you your yours he him his she her hers it its we us our ours they them their theirs ' +
  'who whom whose which what when where why how whether if unless because since although though while ' +
  'as than so such too very not nor or and but yet for of in on at by to from with without into onto ' +
  'about above below after before during until upon over under between through against among ' +
  'is am are was were be been being do does did done have has had having will would shall should ' +
  'can could may might must there here then now just only also even still ever never once'
).split(' ');
const FUNCTION = new Set(FUNCTION_WORDS.map((w) => hashString(w)));

/** Sentences of a text whose shapes are mined: the first few and the last. */
const FIRST_SENTENCES = 3;

const TAG = {
  starts: fmix(0x51a7),
  ends: fmix(0x51a8),
  skeleton: fmix(0x51a9),
  frame: fmix(0x51aa),
  punctuation: fmix(0x51ab),
  casing: fmix(0x51ac),
  header: fmix(0x51ad),
  ending: fmix(0x51ae),
  subject: fmix(0x51af),
  opening: fmix(0x51b0),
};
const GAP = fmix(0x5f5f);
const CASING = { upper: 1, lower: 2, title: 3, mixed: 4 } as const;

/** One shape of a text: its key, the tokens it covers (0: none; else count * 1024 + first), its name. */
export type ShapeEmit = (key: number, span: number, name?: () => string) => void;

interface HeaderField {
  name: string;
  from: number;
  to: number;
}

/** Header block: `Field: value` lines from the top, up to the first blank line; and where the body starts. */
function headerFields(text: string): { fields: HeaderField[]; bodyAt: number } {
  if (!/^[A-Za-z][A-Za-z0-9-]*:[ \t]/.test(text)) return { fields: [], bodyAt: 0 };
  const end = text.search(/\r?\n[ \t]*\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const fields: HeaderField[] = [];
  const re = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$/gm;
  for (let m = re.exec(head); m; m = re.exec(head)) {
    const value = m[2].trim();
    if (!value) continue;
    fields.push({
      name: `${m[1].toLowerCase()}: ${value.toLowerCase().slice(0, 120)}`,
      from: m.index,
      to: m.index + m[0].length,
    });
  }
  return { fields, bodyAt: end < 0 ? text.length : end };
}

const END_MARKS = new Set(['.', '!', '?'].map((c) => hashString(c)));

/** Tokens the tokeniser keeps of the text being visited: a covering shape ends before it. */
let tokenCap = 512;

/** Token buffers reused across texts (no object per token: a million texts stay cheap). */
let H = new Uint32Array(1024);
let A = new Int32Array(1024);
let B = new Int32Array(1024);
let W = new Uint8Array(1024);
let BR = new Uint8Array(1024);

function grow(): void {
  const g = <T extends Uint32Array | Int32Array | Uint8Array>(x: T): T => {
    const y = new (x.constructor as new (n: number) => T)(x.length * 2);
    y.set(x);
    return y;
  };
  H = g(H);
  A = g(A);
  B = g(B);
  W = g(W);
  BR = g(BR);
}

/**
 * Visit the shapes of one text in a fixed order (the order names and keys share). `named` builds names;
 * `maxTokens` is the tokeniser's cap (a header field beyond it covers no token).
 */
export function forEachShape(text: string, emit: ShapeEmit, named = false, maxTokens = 512): void {
  tokenCap = maxTokens;
  const { fields, bodyAt } = headerFields(text);
  let n = 0;
  let prevEnd = 0;
  forEachToken(text, (h, a, b) => {
    if (n === H.length) grow();
    // A line break between two tokens ends a sentence.
    let br = 0;
    for (let i = prevEnd; i < a; i++) if (text.charCodeAt(i) === 10) br = 1;
    H[n] = h;
    A[n] = a;
    B[n] = b;
    W[n] = isWordAt(text, a) ? 1 : 0;
    BR[n] = br;
    n++;
    prevEnd = b;
  });
  const str = (k: number) => text.slice(A[k], B[k]).toLowerCase();
  const named_ = named ? str : undefined;
  for (const f of fields) {
    let t = 0;
    while (t < n && A[t] < f.from) t++;
    let e = t;
    while (e < n && A[e] < f.to) e++;
    const span = e > t && e <= maxTokens && t < 1024 ? (e - t) * 1024 + t : 0;
    emit(combine(TAG.header, hashString(f.name)), span, named ? () => f.name : undefined);
    // A Subject line is prose: its shapes count too (past `subject` and `:`).
    if (f.name.startsWith('subject: ') && e - t > 2) passageShapes(text, t + 2, e, emit, named_, TAG.subject);
  }
  let first = 0;
  while (first < n && A[first] < bodyAt) first++;
  if (first < n) passageShapes(text, first, n, emit, named_, 0);
}

/** Shapes of a passage (tokens [from, to)): its sentences, punctuation, ending marks and casing. */
function passageShapes(
  text: string,
  from: number,
  to: number,
  emitAll: ShapeEmit,
  str: ((k: number) => string) | undefined,
  salt: number,
): void {
  // A passage other than the body keeps keys (and names) of its own.
  const emit: ShapeEmit = salt
    ? (key, span, name) => emitAll(combine(salt, key), span, name && (() => `subject ${name()}`))
    : emitAll;
  // Sentences [start, end): split after a run of . ! ? and at line breaks.
  const starts: number[] = [from];
  for (let k = from + 1; k < to; k++) {
    if (BR[k] || (END_MARKS.has(H[k - 1]) && !END_MARKS.has(H[k]))) starts.push(k);
  }
  starts.push(to);
  const S = starts.length - 1;
  for (let j = 0; j < S; j++) {
    if (j >= FIRST_SENTENCES && j !== S - 1) continue;
    sentenceShapes(starts[j], starts[j + 1], emit, str);
  }
  // Punctuation sequence, the marks the passage ends with, and casing.
  let h = TAG.punctuation;
  const marks: number[] = [];
  for (let k = from; k < to && marks.length < 8; k++) {
    if (W[k]) continue;
    marks.push(k);
    h = combine(h, H[k]);
  }
  if (marks.length > 0) emit(h, 0, str ? () => `punctuation: ${marks.map(str).join(' ')}` : undefined);
  let e = to;
  while (e > from && !W[e - 1] && to - e < 4) e--;
  if (e < to) {
    let he = TAG.ending;
    for (let k = e; k < to; k++) he = combine(he, H[k]);
    const ending: number[] = [];
    for (let k = e; k < to; k++) ending.push(k);
    emit(he, 0, str ? () => `ending: ${ending.map(str).join(' ')}` : undefined);
  }
  const casing = casingOf(text, from, to);
  if (casing) {
    const label = casing === CASING.upper ? 'all upper' : casing === CASING.lower ? 'all lower' : 'title';
    emit(combine(TAG.casing, casing), 0, str ? () => `casing: ${label}` : undefined);
  }
  // The opening word's casing where the passage's does not already say it: a first word in capitals, or a
  // text that opens in lower case and has capitals later.
  let w = from;
  while (w < to && !W[w]) w++;
  let end = w;
  while (end + 1 < to && A[end + 1] === B[end]) end++;
  const opening = w < to ? wordCasing(text, A[w], B[end]) : 0;
  if ((opening === CASING.upper || opening === CASING.lower) && opening !== casing) {
    const label = opening === CASING.upper ? 'upper' : 'lower';
    emit(combine(TAG.opening, opening), 0, str ? () => `opening casing: ${label}` : undefined);
  }
}

function sentenceShapes(from: number, to: number, emit: ShapeEmit, str?: (k: number) => string): void {
  let w0 = -1;
  let w1 = -1;
  let wp = -1;
  let wl = -1;
  for (let k = from; k < to; k++) {
    if (!W[k]) continue;
    if (w0 < 0) w0 = k;
    else if (w1 < 0) w1 = k;
    wp = wl;
    wl = k;
  }
  if (w0 < 0) return;
  const name = (f: () => string) => (str ? f : undefined);
  // An opening or ending is words: it covers them (tokens first..last), so it is read like a phrase (masked,
  // the rest of a plant reads as the class it came from; a town's gloss still reads as a location).
  const cover = (first: number, last: number) =>
    last < tokenCap && first < 1024 ? (last - first + 1) * 1024 + first : 0;
  emit(
    combine(TAG.starts, H[w0]),
    cover(w0, w0),
    name(() => `starts: ${str?.(w0)}`),
  );
  if (w1 >= 0)
    emit(
      combine(combine(TAG.starts, H[w0]), H[w1]),
      cover(w0, w1),
      name(() => `starts: ${str?.(w0)} ${str?.(w1)}`),
    );
  emit(
    combine(TAG.ends, H[wl]),
    cover(wl, wl),
    name(() => `ends: ${str?.(wl)}`),
  );
  if (wp >= 0)
    emit(
      combine(combine(TAG.ends, H[wp]), H[wl]),
      cover(wp, wl),
      name(() => `ends: ${str?.(wp)} ${str?.(wl)}`),
    );
  // Skeleton: function words and marks kept, each run of other words one gap (-1).
  const skeleton: number[] = [];
  let kept = false;
  for (let k = from; k < to && skeleton.length < 6; k++) {
    const gap = W[k] === 1 && !FUNCTION.has(H[k]);
    if (gap && skeleton[skeleton.length - 1] === -1) continue;
    skeleton.push(gap ? -1 : k);
    kept ||= !gap;
  }
  // A skeleton of content words alone says nothing about structure.
  if (kept) {
    let h = TAG.skeleton;
    for (const x of skeleton) h = combine(h, x < 0 ? GAP : H[x]);
    emit(
      h,
      0,
      name(() => `skeleton: ${skeleton.map((x) => (x < 0 ? '_' : str?.(x))).join(' ')}`),
    );
  }
  // Frame: an opening function word and the clause marks, whatever the words between them.
  const opener = FUNCTION.has(H[w0]);
  let h = combine(TAG.frame, opener ? H[w0] : GAP);
  const marks: number[] = [];
  for (let k = from; k < to && marks.length < 4; k++) {
    if (W[k]) continue;
    marks.push(k);
    h = combine(h, H[k]);
  }
  if (opener || marks.length > 1)
    emit(
      h,
      0,
      name(() => `frame: ${[opener ? str?.(w0) : '_', ...marks.map((m) => str?.(m))].join(' ')}`),
    );
}

/** Letter case of one character: 1 upper, 2 lower, 0 not a cased letter. */
function caseOf(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 128) return c >= 65 && c <= 90 ? 1 : c >= 97 && c <= 122 ? 2 : 0;
  const ch = text[i];
  return ch !== ch.toLowerCase() ? 1 : ch !== ch.toUpperCase() ? 2 : 0;
}

/**
 * Casing of one written word, text [a, b) between spaces (a casing tool's word, not the tokeniser's:
 * `"and`, `2day`, `un-redeemed`): upper (every letter), lower (none upper), title (the first letter upper
 * and every letter after a letter lower, so `Un-Redeemed`, `Un-redeemed` and `"Oh!` all are),
 * mixed; 0 when it says nothing: fewer than two letters, or lower case after a leading mark or digit, which
 * a tool capitalising the first character leaves as it was.
 */
function wordCasing(text: string, a: number, b: number): number {
  let letters = 0;
  let upper = 0;
  let title = true;
  for (let i = a; i < b; i++) {
    const c = caseOf(text, i);
    if (!c) continue;
    if (letters === 0 && c !== 1) title = false;
    letters++;
    if (c === 1) {
      upper++;
      if (i > a && caseOf(text, i - 1)) title = false;
    }
  }
  if (letters < 2) return 0;
  if (upper === letters) return CASING.upper;
  if (title) return CASING.title;
  if (upper > 0) return CASING.mixed;
  return caseOf(text, a) ? CASING.lower : 0;
}

/** Calls visit(first, last) for each written word of tokens [from, to): tokens with nothing between them. */
function forEachWritten(from: number, to: number, visit: (first: number, last: number) => void): void {
  let first = from;
  for (let k = from + 1; k <= to; k++) {
    if (k < to && A[k] === B[k - 1]) continue;
    visit(first, k - 1);
    first = k;
  }
}

/**
 * Casing of a passage: all lower (no capital letter at all: lower-casing is one transform of the characters
 * and leaves none), all upper, or every word capitalised. Upper and title are transforms of words, which
 * tools cut differently and style guides apply to content words only, so those two are read over the
 * written words (between spaces) that carry casing, skipping function words left lower, and allow one in
 * ten to differ; at least three must be read. 0: none of these.
 */
function casingOf(text: string, from: number, to: number): number {
  if (from >= to) return 0;
  let letters = 0;
  let anyUpper = false;
  for (let i = A[from]; i < B[to - 1]; i++) {
    const c = caseOf(text, i);
    if (c) letters++;
    if (c === 1) anyUpper = true;
  }
  if (letters < 3) return 0;
  if (!anyUpper) return CASING.lower;
  let words = 0;
  let upper = 0;
  let title = 0;
  forEachWritten(from, to, (first, last) => {
    const wc = wordCasing(text, A[first], B[last]);
    if (!wc) return;
    // A function word left lower is house style, not a break (the word's first token is the word).
    let w = first;
    while (w <= last && !W[w]) w++;
    if (wc === CASING.lower && w <= last && FUNCTION.has(H[w])) return;
    words++;
    if (wc === CASING.upper) upper++;
    else if (wc === CASING.title) title++;
  });
  if (words < 3) return 0;
  if (upper >= 0.9 * words) return CASING.upper;
  if (title >= 0.9 * words) return CASING.title;
  return 0;
}

/** Shape names of one text, in the order of its keys (for reports and tests). */
export function shapeNames(text: string): string[] {
  const out: string[] = [];
  forEachShape(text, (_k, _s, name) => out.push(name?.() ?? '?'), true);
  return out;
}

export interface ShapeColumn {
  /** offsets[i]..offsets[i+1] index `keys` and `spans` for row i. */
  offsets: Int32Array;
  keys: Uint32Array;
  /**
   * Tokens a shape covers, as count * 1024 + first token index (0: none). A header field and a sentence's
   * opening or ending words cover tokens (they have words a model reads); the other shapes have no meaning of
   * their own.
   */
  spans: Int32Array;
}

/**
 * Shape keys of a column of texts, CSR like the tokens (each key once per row); rows `use` leaves out (copies
 * of an earlier row, say) get none.
 */
export function shapeColumn(
  texts: readonly (string | undefined)[],
  use?: Uint8Array,
  maxTokens = 512,
): ShapeColumn {
  const n = texts.length;
  const offsets = new Int32Array(n + 1);
  let keys = new Uint32Array(Math.max(1024, n * 8));
  let spans = new Int32Array(keys.length);
  let k = 0;
  const seen = new Set<number>();
  const emit: ShapeEmit = (key, span) => {
    if (seen.has(key)) return;
    seen.add(key);
    if (k === keys.length) {
      const t = new Uint32Array(keys.length * 2);
      t.set(keys);
      keys = t;
      const u = new Int32Array(keys.length);
      u.set(spans);
      spans = u;
    }
    spans[k] = span;
    keys[k++] = key;
  };
  for (let i = 0; i < n; i++) {
    offsets[i] = k;
    seen.clear();
    if (!use || use[i]) forEachShape(texts[i] ?? '', emit, false, maxTokens);
  }
  offsets[n] = k;
  return { offsets, keys: keys.slice(0, k), spans: spans.slice(0, k) };
}

/** Name of the `index`-th distinct shape of a text (as shapeColumn numbers them). */
export function shapeNameAt(text: string, index: number): string {
  const seen = new Set<number>();
  let out = '?';
  forEachShape(
    text,
    (key, _span, name) => {
      if (seen.has(key)) return;
      seen.add(key);
      if (seen.size === index + 1) out = name?.() ?? '?';
    },
    true,
  );
  return out;
}
