/**
 * The text decodings the unpickler applies to opcode arguments, written to match CPython (no library offers
 * Python's escape codecs): `escape_decode` (STRING), `raw_unicode_escape` (UNICODE), strict UTF-8 with
 * `surrogatepass` (BINUNICODE*), and int/float literals as `PyLong_FromString`/`PyOS_string_to_double` accept
 * them. Each returns `undefined` where CPython raises.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Node's native slicers (no per-character string building, which floods the young generation). */
type NodeBuf = Uint8Array & {
  latin1Slice?(s: number, e: number): string;
  utf8Slice?(s: number, e: number): string;
};
let lastBytes: Uint8Array | undefined;
let lastBuf: NodeBuf | undefined;
function nodeBuf(b: Uint8Array): NodeBuf {
  if (b !== lastBytes) {
    lastBytes = b;
    lastBuf = Buffer.from(b.buffer, b.byteOffset, b.byteLength) as NodeBuf;
  }
  return lastBuf as NodeBuf;
}

/** Bytes as latin-1 text (one char per byte). */
export function latin1String(b: Uint8Array, start: number, end: number): string {
  if (end - start === 1) return String.fromCharCode(b[start]);
  const buf = nodeBuf(b);
  if (buf.latin1Slice) return buf.latin1Slice(start, end);
  return latin1.decode(b.subarray(start, end));
}

/** Strict UTF-8 ('surrogatepass' as pickle's BINUNICODE decoding); undefined when invalid. */
export function utf8Decode(b: Uint8Array, start: number, end: number): string | undefined {
  const buf = nodeBuf(b);
  if (buf.utf8Slice) {
    const s = buf.utf8Slice(start, end);
    // The lenient decoder marks invalid sequences with U+FFFD; only then is a strict pass needed.
    if (s.indexOf('\ufffd') < 0) return s;
  }
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    return utf8SurrogatePass(b, start, end);
  }
}

/**
 * Slow path: UTF-8 that may contain encoded surrogates (ED A0..BF xx), which 'surrogatepass' accepts. Returns
 * undefined at the first invalid sequence; builds the text in bounded chunks (no per-byte array).
 */
function utf8SurrogatePass(b: Uint8Array, start: number, end: number): string | undefined {
  const parts: string[] = [];
  const chunk: number[] = [];
  let i = start;
  while (i < end) {
    const c = b[i];
    let cp: number;
    let need: number;
    if (c < 0x80) {
      cp = c;
      need = 0;
    } else if (c >= 0xc2 && c <= 0xdf) {
      cp = c & 0x1f;
      need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      cp = c & 0x0f;
      need = 2;
    } else if (c >= 0xf0 && c <= 0xf4) {
      cp = c & 0x07;
      need = 3;
    } else return undefined;
    if (need > 0 && i + need >= end) return undefined;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k];
      if ((cc & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff))) return undefined;
    chunk.push(cp);
    if (chunk.length >= 4096) {
      parts.push(String.fromCodePoint(...chunk));
      chunk.length = 0;
    }
    i += need + 1;
  }
  parts.push(String.fromCodePoint(...chunk));
  return parts.join('');
}

const hexVal = (c: number): number =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : c >= 0x61 && c <= 0x66
      ? c - 0x57
      : c >= 0x41 && c <= 0x46
        ? c - 0x37
        : -1;

/** Python's `codecs.escape_decode` (what STRING applies inside its quotes); undefined on a bad \x escape. */
export function escapeDecode(b: Uint8Array, start: number, end: number): Uint8Array | undefined {
  const out = new Uint8Array(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    const c = b[i++];
    if (c !== 0x5c || i >= end) {
      // A lone trailing backslash is an error in CPython ("Trailing \ in string").
      if (c === 0x5c) return undefined;
      out[o++] = c;
      continue;
    }
    const e = b[i++];
    switch (e) {
      case 0x0a: // backslash-newline: line continuation
        break;
      case 0x5c:
        out[o++] = 0x5c;
        break;
      case 0x27:
        out[o++] = 0x27;
        break;
      case 0x22:
        out[o++] = 0x22;
        break;
      case 0x62:
        out[o++] = 0x08;
        break;
      case 0x66:
        out[o++] = 0x0c;
        break;
      case 0x74:
        out[o++] = 0x09;
        break;
      case 0x6e:
        out[o++] = 0x0a;
        break;
      case 0x72:
        out[o++] = 0x0d;
        break;
      case 0x76:
        out[o++] = 0x0b;
        break;
      case 0x61:
        out[o++] = 0x07;
        break;
      case 0x78: {
        const h1 = i < end ? hexVal(b[i]) : -1;
        const h2 = i + 1 < end ? hexVal(b[i + 1]) : -1;
        if (h1 < 0 || h2 < 0) return undefined;
        out[o++] = (h1 << 4) | h2;
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && i < end && b[i] >= 0x30 && b[i] <= 0x37; k++) v = v * 8 + (b[i++] - 0x30);
          out[o++] = v & 0xff;
        } else {
          // Unknown escapes are kept verbatim (with a DeprecationWarning in CPython).
          out[o++] = 0x5c;
          out[o++] = e;
        }
    }
  }
  return out.subarray(0, o);
}

