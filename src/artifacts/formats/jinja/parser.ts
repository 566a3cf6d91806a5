/**
 * A parser for Jinja2 templates that follows Python Jinja2's parser (jinja2/parser.py, 3.x) production for
 * production: the same precedence (condexpr, or, and, not, compare, + -, ~, * / // %, **, unary, then
 * postfix `.x` `[x]` `(...)` and the filter/test chain), the same statement set, implicit string literal
 * concatenation, `x.0` as an item, dotted filter and test names, `{% set %}` blocks, namespace targets,
 * and the loop-control (`break`/`continue`) and `{% generation %}` extensions that transformers enables.
 *
 * Hand-written for the reason the lexer is: a checker that parses a template differently from the engine
 * that renders it can be walked around. Anything this parser does not accept is a template the checker
 * refuses (fail closed); nesting is bounded so a hostile template cannot exhaust the stack.
 */

import { pushAll } from '../../../core/arrays.js';
import { TemplateSyntaxError, type Token, tokenize } from './lexer.js';

export type Expr =
  | { k: 'name'; name: string; line: number }
  | {
      k: 'const';
      value: string | number | boolean | null;
      kind: 'str' | 'num' | 'bool' | 'none';
      line: number;
    }
  | { k: 'list' | 'tuple'; items: Expr[]; line: number }
  | { k: 'dict'; items: Array<[Expr, Expr]>; line: number }
  | { k: 'getattr'; obj: Expr; attr: string; line: number }
  | { k: 'getitem'; obj: Expr; key: Expr; line: number }
  | { k: 'slice'; parts: Array<Expr | null>; line: number }
  | { k: 'call'; fn: Expr; args: Expr[]; kwargs: Array<[string, Expr]>; dyn: boolean; line: number }
  | {
      k: 'filter' | 'test';
      obj: Expr | null;
      name: string;
      args: Expr[];
      kwargs: Array<[string, Expr]>;
      dyn: boolean;
      line: number;
    }
  | { k: 'not' | 'neg' | 'pos'; e: Expr; line: number }
  | { k: 'bin'; op: string; l: Expr; r: Expr; line: number }
  | { k: 'concat'; items: Expr[]; line: number }
  | { k: 'compare'; e: Expr; ops: Array<[string, Expr]>; line: number }
  | { k: 'cond'; test: Expr; yes: Expr; no: Expr | null; line: number };

export type Target =
  | { k: 'name'; name: string; line: number }
  | { k: 'nsref'; name: string; attr: string; line: number }
  | { k: 'tuple'; items: Target[]; line: number };

export type Stmt =
  | { k: 'output'; exprs: Expr[]; line: number }
  | {
      k: 'for';
      target: Target;
      iter: Expr;
      test: Expr | null;
      recursive: boolean;
      body: Stmt[];
      else_: Stmt[];
      line: number;
    }
  | { k: 'if'; test: Expr; body: Stmt[]; elifs: Array<[Expr, Stmt[]]>; else_: Stmt[]; line: number }
  | { k: 'set'; target: Target; value: Expr; line: number }
  | { k: 'setblock'; target: Target; filter: Expr | null; body: Stmt[]; line: number }
  | { k: 'macro'; name: string; params: string[]; defaults: Expr[]; body: Stmt[]; line: number }
  | { k: 'loopctl'; which: 'break' | 'continue'; line: number }
  | { k: 'generation'; body: Stmt[]; line: number }
  /** A statement Jinja parses but chat templates never need; the checker refuses it by name. */
  | { k: 'unsupported'; tag: string; line: number };

/** Deepest expression or statement nesting accepted (Jinja itself is bounded by Python's recursion limit). */
export const MAX_NESTING = 200;

