/**
 * Structural patterns of a text, for trigger mining: what a template, a header or a style leaves behind
 * when no word or phrase is new. Per text:
 *   - header fields (`x-mailer: outlook express 5.00`): the leading `Field: value` lines of a mail, up to the
 *     first blank line, each one pattern (a field and its value are one unit a sender chooses) that covers
 *     the tokens of its line;
 *   - per sentence (the first few and the last): its first one and two words, its last one and two words,
 *     its skeleton (function words and punctuation kept, each run of other words one `_`, the first
 *     six symbols: `when _ , _ .`) and its frame (an opening function word and the clause marks: `when , .`);
 *   - its punctuation sequence (the first eight marks) and its casing (all lower, all upper, every word
 *     capitalised).
 * Each pattern is a string hashed into the key space of word n-grams with a tag of its own, so the two
 * never collide; the strings themselves are kept only for naming a reported pattern.
 */
import { hashString } from './hash.js';
import { forEachToken } from './text.js';

/** English function words (closed classes): what a syntactic template is made of. */
const FUNCTION_WORDS = new Set(
  (
    'a an the this that these those some any no every each all both either neither ' +
    'i me my mine you your yours he him his she her hers it its we us our ours they them their theirs ' +
    'who whom whose which what when where why how whether if unless because since although though while ' +
    'as than so such too very not nor or and but yet for of in on at by to from with without into onto ' +
    'about above below after before during until upon over under between through against among ' +
    'is am are was were be been being do does did done have has had having will would shall should ' +
    'can could may might must there here then now just only also even still ever never once'
  ).split(' '),
);

const SENTENCE_END = /[.!?\n]/;
/** Sentences of a text whose shapes are mined: the first few and the last. */
const FIRST_SENTENCES = 3;

/** Lower-cased word and punctuation tokens of one sentence (the tokeniser's rule, as strings). */
function tokensOf(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}'_]+|[^\s\p{L}\p{N}'_]/gu) ?? [];
}

const isWord = (t: string) => /[\p{L}\p{N}]/u.test(t);

function sentenceShapes(tokens: string[], out: string[]): void {
  const words = tokens.filter(isWord);
  if (words.length === 0) return;
  out.push(`starts: ${words[0]}`);
  if (words.length >= 2) out.push(`starts: ${words[0]} ${words[1]}`);
  out.push(`ends: ${words[words.length - 1]}`);
  if (words.length >= 2) out.push(`ends: ${words[words.length - 2]} ${words[words.length - 1]}`);
  const skeleton: string[] = [];
  for (const t of tokens) {
    const sym = isWord(t) && !FUNCTION_WORDS.has(t) ? '_' : t;
    if (sym === '_' && skeleton[skeleton.length - 1] === '_') continue;
    skeleton.push(sym);
    if (skeleton.length === 6) break;
  }
  // A skeleton of content words alone says nothing about structure.
  if (skeleton.some((x) => x !== '_')) out.push(`skeleton: ${skeleton.join(' ')}`);
  // The frame: an opening function word and the clause marks, whatever the words between them.
  const opener = FUNCTION_WORDS.has(words[0]) ? words[0] : '_';
  const marks = tokens.filter((t) => !isWord(t)).slice(0, 4);
  if (opener !== '_' || marks.length > 1) out.push(`frame: ${[opener, ...marks].join(' ')}`);
}

interface HeaderField {
  name: string;
  /** Character span of the line. */
  from: number;
  to: number;
}

/** Header block: `Field: value` lines from the top, up to the first blank line; and the body after it. */
function headerFields(text: string): { fields: HeaderField[]; body: string } {
  if (!/^[A-Za-z][A-Za-z0-9-]*:[ \t]/.test(text)) return { fields: [], body: text };
  const end = text.search(/\r?\n[ \t]*\r?\n/);
  const head = end < 0 ? text : text.slice(0, end);
  const fields: HeaderField[] = [];
  const re = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*)$/gm;
  for (let m = re.exec(head); m; m = re.exec(head)) {
    const value = m[2].trim();
    if (!value) continue;
    const name = `${m[1].toLowerCase()}: ${value.toLowerCase().slice(0, 120)}`;
    fields.push({ name, from: m.index, to: m.index + m[0].length });
  }
  return { fields, body: end < 0 ? '' : text.slice(end).trimStart() };
}