/** Python's `raw_unicode_escape` decoding (UNICODE opcode); undefined on a truncated/out-of-range escape. */
export function rawUnicodeEscapeDecode(b: Uint8Array, start: number, end: number): string | undefined {
  let hasEscape = false;
  for (let i = start; i < end; i++) {
    if (b[i] === 0x5c) {
      hasEscape = true;
      break;
    }
  }
  if (!hasEscape) return latin1String(b, start, end);
  let s = '';
  let i = start;
  while (i < end) {
    const c = b[i++];
    if (c !== 0x5c || i >= end) {
      s += String.fromCharCode(c);
      continue;
    }
    const e = b[i++];
    const count = e === 0x75 ? 4 : e === 0x55 ? 8 : 0;
    if (count === 0) {
      s += `\\${String.fromCharCode(e)}`;
      continue;
    }
    let cp = 0;
    for (let k = 0; k < count; k++) {
      const h = i < end ? hexVal(b[i]) : -1;
      if (h < 0) return undefined;
      cp = cp * 16 + h;
      i++;
    }
    if (cp > 0x10ffff) return undefined;
    s += String.fromCodePoint(cp);
  }
  return s;
}

/** Python's limit on decimal digits converted to int (sys.int_info.default_max_str_digits). */
const MAX_STR_DIGITS = 4300;

/**
 * `int(text, 0)` as PyLong_FromString(s, NULL, 0) accepts it: surrounding whitespace, sign, 0x/0o/0b prefixes,
 * single underscores between digits, no leading zeros in a non-zero decimal. Returns undefined where Python
 * raises.
 */
export function parseIntLiteral(text: string, base0 = true): number | bigint | undefined {
  let t = text.trim();
  let neg = false;
  if (t[0] === '+' || t[0] === '-') {
    neg = t[0] === '-';
    t = t.slice(1);
  }
  let radix = 10;
  if (base0 && t.length > 1 && t[0] === '0') {
    const p = t[1].toLowerCase();
    if (p === 'x') radix = 16;
    else if (p === 'o') radix = 8;
    else if (p === 'b') radix = 2;
    if (radix !== 10) {
      t = t.slice(2);
      if (t[0] === '_') t = t.slice(1);
    } else if (!/^0+(_0+)*$/.test(t)) return undefined;
  }
  const digit = radix === 16 ? '[0-9a-fA-F]' : radix === 8 ? '[0-7]' : radix === 2 ? '[01]' : '[0-9]';
  if (!new RegExp(`^${digit}+(_${digit}+)*$`).test(t)) return undefined;
  t = t.replace(/_/g, '');
  if (radix === 10 && t.length > MAX_STR_DIGITS) return undefined;
  if (t.length <= 15 && radix === 10) {
    const v = Number.parseInt(t, 10);
    return neg ? -v : v;
  }
  const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : radix === 2 ? '0b' : '';
  let v = BigInt(prefix + t);
  if (neg) v = -v;
  return normaliseInt(v);
}

export function normaliseInt(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/**
 * The INT opcode's parse: C `strtol(s, &end, 0)` (so `010` is octal 8 and `0x1f` hex) when it consumes the whole
 * line without overflowing a 64-bit long, else Python's `int(s, 0)`.
 */
export function parseIntOpcode(text: string): number | bigint | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(text);
  if (m) {
    const body = m[2];
    const octal = body.length > 1 && body[0] === '0' && body[1] !== 'x' && body[1] !== 'X';
    let v = BigInt(octal ? `0o${body.slice(1)}` : body);
    if (m[1] === '-') v = -v;
    if (v >= -(1n << 63n) && v < 1n << 63n) return normaliseInt(v);
  }
  return parseIntLiteral(text);
}

/** `float(text)` as PyOS_string_to_double with an overflow error; undefined where Python raises. */
export function parseFloatLiteral(text: string): number | undefined {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t[0] === '-' ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  // Unambiguous pattern (no nested or overlapping quantifiers): linear time on hostile 1 MB lines.
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const v = Number.parseFloat(t);
  return Number.isFinite(v) ? v : undefined;
}

/** Two's complement little-endian integer (LONG1/LONG4). Over 1024 bytes: undefined (caller keeps size only). */
export function decodeLong(b: Uint8Array, start: number, n: number): number | bigint | undefined {
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[start + i];
    if (b[start + n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  if (n > 1024) return undefined;
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += b[start + i].toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[start + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return normaliseInt(v);
}
