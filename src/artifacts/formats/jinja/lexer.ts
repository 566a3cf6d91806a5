/**
 * A lexer for Jinja2 templates that follows Python Jinja2's own lexer (jinja2/lexer.py, 3.x) rule for rule.
 *
 * Hand-written on purpose: the template checker is only as good as its agreement with the engine that
 * renders the template (Python Jinja2 in transformers, llama-cpp-python and vLLM). A JS Jinja port that
 * tokenises differently is a parser differential, and a differential is an escape: text this lexer calls
 * data but Jinja calls code would never be checked. So the delimiters, whitespace control (`-`/`+`), raw
 * blocks, comments, the bracket balancing that lets `}}` appear inside `{{ {'a': {}} }}`, the order in which
 * token rules are tried, Python's `\s`, and the `unicode-escape` decoding of string literals are all
 * reproduced here. Settings are Jinja's defaults (line statements and line comments off), which is what
 * every chat-template loader uses. Where this lexer cannot be sure of Jinja's result (a non-ASCII name, a
 * `\N{...}` escape, an invalid escape) it throws, and the template fails closed.
 */

export type TokType =
  | 'data'
  | 'block_begin'
  | 'block_end'
  | 'variable_begin'
  | 'variable_end'
  | 'raw'
  | 'name'
  | 'string'
  | 'integer'
  | 'float'
  | 'op'
  | 'eof';

export interface Token {
  type: TokType;
  /** Names and operators: their text; strings: the decoded value. */
  value: string;
  line: number;
}

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`${message} (line ${line})`);
  }
}

/** Python's `\s` for str patterns (str.isspace), which differs from JavaScript's `\s`. */
const WS =
  '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';

const ROOT = new RegExp(
  // raw_begin: {% raw %} with optional - / + on the left and - on the right.
  `(?<raw>\\{%(?:-|\\+|)${WS}*raw${WS}*(?:-%\\}${WS}*|%\\}))` +
    `|(?<comment>\\{#(?:-|\\+|))|(?<block>\\{%(?:-|\\+|))|(?<variable>\\{\\{(?:-|\\+|))`,
  'gs',
);
const RAW_END = new RegExp(`\\{%(?:-|\\+|)${WS}*endraw${WS}*(?:\\+%\\}|-%\\}${WS}*|%\\})`, 'gs');
const COMMENT_END = new RegExp(`(?:\\+#\\}|-#\\}${WS}*|#\\})`, 'gs');
const BLOCK_END = new RegExp(`(?:\\+%\\}|-%\\}${WS}*|%\\})`, 'y');
const VARIABLE_END = new RegExp(`(?:-\\}\\}${WS}*|\\}\\})`, 'y');
const WHITESPACE = new RegExp(`${WS}+`, 'y');
const FLOAT = /(?<!\.)(\d+_)*\d+(?:(?:\.(\d+_)*\d+)?e[+-]?(\d+_)*\d+|\.(\d+_)*\d+)/iy;
const INTEGER = /(?:0b(?:_?[01])+|0o(?:_?[0-7])+|0x(?:_?[\da-f])+|[1-9](?:_?\d)*|0(?:_?0)*)/iy;
/** Jinja accepts Unicode identifiers; this checker accepts only ASCII ones and refuses the rest below. */
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const STRING = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const OPERATOR = /\*\*|\/\/|==|!=|>=|<=|[+\-/*%~[\](){}><=.:|,;]/y;

const RULES: Array<{ type: 'float' | 'integer' | 'name' | 'string' | 'op'; re: RegExp }> = [
  { type: 'float', re: FLOAT },
  { type: 'integer', re: INTEGER },
  { type: 'name', re: NAME },
  { type: 'string', re: STRING },
  { type: 'op', re: OPERATOR },
];
const CLOSE: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** Python's `str.encode('ascii','backslashreplace').decode('unicode-escape')` for a string literal body. */
export function decodePythonEscapes(body: string, line: number): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[i + 1];
    if (n === undefined) throw new TemplateSyntaxError('string literal ends with a backslash', line);
    // backslashreplace turns a non-ASCII character after a backslash into \xNN / \uNNNN text first.
    if (n.codePointAt(0)! > 0x7f) {
      out += '\\';
      continue;
    }
    i++;
    const simple: Record<string, string> = {
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\n': '',
    };
    if (n in simple) {
      out += simple[n];
      continue;
    }
    if (n >= '0' && n <= '7') {
      let digits = n;
      while (digits.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) digits += body[++i];
      out += String.fromCodePoint(Number.parseInt(digits, 8));
      continue;
    }
    const hexLen = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex))
        throw new TemplateSyntaxError(`invalid \\${n} escape in a string literal`, line);
      const cp = Number.parseInt(hex, 16);
      if (cp > 0x10ffff) throw new TemplateSyntaxError('escape beyond Unicode in a string literal', line);
      out += String.fromCodePoint(cp);
      i += hexLen;
      continue;
    }
    if (n === 'N') throw new TemplateSyntaxError('named Unicode escape \\N{...} is not supported', line);
    out += `\\${n}`;
  }
  return out;
}

