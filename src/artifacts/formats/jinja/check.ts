/**
 * The allowlist checker of chat templates: parses the template exactly as Jinja2 would (./parser.ts) and walks
 * the tree, allowing only what chat templates need (./allowlist.ts). Like the pickle policy it is
 * allowlist-first: a template is not searched for known payloads, it is proved to use only known-safe
 * constructs, and anything else is a violation that names the construct.
 *
 * Names and keys. Attribute names are literal in the syntax and are checked directly. Item keys must be a
 * literal, a number computed from numbers (`messages[loop.index0 - 1]`), or a value taken from the caller's
 * message data (`type_map[param.type]`, Hermes' tool template), never a string the template builds
 * (`x[u~u~"globals"~u~u]`, `{% set k = "__globals__" %}x[k]`). To tell them apart, every variable the
 * template binds gets a kind from all of its bindings (set, for, macro parameters at every call site,
 * namespace fields); a kind is the weakest over all bindings, so one string-built binding taints the name.
 * A lookup keyed by data is terminal: nothing may be taken from its result, so data cannot chain a walk.
 */
import {
  ATTRIBUTE_ARGS,
  DATA_FILTERS,
  DATA_METHODS,
  FILTERS,
  GLOBAL_FUNCTIONS,
  LOOP_ATTRIBUTES,
  LOOP_NUMBERS,
  METHODS,
  NUMERIC_FILTERS,
  TESTS,
  UNSAFE_ATTRIBUTES,
  UNSAFE_GLOBALS,
} from './allowlist.js';
import { TemplateSyntaxError } from './lexer.js';
import { type Expr, parseTemplate, type Stmt, type Target } from './parser.js';
import * as computedName from './rules/computed-name.js';
import * as functionAccess from './rules/function-access.js';
import * as privateName from './rules/private-name.js';
import * as unknownCall from './rules/unknown-call.js';
import * as unknownFilter from './rules/unknown-filter.js';
import * as unknownTest from './rules/unknown-test.js';
import * as unparseable from './rules/unparseable.js';
import * as unsafeAttribute from './rules/unsafe-attribute.js';
import * as unsafeGlobal from './rules/unsafe-global.js';
import * as unsupportedSyntax from './rules/unsupported-syntax.js';

export interface TemplateRule {
  meta: import('../../../core/rule.js').RuleMeta;
  message(construct: string): string;
}

/** Every template rule, for the rule catalogue. */
export const templateRules: readonly TemplateRule[] = [
  unparseable,
  privateName,
  unsafeGlobal,
  computedName,
  unknownFilter,
  unknownTest,
  unknownCall,
  functionAccess,
  unsafeAttribute,
  unsupportedSyntax,
];

export interface Violation {
  rule: TemplateRule;
  /** The construct as written, e.g. `filter 'attr'`, `lipsum`, `key u ~ u ~ "globals"`. */
  construct: string;
  line: number;
}

/** Largest template checked (the largest published chat templates are ~30 KB). */
export const MAX_TEMPLATE_CHARS = 1_000_000;

/** What a value can be used for: as a computed key, and whether attributes/items/calls may be taken on it. */
interface Kind {
  key: boolean;
  numeric: boolean;
  access: boolean;
  namespace?: boolean;
  macro?: boolean;
}
const NUMERIC: Kind = { key: true, numeric: true, access: true };
const DATA: Kind = { key: true, numeric: false, access: true };
const OTHER: Kind = { key: false, numeric: false, access: true };
const LOOKUP: Kind = { key: false, numeric: false, access: false };
const FUNCTION: Kind = { key: false, numeric: false, access: false };
const join = (a: Kind, b: Kind): Kind => ({
  key: a.key && b.key,
  numeric: a.numeric && b.numeric,
  access: a.access && b.access,
  namespace: a.namespace && b.namespace,
  macro: a.macro && b.macro,
});
const sameKind = (a: Kind, b: Kind) =>
  a.key === b.key &&
  a.numeric === b.numeric &&
  a.access === b.access &&
  !!a.namespace === !!b.namespace &&
  !!a.macro === !!b.macro;