/** Structural pattern names of one text (see the module comment). */
export function shapeNames(text: string): string[] {
  const out: string[] = [];
  const { fields, body } = headerFields(text);
  for (const f of fields) out.push(f.name);
  const sentences: string[] = [];
  let rest = body;
  while (rest.length > 0 && sentences.length < FIRST_SENTENCES) {
    const k = rest.search(SENTENCE_END);
    // The sentence keeps its closing marks (`!`, `?!`), so a template's ending is part of it.
    let j = k < 0 ? rest.length : k;
    while (j < rest.length && /[.!?]/.test(rest[j])) j++;
    sentences.push(rest.slice(0, j));
    rest = rest.slice(Math.max(j, k < 0 ? rest.length : k + 1));
  }
  for (const s of sentences) sentenceShapes(tokensOf(s), out);
  if (rest.trim()) {
    const tail = rest.trimEnd();
    const k = Math.max(tail.slice(0, -1).search(/[.!?\n][^.!?\n]*$/), -1);
    sentenceShapes(tokensOf(tail.slice(k + 1)), out);
  }
  const marks = body.match(/[^\s\p{L}\p{N}'_]/gu);
  if (marks) out.push(`punctuation: ${marks.slice(0, 8).join(' ')}`);
  const letters = body.replace(/[^\p{L}]/gu, '');
  if (letters.length >= 3) {
    if (letters === letters.toUpperCase() && letters !== letters.toLowerCase()) out.push('casing: all upper');
    else if (letters === letters.toLowerCase() && letters !== letters.toUpperCase())
      out.push('casing: all lower');
    else if (/^(\P{L}*\p{Lu}\p{Ll}*)+\P{L}*$/u.test(body.replace(/\s+/g, ' '))) out.push('casing: title');
  }
  return out;
}

/** Key of a shape name (tagged so it never meets a word n-gram's hash). */
export const shapeKey = (name: string): number => hashString(name, 0x5bd1e995);

export interface ShapeColumn {
  /** offsets[i]..offsets[i+1] index `keys` and `spans` for row i. */
  offsets: Int32Array;
  keys: Uint32Array;
  /**
   * Tokens a shape covers, as count * 1024 + first token index (0: none). Only a header field covers
   * tokens (its value has words a model reads); the other shapes have no meaning of their own.
   */
  spans: Int32Array;
}

/** Token index range of each header field of `text` (as the tokeniser counts, up to `maxTokens`). */
function headerSpans(text: string, maxTokens: number): Map<string, number> {
  const out = new Map<string, number>();
  const { fields } = headerFields(text);
  if (fields.length === 0) return out;
  const starts: number[] = [];
  forEachToken(text.slice(0, fields[fields.length - 1].to), (_h, a) => starts.push(a));
  let t = 0;
  for (const f of fields) {
    while (t < starts.length && starts[t] < f.from) t++;
    let e = t;
    while (e < starts.length && starts[e] < f.to) e++;
    if (e > t && e <= maxTokens && t < 1024) out.set(f.name, (e - t) * 1024 + t);
  }
  return out;
}

/** Shape keys of a column of texts, CSR like the tokens (each key once per row). */
export function shapeColumn(texts: readonly (string | undefined)[], maxTokens = 512): ShapeColumn {
  const n = texts.length;
  const offsets = new Int32Array(n + 1);
  let keys = new Uint32Array(Math.max(1024, n * 8));
  let spans = new Int32Array(keys.length);
  let k = 0;
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    offsets[i] = k;
    seen.clear();
    const text = texts[i] ?? '';
    const covered = headerSpans(text, maxTokens);
    for (const name of shapeNames(text)) {
      const h = shapeKey(name);
      if (seen.has(h)) continue;
      seen.add(h);
      if (k === keys.length) {
        const t = new Uint32Array(keys.length * 2);
        t.set(keys);
        keys = t;
        const u = new Int32Array(keys.length);
        u.set(spans);
        spans = u;
      }
      spans[k] = covered.get(name) ?? 0;
      keys[k++] = h;
    }
  }
  offsets[n] = k;
  return { offsets, keys: keys.slice(0, k), spans: spans.slice(0, k) };
}
