/**
 * Static inspection of Jinja2 chat templates (GGUF `tokenizer.chat_template`, tokenizer_config.json).
 *
 * Hand-written (no Jinja parser in JS reproduces Python Jinja's attribute semantics, and we must never
 * render the template): the code inside `{{ }}` and `{% %}` blocks is tokenised, string literals are
 * decoded (escapes such as \x5f are how payloads hide `__`), adjacent literals joined by `~`/`+`/`join`
 * are concatenated, and the result is matched against the ways a template escapes its sandbox:
 * Python dunder attributes, private attributes, dynamic attribute access (`attr`, `getattr`,
 * subscripts with built strings), modules and builtins that run code, and the Jinja globals that leak
 * Python function objects (`cycler`, `joiner`, `lipsum`, `namespace`, `self`, `range`) when an attribute
 * is taken on them. Every hit names the pattern and quotes the snippet.
 */

export interface TemplateHit {
  /** Short pattern name, e.g. `dunder:__globals__`, `module:os`, `filter:attr`. */
  pattern: string;
  /** Up to 160 characters of the block around the hit. */
  snippet: string;
}

const DUNDER_RE = /__[A-Za-z0-9_]+__/g;
/** Identifiers no chat template needs as bare names: modules and builtins that run code or reach the system. */
const BARE_DANGEROUS = new Set([
  'os',
  'subprocess',
  'sys',
  'eval',
  'exec',
  'execfile',
  'compile',
  'open',
  'getattr',
  'setattr',
  'delattr',
  'globals',
  'locals',
  'builtins',
  'importlib',
  'import_module',
  'pty',
  'socket',
  'shutil',
  'pickle',
  'marshal',
  'ctypes',
  'popen',
]);
/** Attributes that only lead to code execution or interpreter internals (`ns.system` stays legitimate). */
const ATTR_DANGEROUS = new Set([
  'popen',
  'Popen',
  'spawnv',
  'spawnl',
  'execv',
  'execl',
  'execve',
  'check_output',
  'getoutput',
  'os',
  'subprocess',
  'sys',
  'builtins',
  'modules',
  'func_globals',
  'func_code',
  'gi_frame',
  'gi_code',
  'f_globals',
  'f_back',
  'f_locals',
  'tb_frame',
  'co_code',
  'mro',
  'import_module',
  'load_module',
  'eval',
  'exec',
  'getattr',
]);
const LEAKY_GLOBALS = [
  'cycler',
  'joiner',
  'lipsum',
  'namespace',
  'self',
  'range',
  'dict',
  'config',
  'request',
  'url_for',
  'get_flashed_messages',
];

/** Extract the code of `{{ ... }}` and `{% ... %}` blocks (with their start offsets). */
function codeBlocks(t: string): Array<{ code: string; at: number }> {
  const out: Array<{ code: string; at: number }> = [];
  const re = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
  let m: RegExpExecArray | null;
  // biome-ignore lint/suspicious/noAssignInExpressions: regex scan
  while ((m = re.exec(t))) {
    const code = m[1] ?? m[2] ?? '';
    // {% raw %}...{% endraw %} content is literal text; other blocks are code.
    out.push({ code, at: m.index });
  }
  return out;
}

type Tok = { kind: 'str' | 'name' | 'num' | 'op'; text: string };

function decodeEscapes(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|.)/g,
    (_, e: string) => {
      const c = e[0];
      if (c === 'x' || c === 'u' || c === 'U') return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      if (c >= '0' && c <= '7') return String.fromCharCode(Number.parseInt(e, 8));
      if (c === 'n') return '\n';
      if (c === 't') return '\t';
      if (c === 'N') return `{${e}}`;
      return e;
    },
  );
}