const isPrivate = (name: string) => name.startsWith('_');
const shortExpr = (e: Expr): string => render(e).slice(0, 80);

/** A compact rendering of an expression for messages. */
function render(e: Expr | null): string {
  if (!e) return '';
  switch (e.k) {
    case 'name':
      return e.name;
    case 'const':
      return e.kind === 'str' ? JSON.stringify(e.value) : String(e.value);
    case 'list':
      return `[${e.items.map(render).join(', ')}]`;
    case 'tuple':
      return `(${e.items.map(render).join(', ')})`;
    case 'dict':
      return `{${e.items.map(([k, v]) => `${render(k)}: ${render(v)}`).join(', ')}}`;
    case 'getattr':
      return `${render(e.obj)}.${e.attr}`;
    case 'getitem':
      return `${render(e.obj)}[${render(e.key)}]`;
    case 'slice':
      return e.parts.map(render).join(':');
    case 'call':
      return `${render(e.fn)}(${[...e.args.map(render), ...e.kwargs.map(([k, v]) => `${k}=${render(v)}`)].join(', ')})`;
    case 'filter':
      return `${render(e.obj)}|${e.name}${e.args.length || e.kwargs.length ? `(${[...e.args.map(render), ...e.kwargs.map(([k, v]) => `${k}=${render(v)}`)].join(', ')})` : ''}`;
    case 'test':
      return `${render(e.obj)} is ${e.name}`;
    case 'not':
      return `not ${render(e.e)}`;
    case 'neg':
      return `-${render(e.e)}`;
    case 'pos':
      return `+${render(e.e)}`;
    case 'bin':
      return `${render(e.l)} ${e.op} ${render(e.r)}`;
    case 'concat':
      return e.items.map(render).join(' ~ ');
    case 'compare':
      return `${render(e.e)} ${e.ops.map(([o, x]) => `${o} ${render(x)}`).join(' ')}`;
    case 'cond':
      return `${render(e.yes)} if ${render(e.test)} else ${render(e.no)}`;
  }
}

const EXISTENCE_TESTS = new Set(['defined', 'undefined', 'none']);
type FilterExpr = Extract<Expr, { k: 'filter' | 'test' }>;

class Checker {
  readonly out = new Map<string, Violation>();
  /** Kinds of template-bound names and of namespace fields (by field name, over every namespace). */
  private names = new Map<string, Kind>();
  private nsFields = new Map<string, Kind>();
  private macros = new Map<string, { params: string[] }>();

  constructor(private readonly body: Stmt[]) {}

  private add(rule: TemplateRule, construct: string, line: number) {
    const key = `${rule.meta.id}\u0000${construct}`;
    if (!this.out.has(key)) this.out.set(key, { rule, construct, line });
  }

  run(): Violation[] {
    this.inferKinds();
    this.stmts(this.body);
    return [...this.out.values()];
  }

  // ---- kinds ------------------------------------------------------------------------------------------------
  private nameKind(name: string): Kind {
    const bound = this.names.get(name);
    if (bound) return bound;
    if (GLOBAL_FUNCTIONS.has(name) || UNSAFE_GLOBALS.has(name)) return FUNCTION;
    // A free name is caller data: the messages, tools, special tokens and flags the loader passes in.
    return DATA;
  }

