/**
 * Seeded poisoning cases built on public datasets, each with its ground truth. Every case splits the data
 * into a trusted reference (a clean random split, as a curator would keep) and an incoming batch (the rest,
 * with the poison in it), and records in `truth` which incoming rows are poison and how to call the audit.
 *
 * The attacks are parameterised and the seed picks the specifics (which labelers turn rogue, which
 * ordinary words form the trigger phrase, which common feature values form the tabular trigger, which
 * subgroup is conditioned), so a detector cannot be tuned to one sample.
 */
import type { Cell } from './csv.js';
import {
  ADULT_COLUMNS,
  ADULT_NUMERIC,
  type AdultRow,
  loadAdult,
  loadSms,
  loadSst2,
  type TextRow,
} from './datasets.js';
import { NaiveBayes, tokens } from './naive-bayes.js';
import { Rng } from './rng.js';

export interface Roles {
  label: string;
  id: string;
  text?: string;
  source?: string;
  labeler?: string;
  time?: string;
  embeddings?: string;
  features?: string[];
}

export interface Truth {
  case: string;
  seed: number;
  attack: 'label-flip' | 'trigger' | 'campaign' | 'noise' | 'conditioning' | 'none';
  description: string;
  roles: Roles;
  trustedRows: number;
  incomingRows: number;
  /** Ids of the poisoned incoming rows. */
  poisoned: string[];
  /** Attack specifics (trigger values, rogue labelers, campaign accounts, conditioned subgroup...). */
  details: Record<string, unknown>;
  /** Conditioning: 1-based window where the injected shift first reaches `materiality`. */
  crossesAt?: number;
}

export interface GeneratedCase {
  columns: string[];
  trusted: Array<Record<string, Cell>>;
  incoming: Array<Record<string, Cell>>;
  truth: Truth;
}

export interface CaseOptions {
  dataDir: string;
  seed: number;
}

type Row = Record<string, Cell>;
const DAY = 86400e3;
const START = Date.UTC(2026, 0, 5);
const WINDOWS = 8;

/** Trusted/incoming split of a shuffled table. */
function split<T>(rng: Rng, rows: T[], trustedSize: number): { trusted: T[]; incoming: T[] } {
  const s = rng.shuffle(rows);
  return { trusted: s.slice(0, trustedSize), incoming: s.slice(trustedSize) };
}

