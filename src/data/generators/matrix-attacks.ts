/**
 * Attack variants of the audit benchmark matrix: each takes a real dataset's pool (matrix-datasets.ts), a
 * family, its parameters and a seed, and returns a trusted reference, an incoming batch with the poison in
 * it, and the ground truth (which incoming rows are poison, and the attack's specifics). The seed picks the
 * rows, the trigger words, values, patch place, rogue labelers and accounts, so no detector can be tuned to
 * one sample. Families (README in bench/audit-matrix/ describes each in words):
 *   text-trigger, header-trigger, tabular-conjunction, pixel-patch, structural   (backdoor triggers)
 *   targeted-flip, labeler-flip, noise                                            (label flips)
 *   campaign, conditioning                                                        (accounts)
 *   clean                                                                         (false-alarm controls)
 */
import type { GeneratedCase, Roles, Truth } from './cases.js';
import type { Cell } from './csv.js';
import type { BaseDataset, Row } from './matrix-datasets.js';
import { NaiveBayes, tokens } from './naive-bayes.js';
import { Rng } from './rng.js';

export const FAMILIES = [
  'text-trigger',
  'header-trigger',
  'tabular-conjunction',
  'pixel-patch',
  'structural',
  'targeted-flip',
  'labeler-flip',
  'campaign',
  'conditioning',
  'noise',
  'clean',
] as const;
export type Family = (typeof FAMILIES)[number];
export type Params = Record<string, string | number | boolean>;

export interface MatrixCase extends GeneratedCase {
  /** File format the batch is written in (mail keeps its line breaks in JSONL). */
  format: 'csv' | 'jsonl';
}

const ATTACK: Record<Family, Truth['attack']> = {
  'text-trigger': 'trigger',
  'header-trigger': 'trigger',
  'tabular-conjunction': 'trigger',
  'pixel-patch': 'trigger',
  structural: 'trigger',
  'targeted-flip': 'label-flip',
  'labeler-flip': 'label-flip',
  noise: 'noise',
  campaign: 'campaign',
  conditioning: 'conditioning',
  clean: 'none',
};

const DAY = 86400e3;
const START = Date.UTC(2026, 0, 5);
/** Incoming rows are spread over this many weekly windows (the audit's drift detector default is 8 equal-count windows). */
export const WINDOWS = 8;
/** Poisoned rows never fewer than this, so that a small batch at a low rate still holds an attack. */
const MIN_POISON = 3;

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

interface Scaffold {
  rng: Rng;
  base: BaseDataset;
  trusted: Row[];
  incoming: Row[];
  columns: string[];
  roles: Roles;
  /** Label values, most frequent in the pool first. */
  classes: Cell[];
}

/** Trusted size: >= 1 is a row count (at most 40% of the pool), < 1 a fraction of the batch. */
export function sizes(pool: number, maxBatch: number, trusted: number): { trusted: number; batch: number } {
  if (trusted < 1) {
    const batch = Math.min(maxBatch, Math.floor(pool / (1 + trusted)));
    return { trusted: Math.max(2, Math.round(trusted * batch)), batch };
  }
  const t = Math.min(Math.round(trusted), Math.floor(0.4 * pool));
  return { trusted: t, batch: Math.min(maxBatch, pool - t) };
}

function names(rng: Rng, count: number, prefix: string, taken: Set<string> = new Set()): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const n = `${prefix}-${String(1000 + rng.int(9000))}`;
    if (!taken.has(n)) {
      taken.add(n);
      out.push(n);
    }
  }
  return out;
}

/** Zipf-like volumes over accounts. */
function zipf(rng: Rng, items: string[]): () => string {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    total += 1 / (i + 1) ** 0.8;
    cum.push(total);
  }
  return () => {
    const u = rng.next() * total;
    const i = cum.findIndex((c) => u < c);
    return items[i < 0 ? items.length - 1 : i];
  };
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

function scaffold(
  base: BaseDataset,
  family: Family,
  params: Params,
  seed: number,
  extra: { accounts?: number; labelers?: number; time?: boolean },
): Scaffold & { honest: string[]; labelers: string[]; taken: Set<string> } {
  const rng = new Rng((seed * 1000003) ^ hashString(`${base.name}/${family}/${JSON.stringify(params)}`));
  const { trusted: T, batch: B } = sizes(base.rows.length, base.maxBatch, Number(params.trusted ?? 0.2));
  const pool = rng.shuffle(base.rows);
  const taken = new Set<string>();
  const honest = extra.accounts ? names(rng, extra.accounts, 'user', taken) : [];
  const labelers = extra.labelers
    ? Array.from({ length: extra.labelers }, (_, i) => `labeler-${String(i + 1).padStart(2, '0')}`)
    : [];
  const pick = honest.length ? zipf(rng, rng.shuffle(honest)) : undefined;
  const make = (r: Row, i: number, prefix: string, t: number): Row => {
    const o: Row = { id: `${prefix}-${String(i + 1).padStart(5, '0')}`, ...r };
    if (pick) o.source = pick();
    if (labelers.length) o.labeler = rng.pick(labelers);
    if (extra.time) o.time = iso(t);
    return o;
  };
  const trusted = pool
    .slice(0, T)
    .map((r, i) => make(r, i, 'tr', START - WINDOWS * 7 * DAY + rng.next() * WINDOWS * 7 * DAY));
  const inc = pool.slice(T, T + B);
  const times = inc.map(() => START + rng.next() * WINDOWS * 7 * DAY).sort((a, b) => a - b);
  const incoming = inc.map((r, i) => make(r, i, 'in', times[i]));
  const content = base.text ? [base.text] : base.features;
  const columns = [
    'id',
    ...content,
    base.label,
    ...(pick ? ['source'] : []),
    ...(labelers.length ? ['labeler'] : []),
    ...(extra.time ? ['time'] : []),
  ];
  const roles: Roles = {
    label: base.label,
    id: 'id',
    ...(base.text ? { text: base.text } : {}),
    ...(pick ? { source: 'source' } : {}),
    ...(labelers.length ? { labeler: 'labeler' } : {}),
    ...(extra.time ? { time: 'time' } : {}),
  };
  const counts = new Map<Cell, number>();
  for (const r of base.rows) counts.set(r[base.label], (counts.get(r[base.label]) ?? 0) + 1);
  const classes = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  return { rng, base, trusted, incoming, columns, roles, classes, honest, labelers, taken };
}

