/**
 * What a chat template may use. Drawn from the published chat templates of the major model families (Llama
 * 2/3/3.1/3.2, Mistral, Qwen, Gemma, Phi, DeepSeek, Command-R, Granite, Hermes, ChatGLM, InternLM, ...): the
 * statements, filters, tests, globals and methods they call. Everything else blocks. Adding an entry is a
 * security decision: say which template needs it and why it cannot reach Python internals.
 */

/**
 * Filters. None of these returns a Python object other than data, a string or a number; the ones that take an
 * attribute name (map, selectattr, rejectattr, sort, unique, groupby, sum, min, max, join) are checked so that
 * name is a literal. Refused: `attr` (attribute access by computed name), `format` (printf-style string
 * building, which no major template uses), `pprint`, `xmlattr`, `urlize`, `filesizeformat` (unused).
 */
export const FILTERS = new Set([
  'abs',
  'capitalize',
  'center',
  'count',
  'default',
  'd',
  'dictsort',
  'e',
  'escape',
  'first',
  'float',
  'forceescape',
  'groupby',
  'indent',
  'int',
  'items',
  'join',
  'last',
  'length',
  'list',
  'lower',
  'map',
  'max',
  'min',
  'reject',
  'rejectattr',
  'replace',
  'reverse',
  'round',
  'safe',
  'select',
  'selectattr',
  'slice',
  'batch',
  'sort',
  'string',
  'striptags',
  'sum',
  'title',
  'tojson',
  'trim',
  'truncate',
  'unique',
  'upper',
  'wordcount',
  'wordwrap',
]);

/** Filter arguments that name an attribute (positional index or keyword) and must be safe literals. */
export const ATTRIBUTE_ARGS: Record<string, { positional?: number; keyword?: string }> = {
  map: { keyword: 'attribute' },
  selectattr: { positional: 0 },
  rejectattr: { positional: 0 },
  sort: { keyword: 'attribute' },
  unique: { keyword: 'attribute' },
  groupby: { positional: 0, keyword: 'attribute' },
  sum: { keyword: 'attribute' },
  min: { keyword: 'attribute' },
  max: { keyword: 'attribute' },
  join: { keyword: 'attribute' },
};

/** Tests. All are predicates on values. */
export const TESTS = new Set([
  'defined',
  'undefined',
  'none',
  'string',
  'number',
  'integer',
  'float',
  'boolean',
  'true',
  'false',
  'mapping',
  'iterable',
  'sequence',
  'eq',
  'equalto',
  '==',
  'ne',
  '!=',
  'lt',
  'lessthan',
  '<',
  'le',
  '<=',
  'gt',
  'greaterthan',
  '>',
  'ge',
  '>=',
  'in',
  'odd',
  'even',
  'divisibleby',
  'sameas',
  'lower',
  'upper',
]);

/**
 * Global functions that may be called (and only called: any attribute or item taken on them, or passing
 * them around as values, reaches the Python function object and its `__globals__`).
 * - `raise_exception`: transformers' helper that aborts rendering with a message; Llama 2, Mistral, Gemma.
 * - `strftime_now`: transformers' date helper; Llama 3.1/3.2 and Granite put today's date in the system turn.
 * - `range`: Jinja's range; a few templates index turns by number.
 * - `namespace`: Jinja's mutable holder, the only way a loop can set a flag seen after it; DeepSeek V3/R1,
 *   Qwen 2.5/3, Llama 3.2 vision and Command-R use it. Only `namespace(key=value, ...)` with literal keys is
 *   allowed, and attributes of the resulting object are checked like any other attribute.
 * - `dict`: `dict(key=value)` builds a mapping; harmless when called with literal keys.
 */
export const GLOBAL_FUNCTIONS = new Set(['raise_exception', 'strftime_now', 'range', 'namespace', 'dict']);