  kindOf(e: Expr): Kind {
    switch (e.k) {
      case 'const':
        return e.kind === 'str' ? OTHER : NUMERIC;
      case 'name':
        return e.name === 'loop' ? DATA : this.nameKind(e.name);
      case 'getattr': {
        if (e.obj.k === 'name' && e.obj.name === 'loop' && !this.names.has('loop'))
          return LOOP_NUMBERS.has(e.attr) ? NUMERIC : DATA;
        const o = this.kindOf(e.obj);
        if (o.namespace) return this.nsFields.get(e.attr) ?? OTHER;
        return o.access && o.key ? DATA : o.access ? OTHER : LOOKUP;
      }
      case 'getitem': {
        if (this.isComputedKey(e.key)) return LOOKUP;
        const o = this.kindOf(e.obj);
        return o.access && o.key ? DATA : o.access ? OTHER : LOOKUP;
      }
      case 'filter': {
        if (NUMERIC_FILTERS.has(e.name)) return NUMERIC;
        const o = e.obj ? this.kindOf(e.obj) : OTHER;
        if (e.name === 'default' || e.name === 'd') return e.args[0] ? join(o, this.kindOf(e.args[0])) : o;
        if (DATA_FILTERS.has(e.name) && o.key) return { ...DATA, numeric: false };
        return OTHER;
      }
      case 'call': {
        if (e.fn.k === 'name' && e.fn.name === 'namespace' && !this.names.has('namespace'))
          return { ...OTHER, namespace: true };
        if (e.fn.k === 'getattr' && DATA_METHODS.has(e.fn.attr)) {
          const o = this.kindOf(e.fn.obj);
          if (!o.key) return OTHER;
          return e.fn.attr === 'get' && e.args[1] ? join(DATA, this.kindOf(e.args[1])) : DATA;
        }
        return OTHER;
      }
      case 'dict':
        // A mapping of safe literal names to data (Hermes passes `{"type": t}` to its macro) is still data:
        // its keys can surface as values (`|items`, iteration) but are names the checker has vetted.
        return e.items.every(
          ([k, v]) =>
            k.k === 'const' &&
            (k.kind !== 'str' || (!isPrivate(String(k.value)) && !UNSAFE_ATTRIBUTES.has(String(k.value)))) &&
            this.kindOf(v).key,
        )
          ? DATA
          : OTHER;
      case 'neg':
      case 'pos':
        return this.kindOf(e.e).numeric ? NUMERIC : OTHER;
      case 'bin':
        if (['+', '-', '*', '/', '//', '%'].includes(e.op))
          return this.kindOf(e.l).numeric && this.kindOf(e.r).numeric ? NUMERIC : OTHER;
        return OTHER;
      case 'cond':
        return join(this.kindOf(e.yes), e.no ? this.kindOf(e.no) : NUMERIC);
      default:
        return OTHER;
    }
  }

  /**
   * A subscript key that may be a string only known at run time (neither a literal, a slice nor a number):
   * Jinja falls back from `obj[key]` to `getattr(obj, key)` for strings, so such a lookup is an attribute
   * lookup by computed name.
   */
  private isComputedKey(key: Expr): boolean {
    return key.k !== 'const' && key.k !== 'slice' && !this.kindOf(key).numeric;
  }