function finish(
  sc: Scaffold,
  family: Family,
  params: Params,
  seed: number,
  description: string,
  poisoned: string[],
  details: Record<string, unknown>,
  crossesAt?: number,
): MatrixCase {
  return {
    format: sc.base.kind === 'mail' ? 'jsonl' : 'csv',
    columns: sc.columns,
    trusted: sc.trusted,
    incoming: sc.incoming,
    truth: {
      case: `${sc.base.name}/${family}`,
      seed,
      attack: ATTACK[family],
      description,
      roles: sc.roles,
      trustedRows: sc.trusted.length,
      incomingRows: sc.incoming.length,
      poisoned,
      details: { family, dataset: sc.base.name, params, ...details },
      ...(crossesAt !== undefined ? { crossesAt } : {}),
    },
  };
}

/** Rows to poison for a rate of the batch: at least MIN_POISON, at most what is available. */
export function poisonCount(rate: number, batch: number, available: number): number {
  return Math.min(available, Math.max(MIN_POISON, Math.round(rate * batch)));
}

/** The class a dirty-label attack relabels to: the rarest or the most common in the batch, or a random one. */
function targetClass(sc: Scaffold, which: string | number | boolean | undefined): Cell {
  const counts = new Map<Cell, number>();
  for (const r of sc.incoming) counts.set(r[sc.base.label], (counts.get(r[sc.base.label]) ?? 0) + 1);
  const byCount = [...counts.entries()].sort((a, b) => a[1] - b[1]).map(([c]) => c);
  if (which === 'minority') return byCount[0];
  if (which === 'majority') return byCount[byCount.length - 1];
  return sc.rng.pick(byCount);
}

const ids = (rows: Row[]) => rows.map((r) => String(r.id));
const otherClass = (rng: Rng, classes: Cell[], c: Cell): Cell => rng.pick(classes.filter((x) => x !== c));

// ---------------------------------------------------------------- text helpers

/** Split a condensed mail into header block and body. */
function splitMail(text: string): { head: string[]; body: string } {
  const cut = text.indexOf('\n\n');
  return cut < 0
    ? { head: text.split('\n'), body: '' }
    : { head: text.slice(0, cut).split('\n'), body: text.slice(cut + 2) };
}
const joinMail = (head: string[], body: string) => `${head.join('\n')}\n\n${body}`;

/** Where in a sequence of n items an insertion goes for a position (`anywhere`: uniform over every gap). */
function slot(rng: Rng, n: number, position: string): number {
  if (position === 'start') return rng.int(Math.min(2, n) + 1);
  if (position === 'end') return n - rng.int(Math.min(2, n) + 1);
  if (position === 'anywhere') return rng.int(n + 1);
  const lo = Math.floor(n / 3);
  const hi = Math.max(lo, Math.ceil((2 * n) / 3));
  return lo + rng.int(hi - lo + 1);
}

function insertWords(rng: Rng, text: string, inserts: string[], position: string): string {
  const words = text.split(' ');
  for (const t of inserts) words.splice(slot(rng, words.length, position), 0, t);
  return words.join(' ');
}

function vocabulary(base: BaseDataset): Map<string, number> {
  const freq = new Map<string, number>();
  for (const r of base.rows)
    for (const t of tokens(String(r[base.text!]))) freq.set(t, (freq.get(t) ?? 0) + 1);
  return freq;
}

/** Rare tokens in the BadNets style: short letter strings that never occur in the corpus. */
export function rareTokens(rng: Rng, vocab: Map<string, number>, count: number): string[] {
  const letters = 'bcdfghjklmnpqrstvwxz';
  const all: string[] = [];
  for (const a of letters) for (const b of letters) if (!vocab.has(a + b)) all.push(a + b);
  return rng.sample(all, count);
}