/**
 * Names that are never allowed, even without an attribute taken: Jinja's `lipsum`, `cycler` and `joiner`
 * are Python functions or classes whose `__init__.__globals__` reach `os`; `self` is the template reference
 * (`self._TemplateReference__context`); `config`, `request`, `session`, `g`, `url_for` and
 * `get_flashed_messages` are Flask's globals, the classic SSTI entry points; `caller` is the call-block
 * function.
 */
export const UNSAFE_GLOBALS = new Set([
  'lipsum',
  'cycler',
  'joiner',
  'self',
  'config',
  'request',
  'session',
  'g',
  'url_for',
  'get_flashed_messages',
  'caller',
]);

/**
 * String, dict and list methods that real templates call (`content.strip()`, `content.split('</think>')`,
 * `message.content.startswith(...)`, `tool.items()`, `message.get('tool_calls')`). All return data and none
 * mutates its receiver. Refused among others: `format`/`format_map` (replacement fields reach attributes:
 * `"{0.__class__}".format(x)`), and every mutator (`append`, `update`, `pop`, ...), which a sandboxed
 * renderer refuses anyway.
 */
export const METHODS = new Set([
  'strip',
  'lstrip',
  'rstrip',
  'split',
  'rsplit',
  'splitlines',
  'startswith',
  'endswith',
  'lower',
  'upper',
  'title',
  'capitalize',
  'replace',
  'find',
  'rfind',
  'count',
  'join',
  'items',
  'keys',
  'values',
  'get',
  'isdigit',
  'isalpha',
  'isalnum',
  'isspace',
  'isupper',
  'islower',
  'zfill',
  'center',
  'ljust',
  'rjust',
]);

/**
 * Attribute names without underscores that still lead to interpreter internals or mutate data: frame,
 * code and generator internals, `mro`, string formatting and mutators. Blocked wherever they appear.
 */
export const UNSAFE_ATTRIBUTES = new Set([
  'mro',
  'format',
  'format_map',
  'gi_frame',
  'gi_code',
  'gi_yieldfrom',
  'cr_frame',
  'cr_code',
  'cr_await',
  'ag_frame',
  'ag_code',
  'f_globals',
  'f_locals',
  'f_builtins',
  'f_back',
  'f_code',
  'tb_frame',
  'tb_next',
  'co_code',
  'co_consts',
  'func_globals',
  'func_code',
  'func_closure',
  'im_func',
  'im_self',
  'im_class',
  'append',
  'extend',
  'insert',
  'pop',
  'popitem',
  'remove',
  'clear',
  'update',
  'setdefault',
  'copy',
  'encode',
  'decode',
]);

/** Attributes of Jinja's `loop` object that are values (its methods `cycle` and `changed` are not needed). */
export const LOOP_ATTRIBUTES = new Set([
  'index',
  'index0',
  'revindex',
  'revindex0',
  'first',
  'last',
  'length',
  'depth',
  'depth0',
  'previtem',
  'nextitem',
]);
/** Loop attributes that are numbers (safe as a computed index). */
export const LOOP_NUMBERS = new Set([
  'index',
  'index0',
  'revindex',
  'revindex0',
  'length',
  'depth',
  'depth0',
]);

/** Filters whose result is a number (safe as a computed index). */
export const NUMERIC_FILTERS = new Set(['length', 'count', 'int', 'abs', 'round', 'wordcount']);
/** Filters and methods that keep a value data (their result is data when their input is). */
export const DATA_FILTERS = new Set([
  'first',
  'last',
  'list',
  'trim',
  'string',
  'lower',
  'upper',
  'items',
  'dictsort',
  'selectattr',
  'rejectattr',
  'select',
  'reject',
  'sort',
  'unique',
  'default',
  'd',
]);
export const DATA_METHODS = new Set([
  'items',
  'keys',
  'values',
  'strip',
  'lstrip',
  'rstrip',
  'lower',
  'upper',
  'get',
]);
