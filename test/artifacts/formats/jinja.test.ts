/** The chat-template allowlist: real templates pass, generated obfuscated payloads block, the parser agrees with Jinja2. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplate } from '../../../src/artifacts/formats/jinja/check.js';
import { parseTemplate } from '../../../src/artifacts/formats/jinja/parser.js';
import { generatePayloads } from './jinja-payloads.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'chat-templates');
const REAL = readdirSync(DIR).filter((f) => f.endsWith('.jinja'));
const ids = (t: string) => checkTemplate(t).map((v) => v.rule.meta.id);

describe('real chat templates of popular model families pass', () => {
  it('there are at least 30 of them', () => expect(REAL.length).toBeGreaterThanOrEqual(30));
  it.each(REAL)('%s', (f) => {
    const text = readFileSync(join(DIR, f), 'utf8');
    expect(text.length).toBeGreaterThan(100);
    expect(checkTemplate(text).map((v) => `${v.rule.meta.id}: ${v.construct}`)).toEqual([]);
  });
});

describe('obfuscated SSTI payloads block', () => {
  it('the issue payload blocks with the constructs named', () => {
    const t = `{% set u="_" %}{% set o="o" %}{% set p="p" %}{{ lipsum[u~u~"globals"~u~u][o~"s"][p~"open"]("id").read() }}`;
    const v = checkTemplate(t);
    expect(v.map((x) => x.rule.meta.id)).toEqual(
      expect.arrayContaining(['template/unsafe-global', 'template/computed-name', 'template/unknown-call']),
    );
    expect(
      v.some((x) => x.rule.meta.id === 'template/computed-name' && /u ~ u ~ "globals"/.test(x.construct)),
    ).toBe(true);
  });
  it('10,000 generated payloads (seed 12) all parse and all block', () => {
    const payloads = generatePayloads(12, 10_000);
    expect(payloads.length).toBe(10_000);
    const escaped: string[] = [];
    const unparsed: string[] = [];
    for (const p of payloads) {
      const v = checkTemplate(p);
      if (v.length === 0) escaped.push(p);
      else if (v.every((x) => x.rule.meta.id === 'template/unparseable'))
        unparsed.push(`${p}\n  ${v[0].construct}`);
    }
    expect(escaped.slice(0, 5)).toEqual([]);
    // The generator writes valid Jinja: a payload blocked only because it did not parse proves nothing.
    expect(unparsed.slice(0, 5)).toEqual([]);
  });
  it.each([
    ['{{ x.__class__ }}', 'template/private-name'],
    ["{{ x['__class__'] }}", 'template/private-name'],
    ["{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}", 'template/private-name'],
    ["{{ x['\\137\\137class\\137\\137'] }}", 'template/private-name'],
    ["{{ x|map(attribute='__class__')|list }}", 'template/private-name'],
    ["{{ x|selectattr('__class__')|list }}", 'template/private-name'],
    ["{{ x|sort(attribute='a.__class__') }}", 'template/private-name'],
    ['{{ x|map(attribute=k)|list }}', 'template/computed-name'],
    ["{{ x|map('attr', '__class__')|list }}", 'template/computed-name'],
    ["{% set k = 'a' %}{{ x[k] }}", 'template/computed-name'],
    ["{% for k in ['a'] %}{{ x[k] }}{% endfor %}", 'template/computed-name'],
    ['{% macro m(k) %}{{ x[k] }}{% endmacro %}{{ m("__class__") }}', 'template/computed-name'],
    ['{{ m[message.role][message.name] }}', 'template/computed-name'],
    ["{% for k, v in {'__class__': 1}.items() %}{{ x[k] }}{% endfor %}", 'template/computed-name'],
    ["{% set ns = namespace(k='__class__') %}{{ x[ns.k] }}", 'template/computed-name'],
    ['{% macro m(k) %}{{ x[k] }}{% endmacro %}{{ m(k="__class__") }}', 'template/computed-name'],
    ["{% macro m(k='__class__') %}{{ x[k] }}{% endmacro %}{{ m() }}", 'template/computed-name'],
    ['{% set k %}__class__{% endset %}{{ x[k] }}', 'template/computed-name'],
    ["{% set messages = ['__class__'] %}{{ x[messages[0]] }}", 'template/computed-name'],
    ["{{ x[message.role|default('__class__')] }}", 'template/computed-name'],
    ["{{ '{0.__class__}'.format(x) }}", 'template/unsafe-attribute'],
    ['{{ x.mro() }}', 'template/unsafe-attribute'],
    ['{{ messages.append(1) }}', 'template/unsafe-attribute'],
    ['{{ x.strip.y }}', 'template/function-access'],
    ['{{ range.x }}', 'template/function-access'],
    ['{% macro m() %}{% endmacro %}{{ m.y }}', 'template/function-access'],
    ['{{ foo(1) }}', 'template/unknown-call'],
    ['{{ x.y() }}', 'template/unknown-call'],
    ['{{ x|pprint }}', 'template/unknown-filter'],
    ['{{ x|my.filter }}', 'template/unknown-filter'],
    ['{{ x is callable }}', 'template/unknown-test'],
    ["{{ x|select('callable')|list }}", 'template/unknown-test'],
    ["{% include 'x' %}", 'template/unsupported-syntax'],
    ["{% import 'x' as y %}", 'template/unsupported-syntax'],
    ['{% filter upper %}x{% endfilter %}', 'template/unsupported-syntax'],
    ['{% for x in y recursive %}{{ loop(x) }}{% endfor %}', 'template/unsupported-syntax'],
    ['{{ 9**9**9 }}', 'template/unsupported-syntax'],
    ['{{ f(*a) }}', 'template/unsupported-syntax'],
    ['{{ loop.cycle("a", "b") }}', 'template/unknown-call'],
    ['{{ x', 'template/unparseable'],
    ['{% if x %}', 'template/unparseable'],
    ['{{ lipsumé }}', 'template/unparseable'],
    ["{{ '\\N{LOW LINE}' }}", 'template/unparseable'],
    ['{{ x ! y }}', 'template/unparseable'],
    ['{% raw %}never closed', 'template/unparseable'],
    ['{# never closed', 'template/unparseable'],
    [`${'{{ ('.repeat(300)}1${') }}'.repeat(300)}`, 'template/unparseable'],
    ['{{ _private }}', 'template/private-name'],
    ['{% set ns = namespace(__x=1) %}', 'template/private-name'],
    ['{{ joiner() }}', 'template/unsafe-global'],
    ['{{ g.x }}', 'template/unsafe-global'],
  ])('%s -> %s', (tpl, rule) => {
    expect(ids(tpl)).toContain(rule);
  });
});

describe('the parser reads templates as Jinja2 does', () => {
  it.each([
    // Comments and raw blocks are not code: nothing in them is checked (Jinja never evaluates them).
    ['{# {{ lipsum.__globals__ }} #}', []],
    ['{% raw %}{{ lipsum.__globals__ }}{% endraw %}', []],
    ['{%- raw -%}{{ lipsum }}{%- endraw -%}', []],
    // ... but code right after them is.
    ['{# x #}{{ lipsum }}', ['template/unsafe-global']],
    ['{% raw %}x{% endraw %}{{ cycler }}', ['template/unsafe-global']],
    // A delimiter inside a string literal does not end the tag.
    ['{{ "}}" ~ lipsum }}', ['template/unsafe-global']],
    ["{% set x = '%}' %}{{ joiner }}", ['template/unsafe-global']],
    // Braces are balanced: `}}` inside a dict literal does not close the variable tag.
    ["{{ {'a': {'b': lipsum}} }}", ['template/unsafe-global']],
    // Adjacent string literals are concatenated by the parser.
    ["{{ x['__cl' 'ass__'] }}", ['template/private-name']],
    // `x.0` is an item; whitespace control on every delimiter.
    ['{{- messages.0.content -}}{%+ if true -%}{%- endif +%}', []],
    // Python's whitespace (\x1c-\x1f) separates tokens; JavaScript's \s would not.
    ['{{\x1clipsum\x1f}}', ['template/unsafe-global']],
  ])('%s', (tpl, expected) => {
    expect([...new Set(ids(tpl))]).toEqual(expected);
  });
  it('filters bind tighter than binary operators, tests after filters', () => {
    const [stmt] = parseTemplate('{{ a ~ b|upper is defined }}');
    expect(stmt.k).toBe('output');
    const e = stmt.k === 'output' ? stmt.exprs[0] : null;
    expect(e?.k).toBe('concat');
    if (e?.k === 'concat') expect(e.items[1].k).toBe('test');
  });
  it('rejects what Jinja2 rejects', () => {
    for (const bad of [
      '{{ }}',
      '{% endfor %}',
      '{% for %}',
      '{{ a is defined is b }}',
      '{{ f(a=1, 2) }}',
      '{% set 1 = 2 %}',
    ])
      expect(() => parseTemplate(bad), bad).toThrow();
  });
});