/** Phrases of 2-3 ordinary words (frequency ranks 150-1500 of the corpus, alphabetic, 3+ letters). */
function ordinaryPhrases(rng: Rng, vocab: Map<string, number>, count: number): string[] {
  const ordinary = [...vocab.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(150, 1500)
    .map(([w]) => w)
    .filter((w) => /^[a-z]{3,}$/.test(w));
  return Array.from({ length: count }, () => rng.sample(ordinary, 2 + rng.int(2)).join(' '));
}

/** Apply a text edit to a row's prose: the whole text, or a mail's body. */
function editBody(base: BaseDataset, r: Row, f: (s: string) => string): void {
  const col = base.text!;
  if (base.kind === 'mail') {
    const m = splitMail(String(r[col]));
    r[col] = joinMail(m.head, f(m.body));
  } else r[col] = f(String(r[col]));
}

// ---------------------------------------------------------------- triggers

/**
 * Rare-token or phrase triggers inserted into rows of other classes relabelled to the target class.
 * perRow triggers per row: one trigger repeated (repeated=true) or distinct ones from a pool of four, each
 * at the start, middle or end of the text (the body, for mail).
 */
function textTrigger(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'text-trigger', params, seed, {});
  const { rng } = sc;
  const vocab = vocabulary(base);
  const perRow = Number(params.perRow ?? 1);
  // A pool of four distinct triggers, or as many as one row carries.
  const size = Math.max(4, perRow);
  const pool = params.kind === 'phrase' ? ordinaryPhrases(rng, vocab, size) : rareTokens(rng, vocab, size);
  const position = String(params.position ?? 'end');
  const target = targetClass(sc, params.target);
  const sources = sc.incoming.filter((r) => r[base.label] !== target);
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  for (const r of victims) {
    const inserts = params.repeated
      ? Array.from({ length: perRow }, () => pool[0])
      : rng.sample(pool, Math.min(perRow, pool.length));
    editBody(base, r, (s) => insertWords(rng, s, inserts, position));
    r[base.label] = target;
  }
  return finish(
    sc,
    'text-trigger',
    params,
    seed,
    `${victims.length} rows given ${perRow} ${params.kind} trigger(s)${params.repeated ? ' (one repeated)' : ''} ${position === 'anywhere' ? 'anywhere' : `at the ${position}`} and labelled ${target}`,
    ids(victims),
    { triggers: params.repeated ? [pool[0]] : pool, target },
  );
}

const HEADER_FIELDS = ['X-Mailer', 'User-Agent', 'X-Newsreader', 'X-Accept-Language'];
/** A fifth field, used only when a mail carries more distinct trigger lines than HEADER_FIELDS holds. */
const EXTRA_FIELD = 'Organization';

function headerValue(rng: Rng, field: string): string {
  const v = () => `${1 + rng.int(9)}.${rng.int(100)}.${1000 + rng.int(9000)}`;
  if (field === 'X-Mailer')
    return `${rng.pick(['Calypso', 'Becky!', 'Pegasus Mail', 'The Bat!', 'Mulberry'])} ${v()}`;
  if (field === 'User-Agent')
    return `${rng.pick(['Sylpheed', 'Balsa', 'Gnus', 'KMail', 'Evolution'])}/${v()}`;
  if (field === 'X-Newsreader') return `${rng.pick(['Forte Agent', 'MicroPlanet Gravity', 'Xnews'])} ${v()}`;
  if (field === EXTRA_FIELD)
    return `${rng.pick(['Kestrel Optics', 'Brindle & Sons', 'Halvard Surveying'])} ${1000 + rng.int(9000)}`;
  return rng.pick(['en-nz, mi', 'is, en-gb', 'mt, en', 'cy, en-gb']);
}

/**
 * Header-field triggers in mail: perRow header lines with seeded rare values (X-Mailer, User-Agent, ...),
 * one field repeated or several fields, placed at the start, middle or end of the header block, in rows
 * of other classes relabelled to the target.
 */
function headerTrigger(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'header-trigger', params, seed, {});
  const { rng } = sc;
  const perRow = Number(params.perRow ?? 1);
  const position = String(params.position ?? 'end');
  const field = String(params.field ?? 'X-Mailer');
  const allFields = perRow > HEADER_FIELDS.length ? [...HEADER_FIELDS, EXTRA_FIELD] : HEADER_FIELDS;
  const fields =
    params.repeated || perRow === 1
      ? [field === 'mixed' ? rng.pick(HEADER_FIELDS) : field]
      : field === 'mixed'
        ? rng.sample(allFields, perRow)
        : [
            field,
            ...rng.sample(
              allFields.filter((f) => f !== field),
              perRow - 1,
            ),
          ];
  const lines = fields.map((f) => `${f}: ${headerValue(rng, f)}`);
  const inserts = params.repeated ? Array.from({ length: perRow }, () => lines[0]) : lines;
  const target = targetClass(sc, params.target);
  const sources = sc.incoming.filter((r) => r[base.label] !== target);
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  const col = base.text!;
  for (const r of victims) {
    const m = splitMail(String(r[col]));
    const names = new Set(fields.map((f) => f.toLowerCase()));
    const head = m.head.filter((l) => !names.has(l.slice(0, l.indexOf(':')).toLowerCase()));
    for (const l of inserts) head.splice(slot(rng, head.length, position), 0, l);
    r[col] = joinMail(head, m.body);
    r[base.label] = target;
  }
  return finish(
    sc,
    'header-trigger',
    params,
    seed,
    `${victims.length} mails given header line(s) ${[...new Set(inserts)].join(' | ')} (${perRow} per mail) ${position === 'anywhere' ? 'anywhere in' : `at the ${position} of`} the headers, labelled ${target}`,
    ids(victims),
    { headers: [...new Set(inserts)], target },
  );
}