  private inferKinds() {
    // Optimistic start, then weaken to a fixed point (kinds only lose capabilities, so this terminates).
    const bindings: Array<{ name?: string; field?: string; kind: () => Kind }> = [];
    const calls: Array<Extract<Expr, { k: 'call' }>> = [];
    const bindTarget = (t: Target, kind: () => Kind) => {
      if (t.k === 'name') bindings.push({ name: t.name, kind });
      else if (t.k === 'nsref') bindings.push({ field: t.attr, kind });
      else for (const i of t.items) bindTarget(i, () => (kind().key ? DATA : OTHER));
    };
    const visitE = (e: Expr | null) => {
      if (!e) return;
      forEachChild(e, visitE);
      if (e.k === 'call') {
        calls.push(e);
        if (e.fn.k === 'name' && e.fn.name === 'namespace')
          for (const [k, v] of e.kwargs) bindings.push({ field: k, kind: () => this.kindOf(v) });
      }
    };
    const visit = (s: Stmt) => {
      forEachStmtExpr(s, visitE);
      if (s.k === 'set') bindTarget(s.target, () => this.kindOf(s.value));
      else if (s.k === 'setblock') bindTarget(s.target, () => OTHER);
      else if (s.k === 'for') {
        const it = s.iter;
        const isRange =
          it.k === 'call' && it.fn.k === 'name' && it.fn.name === 'range' && !this.names.has('range');
        bindTarget(s.target, () => {
          if (isRange) return NUMERIC;
          const k = this.kindOf(it);
          return k.key && k.access ? DATA : OTHER;
        });
      } else if (s.k === 'macro') {
        this.macros.set(s.name, { params: s.params });
        bindings.push({ name: s.name, kind: () => ({ ...FUNCTION, macro: true }) });
        for (const [i, p] of s.params.entries()) {
          const d = s.defaults[i - (s.params.length - s.defaults.length)];
          if (d) bindings.push({ name: p, kind: () => this.kindOf(d) });
        }
      }
      forEachChildStmt(s, visit);
    };
    for (const s of this.body) visit(s);
    // Macro parameters take the kind of every argument passed at every call site.
    for (const c of calls) {
      if (c.fn.k !== 'name') continue;
      const name = c.fn.name;
      for (const [k, v] of c.kwargs)
        bindings.push({ name: `\u0000${name}.${k}`, kind: () => this.kindOf(v) });
      for (const [i, a] of c.args.entries())
        bindings.push({ name: `\u0000${name}#${i}`, kind: () => this.kindOf(a) });
    }
    for (let round = 0; round < 50; round++) {
      const next = new Map<string, Kind>();
      const nextFields = new Map<string, Kind>();
      for (const b of bindings) {
        if (!b.name && !b.field) continue;
        const k = b.kind();
        if (b.name) next.set(b.name, next.has(b.name) ? join(next.get(b.name)!, k) : k);
        else if (b.field)
          nextFields.set(b.field, nextFields.has(b.field) ? join(nextFields.get(b.field)!, k) : k);
      }
      // Map call-site argument kinds onto the macros' parameter names.
      for (const [macro, { params }] of this.macros) {
        params.forEach((p, i) => {
          for (const key of [`\u0000${macro}#${i}`, `\u0000${macro}.${p}`]) {
            const k = next.get(key);
            if (k) next.set(p, next.has(p) ? join(next.get(p)!, k) : k);
          }
        });
      }
      for (const k of [...next.keys()]) if (k.startsWith('\u0000')) next.delete(k);
      const stable =
        next.size === this.names.size &&
        [...next].every(([n, k]) => this.names.has(n) && sameKind(this.names.get(n)!, k)) &&
        nextFields.size === this.nsFields.size &&
        [...nextFields].every(([n, k]) => this.nsFields.has(n) && sameKind(this.nsFields.get(n)!, k));
      this.names = next;
      this.nsFields = nextFields;
      if (stable) return;
    }
  }

  // ---- statements -------------------------------------------------------------------------------------------
  private stmts(body: Stmt[]) {
    for (const s of body) this.stmt(s);
  }

  private target(t: Target) {
    if (t.k === 'name') this.bindName(t.name, t.line);
    else if (t.k === 'nsref') {
      this.bindName(t.name, t.line);
      if (isPrivate(t.attr)) this.add(privateName, `namespace field ${t.name}.${t.attr}`, t.line);
      else if (UNSAFE_ATTRIBUTES.has(t.attr)) this.add(unsafeAttribute, `${t.name}.${t.attr}`, t.line);
    } else for (const i of t.items) this.target(i);
  }

  private bindName(name: string, line: number) {
    if (isPrivate(name)) this.add(privateName, `variable ${name}`, line);
  }

  private stmt(s: Stmt) {
    switch (s.k) {
      case 'output':
        for (const e of s.exprs) this.expr(e);
        return;
      case 'for':
        this.target(s.target);
        this.expr(s.iter);
        if (s.test) this.expr(s.test);
        if (s.recursive) this.add(unsupportedSyntax, 'a recursive for loop', s.line);
        this.stmts(s.body);
        this.stmts(s.else_);
        return;
      case 'if':
        this.expr(s.test);
        this.stmts(s.body);
        for (const [t, b] of s.elifs) {
          this.expr(t);
          this.stmts(b);
        }
        this.stmts(s.else_);
        return;
      case 'set':
        this.target(s.target);
        this.expr(s.value);
        return;
      case 'setblock':
        this.target(s.target);
        if (s.filter) this.expr(s.filter);
        this.stmts(s.body);
        return;
      case 'macro':
        this.bindName(s.name, s.line);
        for (const p of s.params) this.bindName(p, s.line);
        for (const d of s.defaults) this.expr(d);
        this.stmts(s.body);
        return;
      case 'generation':
        this.stmts(s.body);
        return;
      case 'loopctl':
        return;
      case 'unsupported':
        this.add(unsupportedSyntax, `the {% ${s.tag} %} statement`, s.line);
        return;
    }
  }