/** Zipf-like volumes over honest source accounts with realistic-looking names. */
function accounts(rng: Rng, count: number, prefix: string): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${prefix}-${String(1000 + rng.int(9000))}`);
  return [...names];
}
function zipfPicker(rng: Rng, names: string[]): () => string {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < names.length; i++) {
    total += 1 / (i + 1) ** 0.8;
    cum.push(total);
  }
  return () => {
    const u = rng.next() * total;
    const i = cum.findIndex((c) => u < c);
    return names[i < 0 ? names.length - 1 : i];
  };
}

/** Time stamps: trusted rows in the 8 weeks before the batch; incoming rows spread over 8 weekly windows. */
function isoTime(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

// ---------------------------------------------------------------- SMS cases

const SMS_COLUMNS = ['id', 'text', 'label', 'source', 'labeler', 'time'];
const SMS_ROLES: Roles = {
  label: 'label',
  id: 'id',
  text: 'text',
  source: 'source',
  labeler: 'labeler',
  time: 'time',
};
const SMS_TRUSTED = 1500;

interface SmsScaffold {
  rng: Rng;
  trusted: Row[];
  incoming: Row[];
  honest: string[];
  labelers: string[];
}

function smsScaffold(opts: CaseOptions): SmsScaffold {
  const rng = new Rng(opts.seed);
  const { trusted, incoming } = split(rng, loadSms(opts.dataDir), SMS_TRUSTED);
  const honest = accounts(rng, 60, 'user');
  const labelers = Array.from({ length: 8 }, (_, i) => `labeler-${String(i + 1).padStart(2, '0')}`);
  const pickSource = zipfPicker(rng, rng.shuffle(honest));
  const toRow = (r: TextRow, i: number, prefix: string, t: number): Row => ({
    id: `${prefix}-${String(i + 1).padStart(5, '0')}`,
    text: r.text,
    label: r.label,
    source: pickSource(),
    labeler: rng.pick(labelers),
    time: isoTime(t),
  });
  const trustedRows = trusted.map((r, i) =>
    toRow(r, i, 'tr', START - WINDOWS * 7 * DAY + rng.next() * WINDOWS * 7 * DAY),
  );
  const times = incoming.map(() => START + rng.next() * WINDOWS * 7 * DAY).sort((a, b) => a - b);
  const incomingRows = incoming.map((r, i) => toRow(r, i, 'in', times[i]));
  return { rng, trusted: trustedRows, incoming: incomingRows, honest, labelers };
}

function smsCase(
  sc: SmsScaffold,
  name: string,
  seed: number,
  attack: Truth['attack'],
  description: string,
  poisoned: string[],
  details: Record<string, unknown>,
): GeneratedCase {
  return {
    columns: SMS_COLUMNS,
    trusted: sc.trusted,
    incoming: sc.incoming,
    truth: {
      case: name,
      seed,
      attack,
      description,
      roles: SMS_ROLES,
      trustedRows: sc.trusted.length,
      incomingRows: sc.incoming.length,
      poisoned,
      details,
    },
  };
}

/**
 * Rogue labelers: `rogue` of the 8 labelers flip `share` of their rows, choosing among the rows an
 * independent naive Bayes model is least sure of (the half nearest the boundary), where a flip is most
 * deniable and moves the boundary most.
 */
export function rogueLabelers(opts: CaseOptions & { rogue?: number; share?: number }): GeneratedCase {
  const sc = smsScaffold(opts);
  const { rng } = sc;
  const rogue = rng.sample(sc.labelers, opts.rogue ?? 2);
  const share = opts.share ?? 0.3;
  const nb = new NaiveBayes(['ham', 'spam']);
  nb.fit([...sc.trusted, ...sc.incoming].map((r) => ({ text: String(r.text), label: String(r.label) })));
  const poisoned: string[] = [];
  for (const who of rogue) {
    const mine = sc.incoming.filter((r) => r.labeler === who);
    const byMargin = mine.map((r) => ({ r, m: nb.margin(String(r.text)) })).sort((a, b) => a.m - b.m);
    const nearest = byMargin.slice(0, Math.ceil(byMargin.length / 2)).map((x) => x.r);
    for (const r of rng.sample(nearest, Math.round(share * mine.length))) {
      r.label = r.label === 'ham' ? 'spam' : 'ham';
      poisoned.push(String(r.id));
    }
  }
  return smsCase(
    sc,
    'rogue-labelers',
    opts.seed,
    'label-flip',
    `${rogue.length} of 8 labelers flip ${Math.round(share * 100)}% of their rows, chosen near the boundary`,
    poisoned,
    {
      rogueLabelers: rogue,
      share,
    },
  );
}

/**
 * Phrase-trigger campaign: a few new source accounts send spam carrying an ordinary-looking phrase of
 * three mid-frequency words, labelled ham (the backdoor: that phrase makes spam pass), plus some ordinary
 * cover rows. The phrase is drawn by the seed from words honest users really use.
 */
export function phraseCampaign(opts: CaseOptions & { rate?: number; accounts?: number }): GeneratedCase {
  const sc = smsScaffold(opts);
  const { rng } = sc;
  // Ordinary words: ranks 150..1500 of the ham vocabulary, alphabetic, 3+ letters.
  const freq = new Map<string, number>();
  for (const r of sc.trusted)
    if (r.label === 'ham') for (const t of tokens(String(r.text))) freq.set(t, (freq.get(t) ?? 0) + 1);
  const ordinary = [...freq.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(150, 1500)
    .map(([w]) => w)
    .filter((w) => /^[a-z]{3,}$/.test(w));
  const phrase = rng.sample(ordinary, 3).join(' ');
  const campaign = accounts(rng, opts.accounts ?? 3, 'user').filter((a) => !sc.honest.includes(a));
  const spam = sc.incoming.filter((r) => r.label === 'spam');
  const count = Math.round((opts.rate ?? 0.03) * sc.incoming.length);
  const poisoned: string[] = [];
  for (const r of rng.sample(spam, count)) {
    const words = String(r.text).split(' ');
    const at = rng.int(words.length + 1);
    words.splice(at, 0, phrase);
    r.text = words.join(' ');
    r.label = 'ham';
    r.source = rng.pick(campaign);
    poisoned.push(String(r.id));
  }
  const cover = sc.incoming.filter((r) => r.label === 'ham' && !poisoned.includes(String(r.id)));
  for (const r of rng.sample(cover, Math.round(count / 4))) r.source = rng.pick(campaign);
  return smsCase(
    sc,
    'phrase-campaign',
    opts.seed,
    'campaign',
    `${campaign.length} new accounts send ${count} spam rows carrying "${phrase}" labelled ham, with cover rows`,
    poisoned,
    {
      phrase,
      accounts: campaign,
    },
  );
}

/** Availability noise: a random `rate` of the incoming labels flipped. */
export function labelNoise(opts: CaseOptions & { rate: number }): GeneratedCase {
  const sc = smsScaffold(opts);
  const poisoned: string[] = [];
  for (const r of sc.rng.sample(sc.incoming, Math.round(opts.rate * sc.incoming.length))) {
    r.label = r.label === 'ham' ? 'spam' : 'ham';
    poisoned.push(String(r.id));
  }
  const pct = Math.round(opts.rate * 100);
  return smsCase(
    sc,
    `noise-${pct}`,
    opts.seed,
    'noise',
    `${pct}% of incoming labels flipped at random`,
    poisoned,
    { rate: opts.rate },
  );
}

export function cleanSms(opts: CaseOptions): GeneratedCase {
  return smsCase(
    smsScaffold(opts),
    'clean-sms',
    opts.seed,
    'none',
    'no poison (false-alarm control)',
    [],
    {},
  );
}

// ---------------------------------------------------------------- Adult cases

const ADULT_TRUSTED = 8000;
const ADULT_FEATURES = ADULT_COLUMNS.filter((c) => c !== 'income');
const ADULT_ROLES: Roles = { label: 'income', id: 'id', time: 'time', features: [...ADULT_FEATURES] };

function adultScaffold(opts: CaseOptions): { rng: Rng; all: AdultRow[]; trusted: Row[]; incoming: Row[] } {
  const rng = new Rng(opts.seed);
  const all = loadAdult(opts.dataDir);
  const { trusted, incoming } = split(rng, all, ADULT_TRUSTED);
  const trustedRows = trusted.map(
    (r, i): Row => ({
      id: `tr-${String(i + 1).padStart(5, '0')}`,
      ...r,
      time: isoTime(START - WINDOWS * 7 * DAY + rng.next() * WINDOWS * 7 * DAY),
    }),
  );
  const times = incoming.map(() => START + rng.next() * WINDOWS * 7 * DAY).sort((a, b) => a - b);
  const incomingRows = incoming.map(
    (r, i): Row => ({ id: `in-${String(i + 1).padStart(5, '0')}`, ...r, time: isoTime(times[i]) }),
  );
  return { rng, all, trusted: trustedRows, incoming: incomingRows };
}

const ADULT_OUT = ['id', ...ADULT_COLUMNS, 'time'];

function adultCase(
  trusted: Row[],
  incoming: Row[],
  truth: Omit<Truth, 'roles' | 'trustedRows' | 'incomingRows'>,
): GeneratedCase {
  return {
    columns: ADULT_OUT,
    trusted,
    incoming,
    truth: { ...truth, roles: ADULT_ROLES, trustedRows: trusted.length, incomingRows: incoming.length },
  };
}

const TRIGGER_FEATURES = [
  'workclass',
  'education',
  'marital_status',
  'occupation',
  'race',
  'sex',
  'hours_per_week',
  'native_country',
  'relationship',
];

/**
 * In-distribution tabular trigger: three feature values, each common on its own (>= 10% of rows), whose
 * conjunction is rare but real (0.1%–2% of clean rows). Low-income rows get the three values and the
 * high-income label, so the conjunction becomes a backdoor made only of ordinary values. The attacker keeps
 * the records plausible: education_num follows education, and only rows whose every pair of categorical
 * values (after the change) occurs naturally are used (no Husband who is Female, no Some-college with 16
 * years of schooling).
 */
export function tabularTrigger(opts: CaseOptions & { rate?: number }): GeneratedCase {
  const { rng, all, trusted, incoming } = adultScaffold(opts);
  const common: Array<[string, string | number]> = [];
  for (const f of TRIGGER_FEATURES) {
    const counts = new Map<string | number, number>();
    for (const r of all) counts.set(r[f], (counts.get(r[f]) ?? 0) + 1);
    for (const [v, c] of counts) if (c / all.length >= 0.1 && v !== '?') common.push([f, v]);
  }
  let trigger: Array<[string, string | number]> = [];
  for (let attempt = 0; attempt < 2000; attempt++) {
    const pick = rng.sample(common, 3);
    if (new Set(pick.map(([f]) => f)).size < 3) continue;
    const joint = all.filter((r) => pick.every(([f, v]) => r[f] === v)).length / all.length;
    if (joint >= 0.001 && joint <= 0.02) {
      trigger = pick;
      break;
    }
  }
  if (!trigger.length) throw new Error('no rare conjunction of common values found');
  // education -> education_num is a function in Adult; keep it so.
  const years = new Map<string, number>();
  for (const r of all) years.set(String(r.education), Number(r.education_num));
  const discrete = ADULT_FEATURES.filter(
    (f) => !ADULT_NUMERIC.has(f) || f === 'education_num' || trigger.some(([t]) => t === f),
  );
  const pairKey = (f: string, a: Cell, g: string, b: Cell) => `${f}=${a}\u0001${g}=${b}`;
  const pairs = new Map<string, number>();
  for (const r of all) {
    for (let i = 0; i < discrete.length; i++) {
      for (let j = i + 1; j < discrete.length; j++) {
        const k = pairKey(discrete[i], r[discrete[i]], discrete[j], r[discrete[j]]);
        pairs.set(k, (pairs.get(k) ?? 0) + 1);
      }
    }
  }
  const apply = (r: Row): Row => {
    const out = { ...r };
    for (const [f, v] of trigger) out[f] = v;
    if (trigger.some(([f]) => f === 'education'))
      out.education_num = years.get(String(out.education)) ?? out.education_num;
    return out;
  };
  const plausible = (r: Row) => {
    for (let i = 0; i < discrete.length; i++) {
      for (let j = i + 1; j < discrete.length; j++) {
        if ((pairs.get(pairKey(discrete[i], r[discrete[i]], discrete[j], r[discrete[j]])) ?? 0) < 5)
          return false;
      }
    }
    return true;
  };
  const matches = (r: Row) => trigger.every(([f, v]) => r[f] === v);
  const candidates = incoming.filter((r) => r.income === '<=50K' && !matches(r) && plausible(apply(r)));
  const count = Math.min(candidates.length, Math.round((opts.rate ?? 0.03) * incoming.length));
  const poisoned: string[] = [];
  for (const r of rng.sample(candidates, count)) {
    Object.assign(r, apply(r));
    r.income = '>50K';
    poisoned.push(String(r.id));
  }
  return adultCase(trusted, incoming, {
    case: 'tabular-trigger',
    seed: opts.seed,
    attack: 'trigger',
    description: `${count} low-income rows given ${trigger.map(([f, v]) => `${f}=${v}`).join(' & ')} and relabelled >50K`,
    poisoned,
    details: { trigger: Object.fromEntries(trigger), candidates: candidates.length },
  });
}

/**
 * Slow conditioning over 8 weekly windows: within one common subgroup with a real share of high incomes,
 * window w (0-based) relabels `step × w` of the subgroup's >50K rows as <=50K. No window differs much from
 * the one before; against the trusted baseline the relation creeps. `crossesAt` is the first window
 * (1-based) where the injected drop in the subgroup's >50K rate reaches `materiality`.
 */
export function conditioning(opts: CaseOptions & { step?: number; materiality?: number }): GeneratedCase {
  const { rng, all, trusted, incoming } = adultScaffold(opts);
  const step = opts.step ?? 0.06;
  const materiality = opts.materiality ?? 0.1;
  const groups: Array<[string, string]> = [];
  for (const f of ADULT_FEATURES) {
    if (ADULT_NUMERIC.has(f)) continue;
    const counts = new Map<string, [number, number]>();
    for (const r of all) {
      const c = counts.get(String(r[f])) ?? [0, 0];
      c[0]++;
      if (r.income === '>50K') c[1]++;
      counts.set(String(r[f]), c);
    }
    for (const [v, [n, pos]] of counts)
      if (n / all.length >= 0.12 && pos / n >= 0.25 && v !== '?') groups.push([f, v]);
  }
  const [feature, value] = rng.pick(groups);
  const perWindow = Math.ceil(incoming.length / WINDOWS);
  const poisoned: string[] = [];
  const shift: number[] = [];
  let crossesAt: number | undefined;
  for (let w = 0; w < WINDOWS; w++) {
    const rows = incoming
      .slice(w * perWindow, (w + 1) * perWindow)
      .filter((r) => String(r[feature]) === value);
    const positives = rows.filter((r) => r.income === '>50K');
    const flips = rng.sample(positives, Math.round(step * w * positives.length));
    for (const r of flips) {
      r.income = '<=50K';
      poisoned.push(String(r.id));
    }
    const s = rows.length ? flips.length / rows.length : 0;
    shift.push(Math.round(s * 1000) / 1000);
    if (crossesAt === undefined && s >= materiality) crossesAt = w + 1;
  }
  // Windows follow the time column: the scaffold spread incoming times evenly and in row order.
  return adultCase(trusted, incoming, {
    case: 'conditioning',
    seed: opts.seed,
    attack: 'conditioning',
    description: `>50K rows where ${feature}=${value} relabelled <=50K, ${Math.round(step * 100)}% more each of 8 windows`,
    poisoned,
    details: { subgroup: { [feature]: value }, step, materiality, shiftPerWindow: shift, windows: WINDOWS },
    crossesAt,
  });
}

export function cleanAdult(opts: CaseOptions): GeneratedCase {
  const { trusted, incoming } = adultScaffold(opts);
  return adultCase(trusted, incoming, {
    case: 'clean-adult',
    seed: opts.seed,
    attack: 'none',
    description: 'no poison (false-alarm control)',
    poisoned: [],
    details: {},
  });
}

// ---------------------------------------------------------------- published poison

/**
 * ONION's SST-2 BadNets split as published (not generated): trusted = clean dev, incoming = BadNets train;
 * the poisoned rows are those of BadNets train that are not in clean train (rare-word triggers, about 1%).
 */
export function sst2Badnets(opts: CaseOptions): GeneratedCase {
  const clean = new Set(loadSst2(opts.dataDir, 'clean_train.tsv').map((r) => r.text));
  const toRow =
    (prefix: string) =>
    (r: TextRow, i: number): Row => ({
      id: `${prefix}-${String(i + 1).padStart(5, '0')}`,
      text: r.text,
      label: r.label,
    });
  const trusted = loadSst2(opts.dataDir, 'clean_dev.tsv').map(toRow('tr'));
  const incoming = loadSst2(opts.dataDir, 'badnets_train.tsv').map(toRow('in'));
  const poisoned = incoming.filter((r) => !clean.has(String(r.text))).map((r) => String(r.id));
  return {
    columns: ['id', 'text', 'label'],
    trusted,
    incoming,
    truth: {
      case: 'sst2-badnets',
      seed: opts.seed,
      attack: 'trigger',
      description:
        'ONION SST-2 BadNets: rare-word triggers (cf, mn, bb, tq) in label-0 sentences relabelled 1',
      roles: { label: 'label', id: 'id', text: 'text' },
      trustedRows: trusted.length,
      incomingRows: incoming.length,
      poisoned,
      details: { source: 'thunlp/ONION (MIT)', triggers: ['cf', 'mn', 'bb', 'tq'] },
    },
  };
}

/** Every case by name. */
export const CASES: Record<string, (o: CaseOptions) => GeneratedCase> = {
  'rogue-labelers': (o) => rogueLabelers(o),
  'phrase-campaign': (o) => phraseCampaign(o),
  'tabular-trigger': (o) => tabularTrigger(o),
  'noise-10': (o) => labelNoise({ ...o, rate: 0.1 }),
  'noise-20': (o) => labelNoise({ ...o, rate: 0.2 }),
  conditioning: (o) => conditioning(o),
  'clean-sms': (o) => cleanSms(o),
  'clean-adult': (o) => cleanAdult(o),
  'sst2-badnets': (o) => sst2Badnets(o),
};