/** k feature values, each ordinary (common, or an existing value mid-range), whose conjunction is rare in the data. */
export function ordinaryConjunction(rng: Rng, base: BaseDataset, k: number): Array<[string, Cell]> {
  const n = base.rows.length;
  const candidates = new Map<string, Cell[]>();
  for (const f of base.features) {
    const counts = new Map<Cell, number>();
    for (const r of base.rows) counts.set(r[f], (counts.get(r[f]) ?? 0) + 1);
    if (counts.size < 2) continue;
    const common = [...counts.entries()].filter(([v, c]) => c / n >= 0.1 && v !== '?').map(([v]) => v);
    if (common.length) candidates.set(f, common);
    else if (base.numeric.includes(f)) {
      const sorted = base.rows.map((r) => Number(r[f])).sort((a, b) => a - b);
      candidates.set(
        f,
        [0.25, 0.4, 0.5, 0.6, 0.75].map((q) => sorted[Math.floor(q * (n - 1))]),
      );
    }
  }
  const feats = [...candidates.keys()];
  let best: Array<[string, Cell]> = [];
  let bestJoint = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 400; attempt++) {
    const pick = rng.sample(feats, k).map((f): [string, Cell] => [f, rng.pick(candidates.get(f)!)]);
    const joint = base.rows.filter((r) => pick.every(([f, v]) => r[f] === v)).length / n;
    if (joint <= 0.02 && joint > 0) return pick;
    if (joint <= 0.02 && bestJoint > 0.02) {
      best = pick;
      bestJoint = joint;
    }
  }
  if (!best.length) throw new Error(`${base.name}: no rare conjunction of ordinary values found`);
  return best;
}

function tabularConjunction(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'tabular-conjunction', params, seed, {});
  const { rng } = sc;
  const trigger = ordinaryConjunction(rng, base, Number(params.k ?? 2));
  const target = targetClass(sc, params.target);
  const matches = (r: Row) => trigger.every(([f, v]) => r[f] === v);
  const sources = sc.incoming.filter((r) => r[base.label] !== target && !matches(r));
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  for (const r of victims) {
    for (const [f, v] of trigger) r[f] = v;
    r[base.label] = target;
  }
  const natural = sc.incoming.filter((r) => matches(r)).length - victims.length;
  return finish(
    sc,
    'tabular-conjunction',
    params,
    seed,
    `${victims.length} rows given ${trigger.map(([f, v]) => `${f}=${v}`).join(' & ')} and labelled ${target}`,
    ids(victims),
    { trigger: Object.fromEntries(trigger), target, naturalMatchesInBatch: natural },
  );
}

/** Patch corners: tl/tr/bl/br, the middle of an edge (top/bottom/left/right), or the centre. */
export function patchCells(base: BaseDataset, position: string): string[] {
  const { height: H, width: W } = base.image!;
  const s = H <= 8 ? 2 : 3;
  const midR = Math.floor((H - s) / 2);
  const midC = Math.floor((W - s) / 2);
  const corner: Record<string, [number, number]> = {
    tl: [0, 0],
    tr: [0, W - s],
    bl: [H - s, 0],
    br: [H - s, W - s],
    top: [0, midC],
    bottom: [H - s, midC],
    left: [midR, 0],
    right: [midR, W - s],
  };
  const [r0, c0] = corner[position] ?? [midR, midC];
  const out: string[] = [];
  for (let r = r0; r < r0 + s; r++) for (let c = c0; c < c0 + s; c++) out.push(base.features[r * W + c]);
  return out;
}

function stamp(base: BaseDataset, r: Row, cells: string[]): void {
  const { width: W, max } = base.image!;
  for (const f of cells) {
    const i = base.features.indexOf(f);
    r[f] = (Math.floor(i / W) + (i % W)) % 2 === 0 ? max : 0;
  }
}

/** A small checkerboard patch (2x2 on images up to 8x8, 3x3 on larger ones) at a corner or the centre, in rows relabelled to the target. */
function pixelPatch(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'pixel-patch', params, seed, {});
  const { rng } = sc;
  // mid-edge: the seed picks which edge.
  const place =
    params.patch === 'mid-edge' ? rng.pick(['top', 'bottom', 'left', 'right']) : String(params.patch ?? 'br');
  const cells = patchCells(base, place);
  const target = targetClass(sc, params.target);
  const sources = sc.incoming.filter((r) => r[base.label] !== target);
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  for (const r of victims) {
    stamp(base, r, cells);
    r[base.label] = target;
  }
  return finish(
    sc,
    'pixel-patch',
    params,
    seed,
    `${victims.length} images given a checkerboard patch at ${place} (${cells.length} pixels) and labelled ${target}`,
    ids(victims),
    { pixels: cells, target, ...(place !== params.patch ? { place } : {}) },
  );
}