function tokenize(code: string): Tok[] {
  const toks: Tok[] = [];
  const re =
    /\s+|(?<str>[rRbBuU]?('([^'\\]|\\[\s\S])*'|"([^"\\]|\\[\s\S])*"))|(?<name>[A-Za-z_][A-Za-z0-9_]*)|(?<num>[0-9][0-9_.eExXa-fA-F]*)|(?<op>\*\*|\/\/|==|!=|<=|>=|[^\s])/gy;
  let m: RegExpExecArray | null;
  // biome-ignore lint/suspicious/noAssignInExpressions: regex scan
  while ((m = re.exec(code))) {
    const g = m.groups ?? {};
    if (g.str !== undefined) {
      let s = g.str;
      const raw = /^[rR]/.test(s);
      s = s.replace(/^[rRbBuU]/, '');
      const body = s.slice(1, -1);
      toks.push({ kind: 'str', text: raw ? body : decodeEscapes(body) });
    } else if (g.name !== undefined) toks.push({ kind: 'name', text: g.name });
    else if (g.num !== undefined) toks.push({ kind: 'num', text: g.num });
    else if (g.op !== undefined) toks.push({ kind: 'op', text: g.op });
    if (m[0].length === 0) break;
  }
  return toks;
}

/** Inspect a chat template; returns one hit per distinct pattern. */
export function inspectChatTemplate(template: string): TemplateHit[] {
  const hits = new Map<string, TemplateHit>();
  const add = (pattern: string, code: string) => {
    if (!hits.has(pattern))
      hits.set(pattern, { pattern, snippet: code.trim().replace(/\s+/g, ' ').slice(0, 160) });
  };
  for (const { code } of codeBlocks(template)) {
    const toks = tokenize(code);
    // Strings built from pieces: concatenate runs of literals joined by ~ / + / , (join of a list).
    const joined: string[] = [];
    let run = '';
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind === 'str') run += t.text;
      else if (t.kind === 'op' && ['~', '+', ',', '[', ']', '(', ')'].includes(t.text)) continue;
      else if (t.kind === 'name' && (t.text === 'join' || t.text === 'format')) continue;
      else {
        if (run) joined.push(run);
        run = '';
      }
    }
    if (run) joined.push(run);
    for (const s of [...toks.filter((t) => t.kind === 'str').map((t) => t.text), ...joined]) {
      for (const d of s.match(DUNDER_RE) ?? []) add(`dunder:${d}`, code);
      if (
        /(^|[^A-Za-z0-9_])(os|subprocess|builtins|importlib|posix|pty|socket)([.:]|$)/.test(s) &&
        /\.|^[a-z]+$/.test(s)
      )
        add(`module-string:${s.slice(0, 40)}`, code);
      if (/^_[A-Za-z]/.test(s)) add(`private-attribute-string:${s.slice(0, 40)}`, code);
    }
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      const prev = toks[i - 1];
      const next = toks[i + 1];
      if (t.kind === 'name') {
        for (const d of t.text.match(DUNDER_RE) ?? []) add(`dunder:${d}`, code);
        const afterDot = prev?.kind === 'op' && prev.text === '.';
        if (afterDot && /^_/.test(t.text) && !/^__\w+__$/.test(t.text))
          add(`private-attribute:${t.text}`, code);
        if (afterDot ? ATTR_DANGEROUS.has(t.text) : BARE_DANGEROUS.has(t.text)) {
          add(afterDot ? `attribute:${t.text}` : `name:${t.text}`, code);
        }
        if (
          prev?.kind === 'op' &&
          prev.text === '|' &&
          (t.text === 'attr' || (t.text === 'map' && next?.text === '('))
        ) {
          if (t.text === 'attr') add('filter:attr', code);
        }
        if (
          LEAKY_GLOBALS.includes(t.text) &&
          !afterDot &&
          next?.kind === 'op' &&
          (next.text === '.' || next.text === '[')
        ) {
          const field = toks[i + 2];
          // namespace.x / loop.x style field access on a namespace object is normal; reaching Python
          // internals of the global function object (cycler.__init__, self._TemplateReference__context) is not.
          if (field && (field.kind === 'str' || /^_/.test(field.text)))
            add(`global-attribute:${t.text}`, code);
        }
      }
      if (t.kind === 'op' && t.text === '[' && next?.kind === 'str' && /^_/.test(next.text))
        add(`subscript:${next.text.slice(0, 40)}`, code);
      if (t.kind === 'op' && t.text === '*' && prev?.kind === 'str' && /^_+$/.test(prev.text))
        add('built-underscores', code);
    }
  }
  return [...hits.values()];
}