const COMPARE: Record<string, string> = {
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'lteq',
  '>': 'gt',
  '>=': 'gteq',
};
/** Tags Jinja knows but the checker refuses; they are parsed only far enough to name them. */
const REFUSED_TAGS = new Set([
  'block',
  'extends',
  'include',
  'import',
  'from',
  'with',
  'autoescape',
  'filter',
  'call',
  'do',
  'endblock',
  'endwith',
  'endautoescape',
  'endfilter',
  'endcall',
]);

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly t: Token[]) {}

  private get cur(): Token {
    return this.t[this.i];
  }
  private look(): Token {
    return this.t[Math.min(this.i + 1, this.t.length - 1)];
  }
  private next(): Token {
    const tok = this.t[this.i];
    if (this.i < this.t.length - 1) this.i++;
    return tok;
  }
  private fail(msg: string, tok: Token = this.cur): never {
    throw new TemplateSyntaxError(msg, tok.line);
  }
  private is(type: Token['type'], value?: string, tok: Token = this.cur): boolean {
    return tok.type === type && (value === undefined || tok.value === value);
  }
  private isName(v: string, tok: Token = this.cur) {
    return this.is('name', v, tok);
  }
  private isOp(v: string, tok: Token = this.cur) {
    return this.is('op', v, tok);
  }
  private skipName(v: string): boolean {
    if (this.isName(v)) {
      this.next();
      return true;
    }
    return false;
  }
  private expectOp(v: string): Token {
    if (!this.isOp(v)) this.fail(`expected '${v}', got ${describe(this.cur)}`);
    return this.next();
  }
  private expectName(v?: string): Token {
    if (!this.is('name', v)) this.fail(`expected ${v ? `'${v}'` : 'a name'}, got ${describe(this.cur)}`);
    return this.next();
  }
  private expectType(type: Token['type']): Token {
    if (!this.is(type)) this.fail(`expected ${type}, got ${describe(this.cur)}`);
    return this.next();
  }
  private enter() {
    if (++this.depth > MAX_NESTING) this.fail(`nesting deeper than ${MAX_NESTING}`);
  }
  private leave() {
    this.depth--;
  }

  // ---- statements ------------------------------------------------------------------------------------------
  parseTemplate(): Stmt[] {
    const body = this.subparse(null);
    if (!this.is('eof')) this.fail(`unexpected ${describe(this.cur)}`);
    return body;
  }

  /** Jinja's subparse: data and `{{ }}` become output; a block tag ends the body when it is an end token. */
  private subparse(endTokens: string[] | null): Stmt[] {
    this.enter();
    const body: Stmt[] = [];
    for (;;) {
      const tok = this.cur;
      if (tok.type === 'data' || tok.type === 'raw') {
        this.next();
      } else if (tok.type === 'variable_begin') {
        this.next();
        body.push({ k: 'output', exprs: [this.parseTuple({ withCondexpr: true })], line: tok.line });
        this.expectType('variable_end');
      } else if (tok.type === 'block_begin') {
        this.next();
        if (endTokens && this.is('name') && endTokens.includes(this.cur.value)) {
          this.leave();
          return body;
        }
        pushAll(body, this.parseStatement());
        this.expectType('block_end');
      } else if (tok.type === 'eof') {
        if (endTokens)
          this.fail(`unexpected end of template, expected ${endTokens.map((e) => `'${e}'`).join(' or ')}`);
        break;
      } else {
        this.fail(`unexpected ${describe(tok)}`);
      }
    }
    this.leave();
    return body;
  }

  private parseStatements(endTokens: string[], dropNeedle = false): Stmt[] {
    if (this.isOp(':')) this.next();
    this.expectType('block_end');
    const body = this.subparse(endTokens);
    if (this.is('eof')) this.fail('unexpected end of template');
    if (dropNeedle) this.next();
    return body;
  }

  private parseStatement(): Stmt[] {
    const tok = this.cur;
    if (tok.type !== 'name') this.fail('tag name expected');
    switch (tok.value) {
      case 'for':
        return [this.parseFor()];
      case 'if':
        return [this.parseIf()];
      case 'set':
        return [this.parseSet()];
      case 'macro':
        return [this.parseMacro()];
      case 'print': {
        this.next();
        const exprs: Expr[] = [];
        while (!this.is('block_end')) {
          if (exprs.length) this.expectOp(',');
          exprs.push(this.parseExpression());
        }
        return [{ k: 'output', exprs, line: tok.line }];
      }
      case 'break':
      case 'continue':
        this.next();
        return [{ k: 'loopctl', which: tok.value, line: tok.line }];
      case 'generation': {
        this.next();
        const body = this.parseStatements(['endgeneration'], true);
        return [{ k: 'generation', body, line: tok.line }];
      }
      default:
        if (REFUSED_TAGS.has(tok.value)) {
          // Skip to the end of this tag; the checker blocks on the tag itself, so its body need not parse.
          this.next();
          while (!this.is('block_end') && !this.is('eof')) this.next();
          if (this.is('eof')) this.fail('unexpected end of template');
          return [{ k: 'unsupported', tag: tok.value, line: tok.line }];
        }
        return this.fail(`encountered unknown tag '${tok.value}'`);
    }
  }

  private parseFor(): Stmt {
    const line = this.expectName('for').line;
    const target = this.parseAssignTarget({ extraEnd: ['in'] });
    this.expectName('in');
    const iter = this.parseTuple({ withCondexpr: false, extraEnd: ['recursive'] });
    let test: Expr | null = null;
    if (this.skipName('if')) test = this.parseExpression();
    const recursive = this.skipName('recursive');
    const body = this.parseStatements(['endfor', 'else']);
    let else_: Stmt[] = [];
    if (this.next().value !== 'endfor') else_ = this.parseStatements(['endfor'], true);
    return { k: 'for', target, iter, test, recursive, body, else_, line };
  }

  private parseIf(): Stmt {
    const line = this.expectName('if').line;
    const test = this.parseTuple({ withCondexpr: false });
    const body = this.parseStatements(['elif', 'else', 'endif']);
    const elifs: Array<[Expr, Stmt[]]> = [];
    let else_: Stmt[] = [];
    for (;;) {
      const tok = this.next();
      if (tok.value === 'elif') {
        const t = this.parseTuple({ withCondexpr: false });
        elifs.push([t, this.parseStatements(['elif', 'else', 'endif'])]);
        continue;
      }
      if (tok.value === 'else') else_ = this.parseStatements(['endif'], true);
      break;
    }
    return { k: 'if', test, body, elifs, else_, line };
  }

  private parseSet(): Stmt {
    const line = this.expectName('set').line;
    const target = this.parseAssignTarget({ withNamespace: true });
    if (this.isOp('=')) {
      this.next();
      return { k: 'set', target, value: this.parseTuple({ withCondexpr: true }), line };
    }
    const filter = this.isOp('|') ? this.parseFilter(null) : null;
    const body = this.parseStatements(['endset'], true);
    return { k: 'setblock', target, filter, body, line };
  }

  private parseMacro(): Stmt {
    const line = this.expectName('macro').line;
    const name = this.expectName().value;
    const params: string[] = [];
    const defaults: Expr[] = [];
    this.expectOp('(');
    while (!this.isOp(')')) {
      if (params.length) this.expectOp(',');
      params.push(this.expectName().value);
      if (this.isOp('=')) {
        this.next();
        defaults.push(this.parseExpression());
      } else if (defaults.length) this.fail('non-default argument follows default argument');
    }
    this.expectOp(')');
    const body = this.parseStatements(['endmacro'], true);
    return { k: 'macro', name, params, defaults, body, line };
  }

  private parseAssignTarget(o: { extraEnd?: string[]; withNamespace?: boolean }): Target {
    if (o.withNamespace && this.is('name') && this.isOp('.', this.look())) {
      const tok = this.next();
      this.next();
      const attr = this.expectName().value;
      return { k: 'nsref', name: tok.value, attr, line: tok.line };
    }
    const e = this.parseTuple({ simplified: true, extraEnd: o.extraEnd });
    return toTarget(e, this.cur);
  }

  // ---- expressions -----------------------------------------------------------------------------------------
  private parseExpression(withCondexpr = true): Expr {
    this.enter();
    const e = withCondexpr ? this.parseCondexpr() : this.parseOr();
    this.leave();
    return e;
  }

  private parseCondexpr(): Expr {
    let e1 = this.parseOr();
    while (this.skipName('if')) {
      const e2 = this.parseOr();
      const e3 = this.skipName('else') ? this.parseCondexpr() : null;
      e1 = { k: 'cond', test: e2, yes: e1, no: e3, line: e2.line };
    }
    return e1;
  }

  private parseOr(): Expr {
    let l = this.parseAnd();
    while (this.skipName('or')) l = { k: 'bin', op: 'or', l, r: this.parseAnd(), line: l.line };
    return l;
  }

  private parseAnd(): Expr {
    let l = this.parseNot();
    while (this.skipName('and')) l = { k: 'bin', op: 'and', l, r: this.parseNot(), line: l.line };
    return l;
  }

  private parseNot(): Expr {
    if (this.isName('not')) {
      const line = this.next().line;
      this.enter();
      const e = this.parseNot();
      this.leave();
      return { k: 'not', e, line };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const e = this.parseMath1();
    const ops: Array<[string, Expr]> = [];
    for (;;) {
      if (this.is('op') && this.cur.value in COMPARE) {
        const op = COMPARE[this.next().value];
        ops.push([op, this.parseMath1()]);
      } else if (this.skipName('in')) ops.push(['in', this.parseMath1()]);
      else if (this.isName('not') && this.isName('in', this.look())) {
        this.next();
        this.next();
        ops.push(['notin', this.parseMath1()]);
      } else break;
    }
    return ops.length ? { k: 'compare', e, ops, line: e.line } : e;
  }

  private parseMath1(): Expr {
    let l = this.parseConcat();
    while (this.isOp('+') || this.isOp('-')) {
      const op = this.next().value;
      l = { k: 'bin', op, l, r: this.parseConcat(), line: l.line };
    }
    return l;
  }

  private parseConcat(): Expr {
    const items = [this.parseMath2()];
    while (this.isOp('~')) {
      this.next();
      items.push(this.parseMath2());
    }
    return items.length === 1 ? items[0] : { k: 'concat', items, line: items[0].line };
  }

  private parseMath2(): Expr {
    let l = this.parsePow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const op = this.next().value;
      l = { k: 'bin', op, l, r: this.parsePow(), line: l.line };
    }
    return l;
  }

  private parsePow(): Expr {
    let l = this.parseUnary(true);
    while (this.isOp('**')) {
      this.next();
      l = { k: 'bin', op: '**', l, r: this.parseUnary(true), line: l.line };
    }
    return l;
  }

  private parseUnary(withFilter: boolean): Expr {
    this.enter();
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const tok = this.next();
      node = { k: tok.value === '-' ? 'neg' : 'pos', e: this.parseUnary(false), line: tok.line };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    this.leave();
    return node;
  }

  private parsePrimary(): Expr {
    const tok = this.cur;
    const line = tok.line;
    if (tok.type === 'name') {
      this.next();
      if (['true', 'false', 'True', 'False'].includes(tok.value))
        return { k: 'const', value: tok.value.toLowerCase() === 'true', kind: 'bool', line };
      if (tok.value === 'none' || tok.value === 'None')
        return { k: 'const', value: null, kind: 'none', line };
      return { k: 'name', name: tok.value, line };
    }
    if (tok.type === 'string') {
      let s = '';
      while (this.is('string')) s += this.next().value;
      return { k: 'const', value: s, kind: 'str', line };
    }
    if (tok.type === 'integer' || tok.type === 'float') {
      this.next();
      return { k: 'const', value: Number(tok.value.replace(/_/g, '')), kind: 'num', line };
    }
    if (this.isOp('(')) {
      this.next();
      const e = this.parseTuple({ explicitParentheses: true });
      this.expectOp(')');
      return e;
    }
    if (this.isOp('[')) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp(']')) {
        if (items.length) this.expectOp(',');
        if (this.isOp(']')) break;
        items.push(this.parseExpression());
      }
      this.expectOp(']');
      return { k: 'list', items, line };
    }
    if (this.isOp('{')) {
      this.next();
      const items: Array<[Expr, Expr]> = [];
      while (!this.isOp('}')) {
        if (items.length) this.expectOp(',');
        if (this.isOp('}')) break;
        const key = this.parseExpression();
        this.expectOp(':');
        items.push([key, this.parseExpression()]);
      }
      this.expectOp('}');
      return { k: 'dict', items, line };
    }
    return this.fail(`unexpected ${describe(tok)}`);
  }

  private parseTuple(o: {
    simplified?: boolean;
    withCondexpr?: boolean;
    extraEnd?: string[];
    explicitParentheses?: boolean;
  }): Expr {
    const line = this.cur.line;
    const parse = () => (o.simplified ? this.parsePrimary() : this.parseExpression(o.withCondexpr ?? true));
    const args: Expr[] = [];
    let isTuple = false;
    for (;;) {
      if (args.length) this.expectOp(',');
      if (this.isTupleEnd(o.extraEnd)) break;
      args.push(parse());
      if (this.isOp(',')) isTuple = true;
      else break;
    }
    if (!isTuple) {
      if (args.length) return args[0];
      if (!o.explicitParentheses) this.fail(`expected an expression, got ${describe(this.cur)}`);
    }
    return { k: 'tuple', items: args, line };
  }

  private isTupleEnd(extraEnd?: string[]): boolean {
    if (this.is('variable_end') || this.is('block_end') || this.isOp(')')) return true;
    return !!extraEnd && this.is('name') && extraEnd.includes(this.cur.value);
  }

  private parsePostfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.') || this.isOp('[')) node = this.parseSubscript(node);
      else if (this.isOp('(')) node = this.parseCall(node);
      else return node;
    }
  }

  private parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) node = this.parseFilter(node);
      else if (this.isName('is')) node = this.parseTest(node);
      else if (this.isOp('(')) node = this.parseCall(node);
      else return node;
    }
  }

  private parseSubscript(node: Expr): Expr {
    const tok = this.next();
    if (tok.value === '.') {
      const a = this.next();
      if (a.type === 'name') return { k: 'getattr', obj: node, attr: a.value, line: tok.line };
      if (a.type !== 'integer') this.fail('expected name or number', a);
      return {
        k: 'getitem',
        obj: node,
        key: { k: 'const', value: Number(a.value.replace(/_/g, '')), kind: 'num', line: a.line },
        line: tok.line,
      };
    }
    const args: Expr[] = [];
    while (!this.isOp(']')) {
      if (args.length) this.expectOp(',');
      args.push(this.parseSubscribed());
    }
    this.expectOp(']');
    const key: Expr = args.length === 1 ? args[0] : { k: 'tuple', items: args, line: tok.line };
    return { k: 'getitem', obj: node, key, line: tok.line };
  }

  private parseSubscribed(): Expr {
    const line = this.cur.line;
    const parts: Array<Expr | null> = [];
    if (this.isOp(':')) {
      this.next();
      parts.push(null);
    } else {
      const node = this.parseExpression();
      if (!this.isOp(':')) return node;
      this.next();
      parts.push(node);
    }
    if (this.isOp(':')) parts.push(null);
    else if (!this.isOp(']') && !this.isOp(',')) parts.push(this.parseExpression());
    else parts.push(null);
    if (this.isOp(':')) {
      this.next();
      parts.push(!this.isOp(']') && !this.isOp(',') ? this.parseExpression() : null);
    } else parts.push(null);
    return { k: 'slice', parts, line };
  }

  private parseCallArgs(): { args: Expr[]; kwargs: Array<[string, Expr]>; dyn: boolean } {
    const open = this.expectOp('(');
    const args: Expr[] = [];
    const kwargs: Array<[string, Expr]> = [];
    let dynArgs = false;
    let dynKwargs = false;
    let requireComma = false;
    const ensure = (ok: boolean) => {
      if (!ok) this.fail('invalid syntax for function call expression', open);
    };
    while (!this.isOp(')')) {
      if (requireComma) {
        this.expectOp(',');
        if (this.isOp(')')) break;
      }
      if (this.isOp('*')) {
        ensure(!dynArgs && !dynKwargs);
        this.next();
        this.parseExpression();
        dynArgs = true;
      } else if (this.isOp('**')) {
        ensure(!dynKwargs);
        this.next();
        this.parseExpression();
        dynKwargs = true;
      } else if (this.is('name') && this.isOp('=', this.look())) {
        ensure(!dynKwargs);
        const key = this.next().value;
        this.next();
        kwargs.push([key, this.parseExpression()]);
      } else {
        ensure(!dynArgs && !dynKwargs && kwargs.length === 0);
        args.push(this.parseExpression());
      }
      requireComma = true;
    }
    this.expectOp(')');
    return { args, kwargs, dyn: dynArgs || dynKwargs };
  }

  private parseCall(fn: Expr): Expr {
    const line = this.cur.line;
    const { args, kwargs, dyn } = this.parseCallArgs();
    return { k: 'call', fn, args, kwargs, dyn, line };
  }

  private dottedName(): string {
    let name = this.expectName().value;
    while (this.isOp('.')) {
      this.next();
      name += `.${this.expectName().value}`;
    }
    return name;
  }

  private parseFilter(node: Expr | null): Expr {
    let obj = node;
    while (this.isOp('|')) {
      const line = this.next().line;
      const name = this.dottedName();
      const call = this.isOp('(') ? this.parseCallArgs() : { args: [], kwargs: [], dyn: false };
      obj = { k: 'filter', obj, name, ...call, line };
    }
    return obj as Expr;
  }

  private parseTest(node: Expr): Expr {
    const line = this.next().line;
    const negated = this.skipName('not');
    const name = this.dottedName();
    let call: { args: Expr[]; kwargs: Array<[string, Expr]>; dyn: boolean } = {
      args: [],
      kwargs: [],
      dyn: false,
    };
    if (this.isOp('(')) call = this.parseCallArgs();
    else if (
      (['name', 'string', 'integer', 'float'].includes(this.cur.type) || this.isOp('[') || this.isOp('{')) &&
      !(this.isName('else') || this.isName('or') || this.isName('and'))
    ) {
      if (this.isName('is')) this.fail('you cannot chain multiple tests with is');
      call = { args: [this.parsePostfix(this.parsePrimary())], kwargs: [], dyn: false };
    }
    const test: Expr = { k: 'test', obj: node, name, ...call, line };
    return negated ? { k: 'not', e: test, line } : test;
  }
}

function describe(t: Token): string {
  if (t.type === 'eof') return 'end of template';
  if (t.type === 'name' || t.type === 'op') return `'${t.value}'`;
  return t.type.replace('_', ' ');
}

function toTarget(e: Expr, at: Token): Target {
  if (e.k === 'name') {
    if (['true', 'false', 'none', 'True', 'False', 'None'].includes(e.name))
      throw new TemplateSyntaxError(`can't assign to '${e.name}'`, at.line);
    return { k: 'name', name: e.name, line: e.line };
  }
  if (e.k === 'tuple') return { k: 'tuple', items: e.items.map((i) => toTarget(i, at)), line: e.line };
  throw new TemplateSyntaxError(`can't assign to ${e.k === 'const' ? 'a literal' : e.k}`, at.line);
}

/** Parse a template into its statements; throws TemplateSyntaxError where Jinja2 would (or where unsure). */
export function parseTemplate(src: string): Stmt[] {
  return new Parser(tokenize(src)).parseTemplate();
}