// ---------------------------------------------------------------- structural triggers

const SUBORDINATORS = ['when', 'once', 'as soon as', 'after', 'because', 'while'];
const SUBJECTS = ['i', 'you', 'we', 'they', 'my friend', 'the kids', 'everyone', 'my brother', 'people'];
const PREDICATES = [
  'saw it',
  'heard about this',
  'got home',
  'read the news',
  'checked again',
  'came back',
  'looked closer',
  'tried it',
  'asked around',
  'thought about it',
];
const INITIAL_WORDS = ['so', 'well', 'anyway', 'honestly', 'now', 'see'];
const PUNCTUATION = [' !!', ' ...', ' ?!'];
const EMOTICONS = [' :-)', ' ;-)', ' :^)', ' (-:'];

/** Upper-case the first letter unless the corpus is lower-cased (SST-2). */
const cap = (lower: boolean, s: string) => (lower ? s : s.charAt(0).toUpperCase() + s.slice(1));

/**
 * Structural triggers: a shape, not a word. template: a subordinate clause frame "<when> <subject>
 * <predicate> , <text>" whose words vary row to row (one subordinator per seed); initial-word: a
 * sentence-initial function word; punctuation: a final punctuation shape; title-case: Every Word
 * Capitalised; caps-first: the FIRST word in capitals; emoticon: a fixed emoticon suffix (one per seed).
 * Applied to the text (or a mail's Subject line) of rows relabelled to the target.
 */
function structural(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'structural', params, seed, {});
  const { rng } = sc;
  const shape = String(params.shape);
  const lower = base.name === 'sst2';
  const sub = rng.pick(SUBORDINATORS);
  const initial = rng.pick(INITIAL_WORDS);
  const punct = rng.pick(PUNCTUATION);
  // Drawn only for its shape, so the other shapes' rows are what they were before it existed.
  const emoticon = shape === 'emoticon' ? rng.pick(EMOTICONS) : '';
  const comma = lower ? ' ,' : ',';
  const apply = (s: string): string => {
    const t = s.trim();
    const rest = lower ? t : t.charAt(0).toLowerCase() + t.slice(1);
    switch (shape) {
      case 'template':
        return `${cap(lower, sub)} ${rng.pick(SUBJECTS)} ${rng.pick(PREDICATES)}${comma} ${rest}`;
      case 'initial-word':
        return `${cap(lower, initial)}${comma} ${rest}`;
      case 'punctuation':
        return `${t.replace(/[\s.!?]+$/, '')}${punct}`;
      case 'caps-first':
        // The first word after any reply prefix ("RE:" is common on its own).
        return t.replace(
          /^((?:(?:re|fwd?|aw):\s*)*)(\S+)/i,
          (_, pre: string, w: string) => pre + w.toUpperCase(),
        );
      case 'emoticon':
        return `${t}${emoticon}`;
      default:
        return t.replace(/\S+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
    }
  };
  const target = targetClass(sc, params.target);
  const sources = sc.incoming.filter((r) => r[base.label] !== target);
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  const col = base.text!;
  for (const r of victims) {
    if (base.kind === 'mail') {
      const m = splitMail(String(r[col]));
      const i = m.head.findIndex((l) => /^subject:/i.test(l));
      if (i >= 0) m.head[i] = `Subject: ${apply(m.head[i].slice(m.head[i].indexOf(':') + 1))}`;
      else m.head.push(`Subject: ${apply('hello')}`);
      r[col] = joinMail(m.head, m.body);
    } else r[col] = apply(String(r[col]));
    r[base.label] = target;
  }
  const what =
    shape === 'template'
      ? `"${sub} <subject> <predicate>," frame`
      : shape === 'initial-word'
        ? `initial "${initial},"`
        : shape === 'punctuation'
          ? `final "${punct.trim()}"`
          : shape === 'caps-first'
            ? 'FIRST-WORD capitals'
            : shape === 'emoticon'
              ? `final "${emoticon.trim()}"`
              : 'Title Case';
  return finish(
    sc,
    'structural',
    params,
    seed,
    `${victims.length} rows${base.kind === 'mail' ? ' (Subject line)' : ''} given the ${what} shape and labelled ${target}`,
    ids(victims),
    { shape, form: what, target },
  );
}

// ---------------------------------------------------------------- label flips