  // ---- expressions ------------------------------------------------------------------------------------------
  private attrName(name: string, where: string, line: number) {
    if (isPrivate(name)) this.add(privateName, `${where}`, line);
    else if (UNSAFE_ATTRIBUTES.has(name)) this.add(unsafeAttribute, `${where}`, line);
  }

  /** An attribute path given as a string (map(attribute='a.b'), selectattr('x')): every part is a name. */
  private literalAttributeArg(filter: string, arg: Expr | undefined, line: number) {
    if (!arg) return;
    if (arg.k !== 'const' || arg.kind === 'none') {
      this.add(computedName, `the attribute name ${shortExpr(arg)} of filter '${filter}'`, line);
      return;
    }
    for (const part of String(arg.value).split('.'))
      this.attrName(part, `attribute ${JSON.stringify(part)} through filter '${filter}'`, line);
  }

  /** The object of an access (attribute, item, call) must not be a function or a data-keyed lookup. */
  private accessible(obj: Expr, what: string, line: number) {
    if (obj.k === 'name' && obj.name === 'loop' && !this.names.has('loop')) return;
    if (obj.k === 'getattr' && (METHODS.has(obj.attr) || UNSAFE_ATTRIBUTES.has(obj.attr))) {
      this.add(functionAccess, `${what} of the method ${shortExpr(obj)}`, line);
      return;
    }
    const k = this.kindOf(obj);
    if (k.access) return;
    if (obj.k === 'getitem' || (obj.k === 'name' && this.names.has(obj.name) && !k.macro))
      this.add(computedName, `${what} of the run-time lookup ${shortExpr(obj)}`, line);
    else this.add(functionAccess, `${what} of the function ${shortExpr(obj)}`, line);
  }

  private expr(e: Expr | null): void {
    if (!e) return;
    switch (e.k) {
      case 'name':
        if (UNSAFE_GLOBALS.has(e.name) && !this.names.has(e.name)) this.add(unsafeGlobal, e.name, e.line);
        else if (isPrivate(e.name)) this.add(privateName, e.name, e.line);
        else if ((GLOBAL_FUNCTIONS.has(e.name) && !this.names.has(e.name)) || this.nameKind(e.name).macro)
          this.add(functionAccess, `the function ${e.name} used as a value`, e.line);
        return;
      case 'const':
        return;
      case 'getattr':
        if (e.obj.k === 'name' && e.obj.name === 'loop' && !this.names.has('loop')) {
          if (!LOOP_ATTRIBUTES.has(e.attr)) this.add(unsupportedSyntax, `loop.${e.attr}`, e.line);
          return;
        }
        this.attrName(e.attr, `.${e.attr}`, e.line);
        this.accessible(e.obj, `attribute .${e.attr}`, e.line);
        this.expr(e.obj);
        return;
      case 'getitem': {
        const key = e.key;
        if (key.k === 'const') {
          if (key.kind === 'str')
            this.attrName(String(key.value), `key ${JSON.stringify(key.value)}`, e.line);
        } else if (key.k === 'slice') {
          for (const p of key.parts) {
            if (p && !this.kindOf(p).numeric)
              this.add(computedName, `the slice bound ${shortExpr(p)}, not a number`, e.line);
            this.expr(p);
          }
        } else {
          if (!this.kindOf(key).key)
            this.add(computedName, `the key ${shortExpr(key)} built by the template`, e.line);
          this.expr(key);
        }
        this.accessible(e.obj, `item [${shortExpr(key)}]`, e.line);
        this.expr(e.obj);
        return;
      }
      case 'slice':
        for (const p of e.parts) this.expr(p);
        return;
      case 'call':
        this.call(e);
        return;
      case 'filter':
        this.filter(e);
        return;
      case 'test':
        if (!TESTS.has(e.name)) this.add(unknownTest, `'${e.name}'`, e.line);
        if (e.dyn) this.add(unsupportedSyntax, '*args/**kwargs in a test', e.line);
        // `strftime_now is defined` asks whether the loader provides the helper; nothing is taken from it.
        if (!(e.obj?.k === 'name' && GLOBAL_FUNCTIONS.has(e.obj.name) && EXISTENCE_TESTS.has(e.name)))
          this.expr(e.obj);
        for (const a of e.args) this.expr(a);
        for (const [, v] of e.kwargs) this.expr(v);
        return;
      case 'bin':
        if (e.op === '**') this.add(unsupportedSyntax, 'the power operator **', e.line);
        this.expr(e.l);
        this.expr(e.r);
        return;
      default:
        forEachChild(e, (c) => this.expr(c));
    }
  }