function lineAt(src: string, pos: number, cache: { pos: number; line: number }): number {
  for (let i = cache.pos; i < pos; i++) if (src.charCodeAt(i) === 10) cache.line++;
  cache.pos = pos;
  return cache.line;
}

/** Tokenise a template the way Jinja2 does; throws TemplateSyntaxError where Jinja would, or where unsure. */
export function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  const lc = { pos: 0, line: 1 };
  let pos = 0;
  while (pos < src.length) {
    ROOT.lastIndex = pos;
    const m = ROOT.exec(src);
    if (!m) {
      toks.push({ type: 'data', value: src.slice(pos), line: lineAt(src, pos, lc) });
      break;
    }
    if (m.index > pos)
      toks.push({ type: 'data', value: src.slice(pos, m.index), line: lineAt(src, pos, lc) });
    const at = lineAt(src, m.index, lc);
    pos = m.index + m[0].length;
    const g = m.groups ?? {};
    if (g.raw !== undefined) {
      RAW_END.lastIndex = pos;
      const e = RAW_END.exec(src);
      if (!e) throw new TemplateSyntaxError('missing end of raw directive', at);
      toks.push({ type: 'raw', value: src.slice(pos, e.index), line: at });
      pos = e.index + e[0].length;
    } else if (g.comment !== undefined) {
      COMMENT_END.lastIndex = pos;
      const e = COMMENT_END.exec(src);
      if (!e) throw new TemplateSyntaxError('missing end of comment tag', at);
      pos = e.index + e[0].length;
    } else {
      const isBlock = g.block !== undefined;
      toks.push({ type: isBlock ? 'block_begin' : 'variable_begin', value: m[0], line: at });
      pos = lexCode(src, pos, isBlock, toks, lc);
    }
  }
  toks.push({ type: 'eof', value: '', line: lineAt(src, src.length, lc) });
  return toks;
}

/** The block / variable state: end delimiter first (unless brackets are open), then the tag rules in order. */
function lexCode(
  src: string,
  start: number,
  isBlock: boolean,
  toks: Token[],
  lc: { pos: number; line: number },
) {
  const END = isBlock ? BLOCK_END : VARIABLE_END;
  const balance: string[] = [];
  let pos = start;
  const tryAt = (re: RegExp) => {
    re.lastIndex = pos;
    return re.exec(src);
  };
  for (;;) {
    if (pos >= src.length)
      throw new TemplateSyntaxError(
        `unexpected end of template, expected '${isBlock ? '%}' : '}}'}'`,
        lineAt(src, pos, lc),
      );
    const line = lineAt(src, pos, lc);
    const end = balance.length === 0 ? tryAt(END) : null;
    if (end) {
      toks.push({ type: isBlock ? 'block_end' : 'variable_end', value: end[0], line });
      return pos + end[0].length;
    }
    const ws = tryAt(WHITESPACE);
    if (ws) {
      pos += ws[0].length;
      continue;
    }
    // Jinja's tag rules, in its order: float, integer, name, string, operator.
    const rule = RULES.find((r) => tryAt(r.re));
    const m = rule ? tryAt(rule.re) : null;
    if (!rule || !m) {
      const ch = src[pos];
      throw new TemplateSyntaxError(
        /[^\x00-\x7f]/.test(ch)
          ? 'non-ASCII identifier or character in code'
          : `unexpected char ${JSON.stringify(ch)}`,
        line,
      );
    }
    if (rule.type === 'name') {
      // A Unicode continuation (e.g. `lipsumé`) would make Jinja read one longer name: refuse instead.
      const cp = src.codePointAt(pos + m[0].length);
      const after = cp === undefined ? '' : String.fromCodePoint(cp);
      if (/[^\x00-\x7f]/.test(after) && /[\p{L}\p{N}\p{M}\p{Pc}\u00b7]/u.test(after))
        throw new TemplateSyntaxError('non-ASCII identifier', line);
      toks.push({ type: 'name', value: m[0], line });
    } else if (rule.type === 'string') {
      const body = m[1] ?? m[2] ?? '';
      toks.push({ type: 'string', value: decodePythonEscapes(body.replace(/\r\n?/g, '\n'), line), line });
    } else if (rule.type === 'op') {
      const op = m[0];
      if (op === '(' || op === '[' || op === '{') balance.push(op);
      else if (op in CLOSE && balance.pop() !== CLOSE[op])
        throw new TemplateSyntaxError(`unexpected '${op}'`, line);
      toks.push({ type: 'op', value: op, line });
    } else toks.push({ type: rule.type, value: m[0], line });
    pos += m[0].length;
  }
}