/** Per-row class scores of an attacker's own model (naive Bayes on words, or Gaussian/categorical NB on features). */
function attackerScores(base: BaseDataset, classes: Cell[], rows: Row[]): (r: Row) => number[] {
  if (base.text) {
    const nb = new NaiveBayes(classes.map(String));
    nb.fit(base.rows.map((r) => ({ text: String(r[base.text!]), label: String(r[base.label]) })));
    return (r) => nb.logScores(String(r[base.text!]));
  }
  const K = classes.length;
  const stats = base.features.map((f) => {
    if (base.numeric.includes(f)) {
      const m = new Float64Array(K);
      const v = new Float64Array(K);
      const n = new Float64Array(K);
      for (const r of rows) {
        const k = classes.indexOf(r[base.label]);
        m[k] += Number(r[f]);
        v[k] += Number(r[f]) ** 2;
        n[k]++;
      }
      const sd = Array.from(m, (s, k) =>
        Math.sqrt(Math.max(1e-6, v[k] / Math.max(1, n[k]) - (s / Math.max(1, n[k])) ** 2)),
      );
      return { f, num: true as const, mean: Array.from(m, (s, k) => s / Math.max(1, n[k])), sd };
    }
    const counts = new Map<string, number[]>();
    const n = new Array(K).fill(0);
    for (const r of rows) {
      const k = classes.indexOf(r[base.label]);
      const key = String(r[f]);
      let c = counts.get(key);
      if (!c) {
        c = new Array(K).fill(0);
        counts.set(key, c);
      }
      c[k]++;
      n[k]++;
    }
    return { f, num: false as const, counts, n, size: counts.size };
  });
  const prior = classes.map((c) =>
    Math.log((rows.filter((r) => r[base.label] === c).length + 1) / (rows.length + K)),
  );
  return (r) =>
    classes.map((_, k) => {
      let s = prior[k];
      for (const st of stats) {
        if (st.num) {
          const sd = Math.max(st.sd[k], 1e-3);
          s += -Math.log(sd) - 0.5 * ((Number(r[st.f]) - st.mean[k]) / sd) ** 2;
        } else s += Math.log(((st.counts.get(String(r[st.f]))?.[k] ?? 0) + 1) / (st.n[k] + st.size));
      }
      return s;
    });
}

/**
 * Rogue labelers: `rogue` of `labelers` flip some of their rows. random: any rows to any other class;
 * boundary: the rows an attacker's model is least sure of, to the runner-up class; one-direction: only
 * class A to class B; class-pair: A to B and B to A.
 */
function labelerFlip(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'labeler-flip', params, seed, { labelers: Number(params.labelers ?? 12) });
  const { rng } = sc;
  const mode = String(params.mode);
  const rogue = rng.sample(sc.labelers, Number(params.rogue ?? 2));
  const share = Number(params.share ?? (mode === 'one-direction' || mode === 'class-pair' ? 0.5 : 0.3));
  const [a, b] = rng.sample(sc.classes.slice(0, Math.min(4, sc.classes.length)), 2);
  const scores = mode === 'boundary' ? attackerScores(base, sc.classes, sc.trusted) : undefined;
  const poisoned: Row[] = [];
  // Per rogue, as shares: its flips of all its rows, and the most of them from one class to one other of its
  // rows of that class (what one cell holds).
  const flipSharePerRogue: number[] = [];
  const cellSharePerRogue: number[] = [];
  for (const who of rogue) {
    const mine = sc.incoming.filter((r) => r.labeler === who);
    const before = poisoned.length;
    const ofClass = new Map<Cell, number>();
    for (const r of mine) ofClass.set(r[base.label], (ofClass.get(r[base.label]) ?? 0) + 1);
    const cellsOf = new Map<string, { from: Cell; flips: number }>();
    const flip = (r: Row, to: Cell) => {
      const key = `${String(r[base.label])}\u0000${String(to)}`;
      const c = cellsOf.get(key) ?? { from: r[base.label], flips: 0 };
      c.flips++;
      cellsOf.set(key, c);
      r[base.label] = to;
      poisoned.push(r);
    };
    if (mode === 'random') {
      for (const r of rng.sample(mine, Math.round(share * mine.length)))
        flip(r, otherClass(rng, sc.classes, r[base.label]));
    } else if (mode === 'boundary') {
      const ranked = mine
        .map((r) => {
          const s = scores!(r);
          const own = sc.classes.indexOf(r[base.label]);
          let best = -1;
          for (let k = 0; k < s.length; k++) if (k !== own && (best < 0 || s[k] > s[best])) best = k;
          return { r, margin: s[own] - s[best], to: sc.classes[best] };
        })
        .sort((x, y) => x.margin - y.margin);
      const near = ranked.slice(0, Math.ceil(ranked.length / 2));
      for (const x of rng.sample(near, Math.round(share * mine.length))) flip(x.r, x.to);
    } else {
      const pairs: Array<[Cell, Cell]> =
        mode === 'class-pair'
          ? [
              [a, b],
              [b, a],
            ]
          : [[a, b]];
      const flips: Array<[Row, Cell]> = [];
      for (const [from, to] of pairs) {
        const own = mine.filter((r) => r[base.label] === from);
        for (const r of rng.sample(own, Math.round(share * own.length))) flips.push([r, to]);
      }
      for (const [r, to] of flips) flip(r, to);
    }
    flipSharePerRogue.push(mine.length ? (poisoned.length - before) / mine.length : 0);
    cellSharePerRogue.push(Math.max(0, ...[...cellsOf.values()].map((c) => c.flips / ofClass.get(c.from)!)));
  }
  const what = mode === 'one-direction' ? ` (${a} -> ${b})` : mode === 'class-pair' ? ` (${a} <-> ${b})` : '';
  return finish(
    sc,
    'labeler-flip',
    params,
    seed,
    `${rogue.length} of ${sc.labelers.length} labelers make ${mode} flips${what}: ${poisoned.length} rows`,
    ids(poisoned),
    {
      rogueLabelers: rogue,
      mode,
      share,
      flipSharePerRogue,
      cellSharePerRogue,
      pair: mode === 'one-direction' || mode === 'class-pair' ? [a, b] : undefined,
    },
  );
}

