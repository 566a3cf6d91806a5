/**
 * A small strict JSON reader for headers and configs inside model files.
 *
 * Hand-written because JSON.parse silently keeps the last of duplicate keys and rounds integers above
 * 2^53: two loaders of one file can then disagree on what the file says (a reviewer's tool sees one
 * `data_offsets`, the loader another). This reader rejects duplicate keys at any depth, integers that do
 * not fit exactly in a double, invalid UTF-8, lone surrogates, nesting deeper than a bound, and anything
 * after the value except whitespace. Configs that Python's json module reads (it keeps integers of any size:
 * the Llama-2 tokenizer_config.json has `model_max_length: 1000000000000000019884624838656`) are read with
 * `bigIntegers: 'keep'`, which returns such an integer exactly, as a bigint. Objects come back with a null prototype, so a key named
 * `__proto__` is just a key.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class StrictJsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'StrictJsonError';
  }
}

export interface StrictJsonOptions {
  maxDepth?: number;
  /** `reject` (default): an integer above 2^53 is an error; `keep`: it is returned exactly as a bigint. */
  bigIntegers?: 'reject' | 'keep';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parse UTF-8 bytes (or a string) as one strict JSON value. Throws StrictJsonError. */
export function parseStrictJson(input: Uint8Array | string, opts: StrictJsonOptions = {}): JsonValue {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new StrictJsonError('invalid UTF-8', 0);
    }
  }
  return new Reader(text, opts.maxDepth ?? 256, opts.bigIntegers === 'keep').document();
}

/** The value with big integers as decimal strings, for reports (JSON.stringify cannot write a bigint). */
export function jsonSafe(v: JsonValue): JsonValue {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (isJsonObject(v)) {
    const out: JsonObject = Object.create(null);
    for (const [k, x] of Object.entries(v)) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
    private readonly keepBig = false,
  ) {}

  document(): JsonValue {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected data after the JSON value');
    return v;
  }

  private fail(msg: string): never {
    throw new StrictJsonError(msg, this.i);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  private value(depth: number): JsonValue {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        return this.fail(
          c === undefined ? 'unexpected end of JSON' : `unexpected character ${JSON.stringify(c)}`,
        );
    }
  }

  private literal<T>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('invalid literal');
  }

  private object(depth: number): JsonObject {
    const out = Object.create(null) as JsonObject;
    const seen = new Set<string>();
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const at = this.i;
      const key = this.string();
      if (seen.has(key)) throw new StrictJsonError(`duplicate key ${JSON.stringify(key.slice(0, 80))}`, at);
      seen.add(key);
      this.ws();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      this.ws();
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "}"');
      }
    }
  }

  private array(depth: number): JsonValue[] {
    const out: JsonValue[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.i--;
        this.fail('expected "," or "]"');
      }
    }
  }

  private string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c >= 0xd800 && c <= 0xdfff) {
        const lo = s.charCodeAt(this.i + 1);
        if (c > 0xdbff || !(lo >= 0xdc00 && lo <= 0xdfff)) this.fail('lone surrogate in string');
        this.i += 2; // an astral character (valid UTF-8 decodes to a surrogate pair)
        continue;
      }
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        this.i++;
        const e = s[this.i++];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const cu = this.hex4();
            if (cu >= 0xd800 && cu <= 0xdbff) {
              if (s[this.i] !== '\\' || s[this.i + 1] !== 'u') this.fail('lone surrogate escape');
              this.i += 2;
              const lo = this.hex4();
              if (lo < 0xdc00 || lo > 0xdfff) this.fail('lone surrogate escape');
              out += String.fromCharCode(cu, lo);
            } else if (cu >= 0xdc00 && cu <= 0xdfff) {
              this.fail('lone surrogate escape');
            } else out += String.fromCharCode(cu);
            break;
          }
          default:
            this.i--;
            this.fail('invalid escape');
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
  }

  private hex4(): number {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid \\u escape');
    this.i += 4;
    return Number.parseInt(h, 16);
  }

  private number(): number | bigint {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m || m[0].length === 0 || m[0] === '-') this.fail('invalid number');
    const text = m[0];
    if (text.length >= 400) this.fail('number too long');
    const v = Number(text);
    const integer = m[2] === undefined && m[3] === undefined;
    if (integer && this.keepBig && !Number.isSafeInteger(v)) {
      this.i += text.length;
      return BigInt(text);
    }
    if (!Number.isFinite(v)) this.fail('number out of range');
    if (integer && !Number.isSafeInteger(v)) {
      this.fail(`integer ${text.slice(0, 40)} is not exactly representable (above 2^53)`);
    }
    this.i += text.length;
    return v;
  }
}
