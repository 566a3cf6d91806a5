/**
 * The development / frozen / frozen2 split of the audit benchmark matrix. Detector work may look at the `dev`
 * part only; a frozen part is run once, at the end, to measure generalisation to data and attack variants
 * nobody tuned on.
 *
 * Why two frozen parts: frozen part 1 (`frozen`) was run once on the final code of its session and its
 * results were read, so every later change may (even unwittingly) fit it; it can no longer measure
 * generalisation honestly. `frozen2` holds datasets and variant values that neither the dev part nor frozen
 * part 1 uses and that nobody has audited; it was built (generation smoke-tested only, no audit run on it)
 * for the next honest measurement. Once it has been run and read, it is spent the same way.
 *
 * A cell is frozen2 when its dataset is a frozen2 dataset, or when any of its variant parameters takes a
 * frozen2 held-out value; otherwise it is frozen when its dataset is frozen or a parameter takes a frozen
 * held-out value; otherwise dev. Frozen2 values are new values of the parameters, so the dev and frozen
 * cell lists are exactly what they were before frozen2 existed.
 *
 * `frozen3` (built after frozen2 had been run and read): seven whole datasets nobody had audited, every
 * variant value on them (whole datasets only: no variant value is new). A cell on a frozen3 dataset is
 * frozen3 whatever its parameters, and the other parts' cell lists are unchanged.
 *
 * `frozen4` (built after frozen3 had been run and read, and while frozen3 served as development data): six
 * more whole datasets nobody had audited, every variant value on them, on the same rule as frozen3: a cell on
 * a frozen4 dataset is frozen4 whatever its parameters, and the other parts' cell lists are unchanged.
 *
 * `frozen5` (built after frozen4 had been run and read, so every earlier part is spent): six more whole
 * datasets nobody had audited, every variant value on them, on the same rule: a cell on a frozen5 dataset is
 * frozen5 whatever its parameters, and the other parts' cell lists are unchanged.
 *
 * `frozen6` (built after frozen5 had been run and read, so every earlier part is spent): six more whole
 * datasets nobody had audited, every variant value on them, on the same rule: a cell on a frozen6 dataset is
 * frozen6 whatever its parameters, and the other parts' cell lists are unchanged.
 *
 * `frozen7` (built after frozen6 had been run and read, so every earlier part is spent): six more whole
 * datasets nobody had audited (two short-text sets in Italian and Polish, a wide numeric table, a 19-class
 * categorical table, a small table of natural duplicates, a small numeric multi-class table), every variant value
 * on them, on the same rule.
 *
 * `frozen8` (built after frozen7 had been run and read, so every earlier part is spent): six more whole
 * datasets nobody had audited (two short-text sets in Russian, in Cyrillic, and in Czech and Slovak, a 26-class
 * table with natural duplicates, a small wide numeric table, a heavily imbalanced 7-class numeric table, a coded
 * categorical survey table with many missing values and 9 ordered classes), every variant value on them, on the
 * same rule.
 *
 * `frozen9` (built in session 31, after every earlier part had been run and read): six more whole datasets
 * nobody had audited (Brazilian Portuguese fortunes, English product reviews, an 11-class vowel table whose class
 * names differ only by case, a small wide numeric table, a small table of natural duplicates with a weak signal,
 * an imbalanced mixed loan table), every variant value on them, on the same rule.
 */

export type Part =
  | 'dev'
  | 'frozen'
  | 'frozen2'
  | 'frozen3'
  | 'frozen4'
  | 'frozen5'
  | 'frozen6'
  | 'frozen7'
  | 'frozen8'
  | 'frozen9';
export const PARTS: readonly Part[] = [
  'dev',
  'frozen',
  'frozen2',
  'frozen3',
  'frozen4',
  'frozen5',
  'frozen6',
  'frozen7',
  'frozen8',
  'frozen9',
];

/**
 * Whole datasets. Frozen: one short-text set, one mail set, one mixed table, one image set, one small
 * multi-class table. Frozen2 (bench/audit-matrix/frozen2-data.sh): a multi-class English short-text set, a
 * German short-text set, a small numeric multi-class table, a 9-class numeric table, a large mixed table
 * with categoricals, a wide numeric table, and Fashion-MNIST's test images at another geometry.
 */
export const DATASET_PART = {
  sst2: 'dev',
  'spamassassin-a': 'dev',
  adult: 'dev',
  'breast-cancer': 'dev',
  iris: 'dev',
  'seattle-weather': 'dev',
  'fashion-mnist': 'dev',
  'sms-spam': 'frozen',
  'spamassassin-b': 'frozen',
  'german-credit': 'frozen',
  wine: 'frozen',
  digits: 'frozen',
  'fortunes-en': 'frozen2',
  'fortunes-de': 'frozen2',
  fgl: 'frozen2',
  olive: 'frozen2',
  diamonds: 'frozen2',
  spambase: 'frozen2',
  'fashion-mnist-test': 'frozen2',
  mpg: 'frozen3',
  midwest: 'frozen3',
  biopsy: 'frozen3',
  pima: 'frozen3',
  gapminder: 'frozen3',
  'trump-tweets': 'frozen3',
  'fortunes-es': 'frozen3',
  arrests: 'frozen4',
  chile: 'frozen4',
  beps: 'frozen4',
  wells: 'frozen4',
  'contagious-diseases': 'frozen4',
  'fortunes-topics': 'frozen4',
  'wordnet-nouns': 'frozen5',
  penguins: 'frozen5',
  titanic: 'frozen5',
  'hpc-jobs': 'frozen5',
  'cell-segmentation': 'frozen5',
  cps1985: 'frozen5',
  'austen-paragraphs': 'frozen6',
  wvs: 'frozen6',
  'swiss-labor': 'frozen6',
  'credit-data': 'frozen6',
  'credit-card': 'frozen6',
  salaries: 'frozen6',
  'fortunes-it': 'frozen7',
  'fortunes-pl': 'frozen7',
  satellite: 'frozen7',
  soybean: 'frozen7',
  'house-votes': 'frozen7',
  vehicle: 'frozen7',
  'fortunes-ru': 'frozen8',
  'fortunes-cs': 'frozen8',
  'letter-recognition': 'frozen8',
  ionosphere: 'frozen8',
  shuttle: 'frozen8',
  'income-survey': 'frozen8',
  'fortunes-mario': 'frozen9',
  'fine-foods': 'frozen9',
  vowel: 'frozen9',
  sonar: 'frozen9',
  cowles: 'frozen9',
  'lending-club': 'frozen9',
} as const satisfies Record<string, Part>;