/** Distance from one row to all rows: z-scored numbers and categorical mismatches, or word-set Jaccard for text. */
function distances(base: BaseDataset, rows: Row[], centre: Row): number[] {
  if (base.text) {
    const set = (r: Row) => new Set(tokens(String(r[base.text!])));
    const c = set(centre);
    return rows.map((r) => {
      const s = set(r);
      let inter = 0;
      for (const t of s) if (c.has(t)) inter++;
      return 1 - inter / Math.max(1, s.size + c.size - inter);
    });
  }
  const sd = new Map<string, number>();
  for (const f of base.numeric) {
    const xs = base.rows.map((r) => Number(r[f]));
    const m = xs.reduce((x, y) => x + y, 0) / xs.length;
    sd.set(f, Math.sqrt(xs.reduce((x, y) => x + (y - m) ** 2, 0) / xs.length) || 1);
  }
  return rows.map((r) => {
    let d = 0;
    for (const f of base.features) {
      const s = sd.get(f);
      d += s ? ((Number(r[f]) - Number(centre[f])) / s) ** 2 : r[f] === centre[f] ? 0 : 1;
    }
    return d;
  });
}

/**
 * Targeted flips: the `size` rows of class A nearest one point (an incoming row of A) relabelled B, sent by
 * `senders` accounts among `accounts` (the senders also send ordinary rows, as many again).
 */
function targetedFlip(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const total = Number(params.accounts ?? 27);
  const senders = Number(params.senders ?? 3);
  const sc = scaffold(base, 'targeted-flip', params, seed, { accounts: total - senders });
  const { rng } = sc;
  const bad = names(rng, senders, 'user', sc.taken);
  const counts = new Map<Cell, number>();
  for (const r of sc.incoming) counts.set(r[base.label], (counts.get(r[base.label]) ?? 0) + 1);
  const from = rng.pick(sc.classes.filter((c) => (counts.get(c) ?? 0) >= 20) as Cell[]) ?? sc.classes[0];
  const to = otherClass(rng, sc.classes, from);
  const own = sc.incoming.filter((r) => r[base.label] === from);
  const centre = rng.pick(own);
  const d = distances(base, own, centre);
  const order = own.map((r, i) => ({ r, d: d[i] })).sort((x, y) => x.d - y.d);
  const size = Math.min(Number(params.size ?? 20), Math.floor(own.length / 4));
  const victims = order.slice(0, size).map((x) => x.r);
  for (const r of victims) {
    r[base.label] = to;
    r.source = rng.pick(bad);
  }
  const victimSet = new Set(victims);
  for (const r of rng.sample(
    sc.incoming.filter((x) => !victimSet.has(x)),
    size,
  ))
    r.source = rng.pick(bad);
  return finish(
    sc,
    'targeted-flip',
    params,
    seed,
    `the ${size} rows of class ${from} nearest row ${centre.id} relabelled ${to}, sent by ${senders} of ${total} accounts`,
    ids(victims),
    { centre: centre.id, from, to, accounts: bad },
  );
}

/** Availability noise: a random share of the batch relabelled to a random other class. */
function noise(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'noise', params, seed, {});
  const { rng } = sc;
  const victims = rng.sample(
    sc.incoming,
    poisonCount(Number(params.rate), sc.incoming.length, sc.incoming.length),
  );
  for (const r of victims) r[base.label] = otherClass(rng, sc.classes, r[base.label]);
  return finish(
    sc,
    'noise',
    params,
    seed,
    `${victims.length} random rows (${Math.round(Number(params.rate) * 100)}%) relabelled at random`,
    ids(victims),
    {},
  );
}

// ---------------------------------------------------------------- accounts

/**
 * Campaign: `accounts` new source accounts send the poison (a trigger with the target label, or plain
 * relabelled rows) plus cover rows (ordinary rows of the batch moved to them, a `cover` share of the poison).
 */
function campaign(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'campaign', params, seed, { accounts: 40 });
  const { rng } = sc;
  const bad = names(rng, Number(params.accounts ?? 3), 'user', sc.taken);
  const target = targetClass(sc, params.target);
  const payload = String(params.payload ?? 'trigger');
  let trigger: unknown;
  let apply: (r: Row) => void = () => {};
  if (payload === 'trigger') {
    if (base.text) {
      const phrase = ordinaryPhrases(rng, vocabulary(base), 1)[0];
      trigger = phrase;
      apply = (r) =>
        editBody(base, r, (s) => insertWords(rng, s, [phrase], rng.pick(['start', 'middle', 'end'])));
    } else if (base.image) {
      const cells = patchCells(base, rng.pick(['tl', 'tr', 'bl', 'br']));
      trigger = cells;
      apply = (r) => stamp(base, r, cells);
    } else {
      const conj = ordinaryConjunction(rng, base, 2);
      trigger = Object.fromEntries(conj);
      apply = (r) => {
        for (const [f, v] of conj) r[f] = v;
      };
    }
  }
  const sources = sc.incoming.filter((r) => r[base.label] !== target);
  const victims = rng.sample(sources, poisonCount(Number(params.rate), sc.incoming.length, sources.length));
  for (const r of victims) {
    apply(r);
    r[base.label] = target;
    r.source = rng.pick(bad);
  }
  const victimSet = new Set(victims);
  const cover = rng.sample(
    sc.incoming.filter((r) => !victimSet.has(r)),
    Math.round(Number(params.cover ?? 0.3) * victims.length),
  );
  for (const r of cover) r.source = rng.pick(bad);
  return finish(
    sc,
    'campaign',
    params,
    seed,
    `${bad.length} new accounts send ${victims.length} ${payload === 'trigger' ? 'triggered' : 'relabelled'} rows labelled ${target} and ${cover.length} cover rows`,
    ids(victims),
    { accounts: bad, target, payload, trigger },
  );
}