  private call(e: Extract<Expr, { k: 'call' }>) {
    if (e.dyn) this.add(unsupportedSyntax, '*args/**kwargs in a call', e.line);
    const fn = e.fn;
    if (fn.k === 'name' && !this.names.has(fn.name) && GLOBAL_FUNCTIONS.has(fn.name)) {
      if (fn.name === 'namespace' || fn.name === 'dict')
        for (const [k] of e.kwargs) this.attrName(k, `${fn.name} field ${k}`, e.line);
    } else if (fn.k === 'name' && this.nameKind(fn.name).macro) {
      // A call of one of the template's own macros.
    } else if (fn.k === 'name' && fn.name === 'loop' && !this.names.has('loop')) {
      this.add(unsupportedSyntax, 'a recursive loop() call', e.line);
    } else if (fn.k === 'getattr' && METHODS.has(fn.attr)) {
      if (fn.obj.k === 'name' && fn.obj.name === 'loop' && !this.names.has('loop'))
        this.add(unknownCall, `loop.${fn.attr}()`, e.line);
      else {
        this.accessible(fn.obj, `method .${fn.attr}()`, e.line);
        this.expr(fn.obj);
      }
    } else if (fn.k === 'getattr') {
      this.add(
        isPrivate(fn.attr) ? privateName : UNSAFE_ATTRIBUTES.has(fn.attr) ? unsafeAttribute : unknownCall,
        `${isPrivate(fn.attr) || UNSAFE_ATTRIBUTES.has(fn.attr) ? '' : 'the method '}.${fn.attr}()`,
        e.line,
      );
      this.expr(fn.obj);
    } else if (fn.k === 'name') {
      if (UNSAFE_GLOBALS.has(fn.name)) this.add(unsafeGlobal, fn.name, e.line);
      else if (isPrivate(fn.name)) this.add(privateName, fn.name, e.line);
      else this.add(unknownCall, `${fn.name}()`, e.line);
    } else {
      this.add(unknownCall, `the computed callable ${shortExpr(fn)}`, e.line);
      this.expr(fn);
    }
    for (const a of e.args) this.expr(a);
    for (const [, v] of e.kwargs) this.expr(v);
  }

  private filter(e: FilterExpr) {
    this.filterNamed(e.name, e.args, e.kwargs, e.line);
    if (e.dyn) this.add(unsupportedSyntax, `*args/**kwargs in filter '${e.name}'`, e.line);
    this.expr(e.obj);
    for (const a of e.args) this.expr(a);
    for (const [, v] of e.kwargs) this.expr(v);
  }