export type DatasetId = keyof typeof DATASET_PART;

/**
 * Whole attack variants held out of dev: a cell with any of these parameter values is frozen (unless frozen2).
 *   position 'middle'      triggers inserted mid-text (dev sees start and end)
 *   perRow 4               four triggers in one row (dev sees 1-3)
 *   rate 0.003             0.3% poison (dev sees 1%, 3%, 10%)
 *   rogue 3                three rogue labelers (dev sees 1-2)
 *   labelers 20            twenty labelers (dev sees 8-15)
 *   accounts 5             five-account campaigns (dev sees 2-4)
 *   patch 'center'         pixel patch away from the corners (dev sees the corners)
 *   shape 'title-case'     the casing shape (dev sees the other structural shapes)
 */
export const FROZEN_VALUES: Record<string, ReadonlyArray<string | number>> = {
  position: ['middle'],
  perRow: [4],
  rate: [0.003],
  rogue: [3],
  labelers: [20],
  accounts: [5],
  patch: ['center'],
  shape: ['title-case'],
};

/**
 * Attack variants held out of both dev and frozen part 1 (none of these values occurs in either):
 *   position 'anywhere'    each trigger at an independent uniform place in the text (seen: start, middle third, end)
 *   perRow 5               five triggers in one row (seen: 1-4)
 *   rate 0.005, 0.05       0.5% and 5% poison (seen: 0.3%, 1%, 3%, 10%)
 *   rogue 4                four rogue labelers (seen: 1-3)
 *   labelers 25            twenty-five labelers (seen: 8-20)
 *   accounts 6, 40         six-account campaigns and conditioning; targeted flips among 40 accounts (seen: 2-5; 8-27)
 *   patch 'mid-edge'       a patch at the middle of one edge (seen: corners, centre)
 *   shape 'caps-first'     the first word in capitals (a casing shape on one word)
 *   shape 'emoticon'       a fixed emoticon suffix such as " :-)" (punctuation only, no word)
 *   trusted 500            a 500-row trusted set (seen: 100, 300, 1,000, 20%)
 * A family may give a parameter name another meaning: FROZEN2_FAMILY_VALUES replaces the list for it.
 */
export const FROZEN2_VALUES: Record<string, ReadonlyArray<string | number>> = {
  position: ['anywhere'],
  perRow: [5],
  rate: [0.005, 0.05],
  rogue: [4],
  labelers: [25],
  accounts: [6, 40],
  patch: ['mid-edge'],
  shape: ['caps-first', 'emoticon'],
  trusted: [500],
};

/** noise's `rate` is the share relabelled at random, whose seen values include 0.05: its held-out value is 0.15. */
export const FROZEN2_FAMILY_VALUES: Record<string, Record<string, ReadonlyArray<string | number>>> = {
  noise: { rate: [0.15] },
};

function takesValue(
  held: Record<string, ReadonlyArray<string | number>>,
  params: Record<string, string | number | boolean>,
): boolean {
  for (const [k, values] of Object.entries(held)) {
    const v = params[k];
    if (v !== undefined && typeof v !== 'boolean' && values.includes(v)) return true;
  }
  return false;
}

/** The frozen2 held-out values that apply to a family's parameters. */
export function frozen2Values(family?: string): Record<string, ReadonlyArray<string | number>> {
  return { ...FROZEN2_VALUES, ...(family ? FROZEN2_FAMILY_VALUES[family] : {}) };
}

export function partOf(
  dataset: DatasetId,
  params: Record<string, string | number | boolean>,
  family?: string,
): Part {
  if (DATASET_PART[dataset] === 'frozen9') return 'frozen9';
  if (DATASET_PART[dataset] === 'frozen8') return 'frozen8';
  if (DATASET_PART[dataset] === 'frozen7') return 'frozen7';
  if (DATASET_PART[dataset] === 'frozen6') return 'frozen6';
  if (DATASET_PART[dataset] === 'frozen5') return 'frozen5';
  if (DATASET_PART[dataset] === 'frozen4') return 'frozen4';
  if (DATASET_PART[dataset] === 'frozen3') return 'frozen3';
  if (DATASET_PART[dataset] === 'frozen2' || takesValue(frozen2Values(family), params)) return 'frozen2';
  if (DATASET_PART[dataset] === 'frozen' || takesValue(FROZEN_VALUES, params)) return 'frozen';
  return 'dev';
}