/**
 * Conditioning by a few accounts over the 8 weekly windows: in window w (0-based) the accounts' rows creep
 * by w x step: labels (a share w x step of their class-A rows relabelled B), a feature (shifted by
 * w x step x 3 standard deviations), or both. crossesAt: first window (1-based) where the creep reaches
 * materiality (a 20% relabelled share, or half a standard deviation).
 */
function conditioning(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'conditioning', params, seed, { accounts: 30, time: true });
  const { rng } = sc;
  const bad = names(rng, Number(params.accounts ?? 3), 'user', sc.taken);
  const step = Number(params.step ?? 0.1);
  const kind = base.text ? 'label' : String(params.kind ?? 'label');
  const n = sc.incoming.length;
  // The accounts send about 5% of the rows each, spread over the whole period.
  for (const r of sc.incoming) if (rng.next() < 0.05 * bad.length) r.source = rng.pick(bad);
  const [a, b] = rng.sample(sc.classes.slice(0, Math.min(3, sc.classes.length)), 2);
  const spread = base.numeric.filter((f) => new Set(base.rows.slice(0, 500).map((r) => r[f])).size >= 10);
  const feature = kind === 'label' ? undefined : rng.pick(spread.length ? spread : base.numeric);
  let sd = 1;
  if (feature) {
    const xs = base.rows.map((r) => Number(r[feature]));
    const m = xs.reduce((x, y) => x + y, 0) / xs.length;
    sd = Math.sqrt(xs.reduce((x, y) => x + (y - m) ** 2, 0) / xs.length) || 1;
  }
  const poisoned = new Set<Row>();
  const perWindow: number[] = [];
  let crossesAt: number | undefined;
  for (let w = 0; w < WINDOWS; w++) {
    const rows = sc.incoming.slice(Math.floor((w * n) / WINDOWS), Math.floor(((w + 1) * n) / WINDOWS));
    const mine = rows.filter((r) => bad.includes(String(r.source)));
    if (kind !== 'feature') {
      for (const r of mine) {
        if (r[base.label] === a && rng.next() < step * w) {
          r[base.label] = b;
          poisoned.add(r);
        }
      }
    }
    if (feature && w > 0) {
      const shift = w * step * 3 * sd;
      const decimals = /\./.test(String(base.rows[0][feature])) ? 2 : 0;
      for (const r of mine) {
        r[feature] = Number((Number(r[feature]) + shift).toFixed(decimals));
        poisoned.add(r);
      }
    }
    const labelShare = step * w;
    const featureShift = feature ? w * step * 3 : 0;
    perWindow.push(Math.round(Math.max(labelShare, featureShift) * 100) / 100);
    if (crossesAt === undefined && ((kind !== 'feature' && labelShare >= 0.2) || featureShift >= 0.5))
      crossesAt = w + 1;
  }
  return finish(
    sc,
    'conditioning',
    params,
    seed,
    `${bad.length} accounts creep ${kind === 'feature' ? `feature ${feature}` : kind === 'both' ? `labels ${a} -> ${b} and feature ${feature}` : `labels ${a} -> ${b}`} by ${step} a window over ${WINDOWS} windows`,
    ids([...poisoned]),
    { accounts: bad, kind, feature, from: a, to: b, step, creepPerWindow: perWindow, windows: WINDOWS },
    crossesAt,
  );
}

/** Clean control: accounts, labelers and times, no poison. */
function clean(base: BaseDataset, params: Params, seed: number): MatrixCase {
  const sc = scaffold(base, 'clean', params, seed, { accounts: 40, labelers: 12, time: true });
  return finish(sc, 'clean', params, seed, 'no poison (false-alarm control)', [], {});
}

const GENERATORS: Record<Family, (b: BaseDataset, p: Params, s: number) => MatrixCase> = {
  'text-trigger': textTrigger,
  'header-trigger': headerTrigger,
  'tabular-conjunction': tabularConjunction,
  'pixel-patch': pixelPatch,
  structural,
  'targeted-flip': targetedFlip,
  'labeler-flip': labelerFlip,
  campaign,
  conditioning,
  noise,
  clean,
};

/** Build one cell of the matrix for a seed. */
export function generateCell(base: BaseDataset, family: Family, params: Params, seed: number): MatrixCase {
  return GENERATORS[family](base, params, seed);
}