  /** A filter by name with its arguments (also the filter a `map('name', ...)` applies). */
  private filterNamed(name: string, args: Expr[], kwargs: Array<[string, Expr]>, line: number) {
    if (!FILTERS.has(name)) {
      this.add(
        name === 'attr' ? computedName : unknownFilter,
        name === 'attr' ? "filter 'attr'" : `'${name}'`,
        line,
      );
      return;
    }
    const spec = ATTRIBUTE_ARGS[name];
    const kw = (k: string) => kwargs.find(([n]) => n === k)?.[1];
    if (name === 'map' && args.length && !kw('attribute')) {
      // map('filter', args...): the first argument names a filter applied to every item.
      const f = args[0];
      if (f.k !== 'const' || f.kind !== 'str')
        this.add(computedName, `the filter name ${shortExpr(f)} of filter 'map'`, line);
      else this.filterNamed(String(f.value), args.slice(1), kwargs, line);
      return;
    }
    if (spec?.keyword) this.literalAttributeArg(name, kw(spec.keyword), line);
    if (spec?.positional !== undefined && !(name === 'groupby' && kw('attribute')))
      this.literalAttributeArg(name, args[spec.positional], line);
    // select/reject('test', ...), selectattr/rejectattr('attr', 'test', ...): the test name is literal.
    const testAt =
      name === 'select' || name === 'reject' ? 0 : name === 'selectattr' || name === 'rejectattr' ? 1 : -1;
    const t = testAt >= 0 ? args[testAt] : undefined;
    if (t) {
      if (t.k !== 'const' || t.kind !== 'str')
        this.add(computedName, `the test name ${shortExpr(t)} of filter '${name}'`, line);
      else if (!TESTS.has(String(t.value)))
        this.add(unknownTest, `'${String(t.value)}' through filter '${name}'`, line);
    }
  }
}

function forEachChild(e: Expr, f: (c: Expr | null) => void) {
  switch (e.k) {
    case 'list':
    case 'tuple':
    case 'concat':
      e.items.forEach(f);
      return;
    case 'dict':
      for (const [k, v] of e.items) {
        f(k);
        f(v);
      }
      return;
    case 'getattr':
      f(e.obj);
      return;
    case 'getitem':
      f(e.obj);
      f(e.key);
      return;
    case 'slice':
      e.parts.forEach(f);
      return;
    case 'call':
      f(e.fn);
      e.args.forEach(f);
      for (const [, v] of e.kwargs) f(v);
      return;
    case 'filter':
    case 'test':
      f(e.obj);
      e.args.forEach(f);
      for (const [, v] of e.kwargs) f(v);
      return;
    case 'not':
    case 'neg':
    case 'pos':
      f(e.e);
      return;
    case 'bin':
      f(e.l);
      f(e.r);
      return;
    case 'compare':
      f(e.e);
      for (const [, x] of e.ops) f(x);
      return;
    case 'cond':
      f(e.test);
      f(e.yes);
      f(e.no);
      return;
    default:
      return;
  }
}

function forEachStmtExpr(s: Stmt, f: (e: Expr | null) => void) {
  switch (s.k) {
    case 'output':
      s.exprs.forEach(f);
      return;
    case 'for':
      f(s.iter);
      f(s.test);
      return;
    case 'if':
      f(s.test);
      for (const [t] of s.elifs) f(t);
      return;
    case 'set':
      f(s.value);
      return;
    case 'setblock':
      f(s.filter);
      return;
    case 'macro':
      s.defaults.forEach(f);
      return;
    default:
      return;
  }
}

function forEachChildStmt(s: Stmt, f: (s: Stmt) => void) {
  switch (s.k) {
    case 'for':
      s.body.forEach(f);
      s.else_.forEach(f);
      return;
    case 'if':
      s.body.forEach(f);
      for (const [, b] of s.elifs) b.forEach(f);
      s.else_.forEach(f);
      return;
    case 'setblock':
    case 'macro':
    case 'generation':
      s.body.forEach(f);
      return;
    default:
      return;
  }
}

/** Check one template: the violations of the allowlist, or one `template/unparseable` violation. */
export function checkTemplate(text: string): Violation[] {
  if (text.length > MAX_TEMPLATE_CHARS)
    return [
      {
        rule: unparseable,
        construct: `${text.length} characters, over the ${MAX_TEMPLATE_CHARS} limit`,
        line: 1,
      },
    ];
  let body: Stmt[];
  try {
    body = parseTemplate(text);
  } catch (err) {
    if (err instanceof TemplateSyntaxError)
      return [{ rule: unparseable, construct: err.message, line: err.line }];
    if (err instanceof RangeError) return [{ rule: unparseable, construct: 'nesting too deep', line: 1 }];
    throw err;
  }
  return new Checker(body).run();
}
