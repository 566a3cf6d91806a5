/**
 * The real datasets of the audit benchmark matrix, read directly from their files (no Python), each turned
 * into a uniform pool of rows: content columns (text, or features / pixels) plus a label column, with the
 * column names and label values the source uses (numbers for some, strings for others). Sources and
 * licences: bench/audit-matrix/DATASETS.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { inputError } from '../../core/errors.js';
import type { Cell } from './csv.js';
import { loadAdult, loadSms, loadSst2 } from './datasets.js';

export type Row = Record<string, Cell>;
export type DatasetKind = 'text' | 'mail' | 'tabular' | 'image';

export interface BaseDataset {
  name: string;
  kind: DatasetKind;
  /** Label column name. */
  label: string;
  /** Text column (text and mail). */
  text?: string;
  /** Feature columns (tabular and image), in file order. */
  features: string[];
  /** Feature columns holding numbers. */
  numeric: string[];
  /** Image shape (pixel columns are row-major). */
  image?: { height: number; width: number; max: number };
  /** Largest incoming batch built from this pool. */
  maxBatch: number;
  rows: Row[];
}

export interface DataPaths {
  /** ../shared/data */
  shared: string;
  /** scikit-learn's bundled CSVs (python3-sklearn). */
  sklearn: string;
  /** vega_datasets' bundled files (python3-vega-datasets). */
  vega: string;
}

export const DEFAULT_PATHS = (sharedData: string): DataPaths => ({
  shared: sharedData,
  sklearn: '/usr/lib/python3/dist-packages/sklearn/datasets/data',
  vega: '/usr/lib/python3/dist-packages/vega_datasets/_data',
});

function readText(path: string, hint: string): string {
  try {
    const buf = readFileSync(path);
    return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
  } catch {
    throw inputError(`${path}: cannot read the dataset`, hint);
  }
}

/** Small CSV reader for the bundled files (quoted fields, no embedded line breaks). */
function csvLines(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (q) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') q = false;
        else cur += ch;
      } else if (ch === '"') q = true;
      else if (ch === ',') {
        cells.push(cur);
        cur = '';
      } else cur += ch;
    }
    cells.push(cur);
    out.push(cells);
  }
  return out;
}

const num = (s: string): number => Number(s);

// ---------------------------------------------------------------- text

function sst2(p: DataPaths): BaseDataset {
  // The clean ONION splits only (the published poison is benchmarked on its own in audit-detection).
  const rows = ['clean_train.tsv', 'clean_dev.tsv', 'clean_test.tsv'].flatMap((f) =>
    loadSst2(p.shared, f).map((r) => ({ sentence: r.text, label: Number(r.label) })),
  );
  return {
    name: 'sst2',
    kind: 'text',
    label: 'label',
    text: 'sentence',
    features: [],
    numeric: [],
    maxBatch: 6000,
    rows,
  };
}

function sms(p: DataPaths): BaseDataset {
  return {
    name: 'sms-spam',
    kind: 'text',
    label: 'label',
    text: 'text',
    features: [],
    numeric: [],
    maxBatch: 5000,
    rows: loadSms(p.shared).map((r) => ({ text: r.text, label: r.label })),
  };
}

/** Header fields kept from each message (the long Received chains are dropped to bound the row size). */
const KEPT_HEADERS = [
  'from',
  'to',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'x-mailer',
  'user-agent',
  'x-priority',
  'x-msmail-priority',
  'x-originating-ip',
  'list-id',
  'precedence',
];
const BODY_CHARS = 800;

/** A message cut to its kept header lines (continuations unfolded) and the first BODY_CHARS of its body. */
export function condenseMail(raw: string): string {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  const lines: string[] = [];
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && lines.length) lines[lines.length - 1] += ` ${line.trim()}`;
    else lines.push(line);
  }
  const kept = lines.filter((l) => KEPT_HEADERS.includes(l.slice(0, l.indexOf(':')).toLowerCase()));
  return `${kept.join('\n')}\n\n${body.slice(0, BODY_CHARS).trim()}`;
}

function spamassassin(p: DataPaths, part: 'a' | 'b'): BaseDataset {
  const groups = part === 'a' ? ['easy-ham-1', 'spam-1'] : ['easy-ham-2', 'hard-ham-1', 'spam-2'];
  const rows: Row[] = [];
  const path = join(p.shared, 'spamassassin', 'spamassassin.jsonl.gz');
  for (const line of readText(path, 'set the shared data folder').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as { group: string; label: string; text: string };
    if (groups.includes(o.group)) rows.push({ message: condenseMail(o.text), label: o.label });
  }
  return {
    name: `spamassassin-${part}`,
    kind: 'mail',
    label: 'label',
    text: 'message',
    features: [],
    numeric: [],
    maxBatch: 2000,
    rows,
  };
}

// ---------------------------------------------------------------- tables

function adult(p: DataPaths): BaseDataset {
  // fnlwgt (a census sampling weight) dropped, as most pipelines do: the table then has many genuine
  // exact duplicate rows, which is what this entry of the matrix is for.
  const features = [
    'age',
    'workclass',
    'education',
    'education_num',
    'marital_status',
    'occupation',
    'relationship',
    'race',
    'sex',
    'capital_gain',
    'capital_loss',
    'hours_per_week',
    'native_country',
  ];
  const rows = loadAdult(p.shared).map((r) => {
    const o: Row = {};
    for (const f of features) o[f] = r[f];
    o.income = r.income;
    return o;
  });
  return {
    name: 'adult',
    kind: 'tabular',
    label: 'income',
    features,
    numeric: ['age', 'education_num', 'capital_gain', 'capital_loss', 'hours_per_week'],
    maxBatch: 25000,
    rows,
  };
}

function germanCredit(p: DataPaths): BaseDataset {
  const lines = csvLines(
    readText(join(p.shared, 'german-credit', 'german_credit_data.csv'), 'set the shared data folder'),
  );
  const [header, ...body] = lines;
  // Column names exactly as the file has them (two end with a space).
  const label = 'Result';
  const features = header.filter((h) => h !== label);
  const numeric = features.filter((f) => body.every((r) => /^-?\d+(\.\d+)?$/.test(r[header.indexOf(f)])));
  const rows = body.map((r) => {
    const o: Row = {};
    header.forEach((h, i) => {
      o[h] = numeric.includes(h) || h === label ? num(r[i]) : r[i];
    });
    return o;
  });
  return { name: 'german-credit', kind: 'tabular', label, features, numeric, maxBatch: 1000, rows };
}

/** scikit-learn's CSV layout: first line `n, d, class names...`, then d features and an integer target. */
function sklearnCsv(
  p: DataPaths,
  file: string,
  features: string[],
  label: string,
  labelNames: boolean,
): { rows: Row[]; classNames: string[] } {
  const [first, ...body] = csvLines(readText(join(p.sklearn, file), 'install python3-sklearn'));
  const classNames = first.slice(2);
  const rows = body.map((r) => {
    const o: Row = {};
    features.forEach((f, i) => {
      o[f] = num(r[i]);
    });
    const t = num(r[features.length]);
    o[label] = labelNames ? classNames[t] : t;
    return o;
  });
  return { rows, classNames };
}

function iris(p: DataPaths): BaseDataset {
  const features = ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'];
  const { rows } = sklearnCsv(p, 'iris.csv', features, 'species', true);
  return {
    name: 'iris',
    kind: 'tabular',
    label: 'species',
    features,
    numeric: features,
    maxBatch: 150,
    rows,
  };
}

function wine(p: DataPaths): BaseDataset {
  const features = [
    'alcohol',
    'malic_acid',
    'ash',
    'alcalinity_of_ash',
    'magnesium',
    'total_phenols',
    'flavanoids',
    'nonflavanoid_phenols',
    'proanthocyanins',
    'color_intensity',
    'hue',
    'od280/od315_of_diluted_wines',
    'proline',
  ];
  const { rows } = sklearnCsv(p, 'wine_data.csv', features, 'cultivar', false);
  return {
    name: 'wine',
    kind: 'tabular',
    label: 'cultivar',
    features,
    numeric: features,
    maxBatch: 178,
    rows,
  };
}

function breastCancer(p: DataPaths): BaseDataset {
  const base = [
    'radius',
    'texture',
    'perimeter',
    'area',
    'smoothness',
    'compactness',
    'concavity',
    'concave points',
    'symmetry',
    'fractal dimension',
  ];
  const features = [
    ...base.map((b) => `mean ${b}`),
    ...base.map((b) => `${b} error`),
    ...base.map((b) => `worst ${b}`),
  ];
  const { rows } = sklearnCsv(p, 'breast_cancer.csv', features, 'target', false);
  return {
    name: 'breast-cancer',
    kind: 'tabular',
    label: 'target',
    features,
    numeric: features,
    maxBatch: 569,
    rows,
  };
}

function seattleWeather(p: DataPaths): BaseDataset {
  const [header, ...body] = csvLines(
    readText(join(p.vega, 'seattle-weather.csv'), 'install python3-vega-datasets'),
  );
  const features = ['precipitation', 'temp_max', 'temp_min', 'wind'];
  const rows = body.map((r) => {
    const o: Row = {};
    for (const f of features) o[f] = num(r[header.indexOf(f)]);
    o.weather = r[header.indexOf('weather')];
    return o;
  });
  return {
    name: 'seattle-weather',
    kind: 'tabular',
    label: 'weather',
    features,
    numeric: features,
    maxBatch: 1461,
    rows,
  };
}

// ---------------------------------------------------------------- images

function digits(p: DataPaths): BaseDataset {
  const features: string[] = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) features.push(`pixel_${r}_${c}`);
  const rows = csvLines(readText(join(p.sklearn, 'digits.csv.gz'), 'install python3-sklearn')).map(
    (cells) => {
      const o: Row = {};
      features.forEach((f, i) => {
        o[f] = num(cells[i]);
      });
      o.digit = num(cells[64]);
      return o;
    },
  );
  return {
    name: 'digits',
    kind: 'image',
    label: 'digit',
    features,
    numeric: features,
    image: { height: 8, width: 8, max: 16 },
    maxBatch: 1797,
    rows,
  };
}

const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
/** Images read from the training file (the first ones, in file order): enough for the batch and its trusted set. */
const FASHION_POOL = 16000;
/** Side of the downsampled image: 28x28 averaged over 4x4 blocks (49 columns, inside the 60-column envelope the audit's speed target names). */
const SIDE = 7;
const BLOCK = 28 / SIDE;

/** Fashion-MNIST, 28x28 averaged over 4x4 blocks to 7x7 (49 pixel columns, values 0-255 rounded). */
function fashionMnist(p: DataPaths): BaseDataset {
  const dir = join(p.shared, 'fashion-mnist');
  const hint = 'set the shared data folder';
  const images = gunzipSync(readFileSync(join(dir, 'train-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(join(dir, 'train-labels-idx1-ubyte.gz')));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049)
    throw inputError(`${dir}: not the Fashion-MNIST IDX files`, hint);
  const n = Math.min(FASHION_POOL, images.readUInt32BE(4));
  const features: string[] = [];
  for (let r = 0; r < SIDE; r++) for (let c = 0; c < SIDE; c++) features.push(`px_${r}_${c}`);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const off = 16 + i * 784;
    const o: Row = {};
    for (let r = 0; r < SIDE; r++) {
      for (let c = 0; c < SIDE; c++) {
        let sum = 0;
        for (let dr = 0; dr < BLOCK; dr++)
          for (let dc = 0; dc < BLOCK; dc++) sum += images[off + (r * BLOCK + dr) * 28 + c * BLOCK + dc];
        o[features[r * SIDE + c]] = Math.round(sum / (BLOCK * BLOCK));
      }
    }
    o.item = FASHION_CLASSES[labels[8 + i]];
    rows.push(o);
  }
  return {
    name: 'fashion-mnist',
    kind: 'image',
    label: 'item',
    features,
    numeric: features,
    image: { height: SIDE, width: SIDE, max: 255 },
    maxBatch: 12000,
    rows,
  };
}

// ---------------------------------------------------------------- frozen2 (bench/audit-matrix/frozen2-data.sh)

const FROZEN2_HINT = 'build it with bench/audit-matrix/frozen2-data.sh';

/** Records of a fortune file (separated by lines holding only "%"), overstrike removed, whitespace collapsed. */
export function fortuneRecords(text: string, maxChars: number): string[] {
  const out: string[] = [];
  for (const rec of text.split(/\r?\n%\r?\n/)) {
    const t = rec
      .replace(/[^\n]\x08/g, '')
      .replace(/^%\s*$/gm, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (t.length >= 20 && t.length <= maxChars) out.push(t);
  }
  return out;
}

/** Fortunes longer than this are left out: the set stands for short texts (posts, quotes). */
const FORTUNE_CHARS = 300;
export const FORTUNE_EN_CLASSES = ['computers', 'politics', 'science', 'work', 'men-women', 'art'];

/**
 * A short-text set from fortune files: each file a class (`files`: file name and label), records 20-300
 * characters, in ../shared/data/<part>/<name>/.
 */
function fortuneSet(
  p: DataPaths,
  where: { part: string; name: string; hint: string },
  columns: { text: string; label: string },
  files: Array<[string, string]>,
  maxBatch: number,
): BaseDataset {
  const dir = join(p.shared, where.part, where.name);
  const rows: Row[] = files.flatMap(([file, label]) =>
    fortuneRecords(readText(join(dir, file), where.hint), FORTUNE_CHARS).map((t) => ({
      [columns.text]: t,
      [columns.label]: label,
    })),
  );
  return {
    name: where.name,
    kind: 'text',
    label: columns.label,
    text: columns.text,
    features: [],
    numeric: [],
    maxBatch,
    rows,
  };
}

/** English fortune cookies of six categories (strings): a multi-class short-text set. */
const fortunesEn = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen2', name: 'fortunes-en', hint: FROZEN2_HINT },
    { text: 'fortune', label: 'category' },
    FORTUNE_EN_CLASSES.map((c) => [c, c]),
    2500,
  );

/** German fortunes: quotations (zitat) against jokes (witz), a skewed two-class set in another language. */
const fortunesDe = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen2', name: 'fortunes-de', hint: FROZEN2_HINT },
    { text: 'spruch', label: 'art' },
    [
      ['zitate', 'zitat'],
      ['witze', 'witz'],
    ],
    5000,
  );

/** A table written by R's write.csv (quoted header, empty cells for NA); numbers where a column holds only numbers. */
export function rCsvTable(
  text: string,
  name: string,
  label: string,
  maxBatch: number,
  hint = FROZEN2_HINT,
): BaseDataset {
  const [header, ...body] = csvLines(text);
  const li = header.indexOf(label);
  if (li < 0) throw inputError(`${name}: no column "${label}"`, hint);
  const features = header.filter((h) => h !== label);
  const isNum = (s: string) => /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s);
  const numeric = features.filter((f) =>
    body.every((r) => r[header.indexOf(f)] === '' || isNum(r[header.indexOf(f)])),
  );
  const labelNumeric = body.every((r) => isNum(r[li]));
  const rows = body.map((r) => {
    const o: Row = {};
    for (const f of features) {
      const v = r[header.indexOf(f)];
      o[f] = numeric.includes(f) && v !== '' ? num(v) : v;
    }
    o[label] = labelNumeric ? num(r[li]) : r[li];
    return o;
  });
  return { name, kind: 'tabular', label, features, numeric, maxBatch, rows };
}

/**
 * A frozen part's data files, as bench/audit-matrix/<part>-data.sh writes them: <shared>/<part>/<name>/<name>.csv;
 * `table` reads one written by R's write.csv (rCsvTable), `hint` says how to build a missing one.
 */
function partFiles(part: string) {
  const hint = `build it with bench/audit-matrix/${part}-data.sh`;
  const csv = (p: DataPaths, name: string) => readText(join(p.shared, part, name, `${name}.csv`), hint);
  const table = (name: string, label: string, maxBatch: number) => (p: DataPaths) =>
    rCsvTable(csv(p, name), name, label, maxBatch, hint);
  return { hint, csv, table };
}

/**
 * Short texts of one CSV column labelled by another (its whitespace collapsed), kept at 20-300 characters as the
 * fortune sets are: a one-column text set of a frozen part.
 */
function shortTexts(
  files: ReturnType<typeof partFiles>,
  name: string,
  text: string,
  label: string,
): (p: DataPaths) => BaseDataset {
  return (p) => {
    const [header, ...body] = csvLines(files.csv(p, name));
    const ti = header.indexOf(text);
    const li = header.indexOf(label);
    if (ti < 0 || li < 0) throw inputError(`${name}: no columns "${text}" and "${label}"`, files.hint);
    const rows: Row[] = body
      .map((r) => ({ [text]: (r[ti] ?? '').replace(/\s+/g, ' ').trim(), [label]: r[li] }))
      .filter((r) => r[text].length >= 20 && r[text].length <= FORTUNE_CHARS);
    return { name, kind: 'text', label, text, features: [], numeric: [], maxBatch: 6000, rows };
  };
}

const frozen2Csv = partFiles('frozen2').csv;

/** MASS forensic glass: 214 fragments, 9 numeric measurements, 6 glass types (strings). */
const fgl = (p: DataPaths) => rCsvTable(frozen2Csv(p, 'fgl'), 'fgl', 'type', 214);
/** dslabs olive oils: 572 oils, 8 fatty acids, 9 areas of Italy (strings). */
const olive = (p: DataPaths) => rCsvTable(frozen2Csv(p, 'olive'), 'olive', 'area', 572);
/** ggplot2 diamonds: mixed (colour and clarity categorical, seven numbers), cut quality as 5 classes (strings). */
const diamonds = (p: DataPaths) => rCsvTable(frozen2Csv(p, 'diamonds'), 'diamonds', 'cut', 8000);
/** kernlab spam (UCI Spambase): 57 numeric columns (word and character frequencies, capital runs), spam/nonspam. */
const spambase = (p: DataPaths) => rCsvTable(frozen2Csv(p, 'spambase'), 'spambase', 'type', 3000);

/** Side of the frozen2 Fashion-MNIST test images: the central 24x24 averaged over 4x4 blocks (36 columns). */
const TEST_SIDE = 6;
const TEST_BLOCK = 4;

/**
 * Fashion-MNIST's test file (10,000 images the dev pool never reads: it reads the training file), cropped to
 * the central 24x24 and averaged to 6x6, labels as numbers 0-9: other images, another geometry and another
 * label type than the dev set, though the same domain.
 */
export function fashionMnistTest(p: DataPaths): BaseDataset {
  const dir = join(p.shared, 'fashion-mnist');
  const hint = 'set the shared data folder';
  const images = gunzipSync(readFileSync(join(dir, 't10k-images-idx3-ubyte.gz')));
  const labels = gunzipSync(readFileSync(join(dir, 't10k-labels-idx1-ubyte.gz')));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049)
    throw inputError(`${dir}: not the Fashion-MNIST IDX files`, hint);
  const n = images.readUInt32BE(4);
  const side = images.readUInt32BE(8);
  const off0 = Math.floor((side - TEST_SIDE * TEST_BLOCK) / 2);
  const features: string[] = [];
  for (let r = 0; r < TEST_SIDE; r++) for (let c = 0; c < TEST_SIDE; c++) features.push(`pix_${r}_${c}`);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const off = 16 + i * side * side;
    const o: Row = {};
    for (let r = 0; r < TEST_SIDE; r++) {
      for (let c = 0; c < TEST_SIDE; c++) {
        let sum = 0;
        for (let dr = 0; dr < TEST_BLOCK; dr++)
          for (let dc = 0; dc < TEST_BLOCK; dc++)
            sum += images[off + (off0 + r * TEST_BLOCK + dr) * side + off0 + c * TEST_BLOCK + dc];
        o[features[r * TEST_SIDE + c]] = Math.round(sum / (TEST_BLOCK * TEST_BLOCK));
      }
    }
    o.class = labels[8 + i];
    rows.push(o);
  }
  return {
    name: 'fashion-mnist-test',
    kind: 'image',
    label: 'class',
    features,
    numeric: features,
    image: { height: TEST_SIDE, width: TEST_SIDE, max: 255 },
    maxBatch: 4000,
    rows,
  };
}

// ---------------------------------------------------------------- frozen3 (bench/audit-matrix/frozen3-data.sh)

const FROZEN3 = partFiles('frozen3');

/** ggplot2 mpg: 234 cars, mixed (manufacturer, transmission, drive, fuel; five numbers), 7 classes (strings). */
const mpg = FROZEN3.table('mpg', 'class', 234);
/** ggplot2 midwest: 437 counties, 25 numeric demographics, the state as 5 classes (strings). */
const midwest = FROZEN3.table('midwest', 'state', 437);
/** MASS biopsy: 699 biopsies, nine integer scores 1-10 (many exact duplicates, a few missing), benign/malignant. */
const biopsy = FROZEN3.table('biopsy', 'class', 699);
/** MASS Pima.tr + Pima.te: 532 women, seven numbers, diabetes Yes/No. */
const pima = FROZEN3.table('pima', 'type', 532);
/** dslabs gapminder: 10,545 country-years, numbers with missing values, the continent as 5 classes (strings). */
const gapminder = FROZEN3.table('gapminder', 'continent', 6000);

/**
 * Tweets of one account, labelled by the client that sent them (3 classes): short social-media posts. The
 * label column is renamed `client` (the matrix's account column is `source`).
 */
function trumpTweets(p: DataPaths): BaseDataset {
  const [header, ...body] = csvLines(FROZEN3.csv(p, 'trump-tweets'));
  const ti = header.indexOf('text');
  const si = header.indexOf('source');
  if (ti < 0 || si < 0) throw inputError('trump-tweets: no columns "text" and "source"', FROZEN3.hint);
  const rows: Row[] = body
    .filter((r) => (r[ti] ?? '').trim().length > 0)
    .map((r) => ({ text: r[ti], client: r[si] }));
  return {
    name: 'trump-tweets',
    kind: 'text',
    label: 'client',
    text: 'text',
    features: [],
    numeric: [],
    maxBatch: 8000,
    rows,
  };
}

export const FORTUNE_ES_CLASSES = ['refranes', 'sentimientos', 'leydemurphy', 'poder', 'ciencia'];

/** Spanish fortunes of five categories (proverbs dominate): a skewed multi-class short-text set. */
const fortunesEs = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen3', name: 'fortunes-es', hint: FROZEN3.hint },
    { text: 'frase', label: 'tema' },
    FORTUNE_ES_CLASSES.map((c) => [c, c]),
    4000,
  );

// ---------------------------------------------------------------- frozen4 (bench/audit-matrix/frozen4-data.sh)

const FROZEN4 = partFiles('frozen4');

/**
 * carData Arrests: 5,226 marijuana arrests, mixed (colour, sex, employed, citizen; year, age, checks), many
 * exact duplicates, released No/Yes.
 */
const arrests = FROZEN4.table('arrests', 'released', 5226);
/** carData Chile: 2,532 voters (no-vote rows dropped), mixed with missing values, the vote as 4 classes (A, N, U, Y). */
const chile = FROZEN4.table('chile', 'vote', 2532);
/** carData BEPS: 1,525 British voters, small-integer ratings (1-5, 1-11, 0-3), age, gender; the vote as 3 classes. */
const beps = FROZEN4.table('beps', 'vote', 1525);
/** carData Wells: 3,020 Bangladesh households, three numbers and one yes/no, switch no/yes. */
const wells = FROZEN4.table('wells', 'switch', 3020);
/**
 * dslabs us_contagious_diseases: 16,065 state-years, state (51 levels) and four numbers (population partly
 * missing), the disease as 7 classes.
 */
const contagiousDiseases = FROZEN4.table('contagious-diseases', 'disease', 6000);

export const FORTUNE_TOPIC_CLASSES = ['drugs', 'education', 'food', 'law', 'literature', 'love', 'sports'];

/** English fortunes of seven topics frozen2's fortune files do not cover: a small, balanced multi-class text set. */
const fortunesTopics = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen4', name: 'fortunes-topics', hint: FROZEN4.hint },
    { text: 'saying', label: 'topic' },
    FORTUNE_TOPIC_CLASSES.map((c) => [c, c]),
    1120,
  );

// ---------------------------------------------------------------- frozen5 (bench/audit-matrix/frozen5-data.sh)

const FROZEN5 = partFiles('frozen5');

/**
 * palmerpenguins penguins: 344 birds, four measurements, island, sex and year (measurements and sex partly
 * missing), the species as 3 classes (strings).
 */
const penguins = FROZEN5.table('penguins', 'species', 344);
/** carData TitanicSurvival: 1,309 passengers, sex, age (partly missing) and class, many exact duplicates; survived no/yes. */
const titanic = FROZEN5.table('titanic', 'survived', 1309);
/**
 * modeldata hpc_data: 4,331 jobs of a computing cluster, mixed (a 14-level protocol, a weekday; five numbers),
 * the completion time as 4 classes (VF, F, M, L).
 */
const hpcJobs = FROZEN5.table('hpc-jobs', 'class', 4331);
/** modeldata cells: 2,019 segmented cells, 56 numeric imaging measurements, PS/WS. */
const cellSegmentation = FROZEN5.table('cell-segmentation', 'class', 2019);
/**
 * AER CPS1985: 534 workers, mixed (wage, education, experience, age; ethnicity, region, gender, sector, union,
 * married), the occupation as 6 classes.
 */
const cps1985 = FROZEN5.table('cps1985', 'occupation', 534);

export const WORDNET_LEXFILES = [
  'noun.animal',
  'noun.body',
  'noun.food',
  'noun.location',
  'noun.plant',
  'noun.substance',
];

/**
 * WordNet noun glosses (a definition, often with examples) of six lexicographer files, the file as the label:
 * short English sentences of another genre than the posts and quotes of the other text sets. Glosses of 20-300
 * characters, as the fortune sets keep.
 */
const wordnetNouns = shortTexts(FROZEN5, 'wordnet-nouns', 'gloss', 'lexfile');

// ---------------------------------------------------------------- frozen6 (bench/audit-matrix/frozen6-data.sh)

const FROZEN6 = partFiles('frozen6');

/**
 * carData WVS: 5,381 World Values Survey respondents (religion, degree, country, age, gender), many exact
 * duplicates; whether the government does too little, about right or too much for the poor, 3 classes.
 */
const wvs = FROZEN6.table('wvs', 'poverty', 5381);
/** AER SwissLabor: 872 Swiss women, five numbers (log income, age, education, children) and foreign; participation no/yes. */
const swissLabor = FROZEN6.table('swiss-labor', 'participation', 872);
/**
 * modeldata credit_data: 4,454 credit applicants, mixed (home, marital status, records, job; nine numbers,
 * income and assets partly missing), Status good/bad.
 */
const creditData = FROZEN6.table('credit-data', 'Status', 4454);
/**
 * AER CreditCard: 1,319 credit card applications, mostly numeric (derogatory reports, age, income, share of
 * income spent, expenditure, dependents, months at address, cards, active accounts) with owner and selfemp
 * yes/no; card (accepted) no/yes.
 */
const creditCard = FROZEN6.table('credit-card', 'card', 1319);
/** carData Salaries: 397 professors, mixed (discipline, years, sex, salary), the rank as 3 classes. */
const salaries = FROZEN6.table('salaries', 'rank', 397);

export const AUSTEN_BOOKS = [
  'Sense & Sensibility',
  'Pride & Prejudice',
  'Mansfield Park',
  'Emma',
  'Northanger Abbey',
  'Persuasion',
];

/**
 * Paragraphs of Jane Austen's six novels, the novel as the label: early 19th-century narrative prose and
 * dialogue, another genre than the posts, quotes and definitions of the other text sets. Paragraphs of 20-300
 * characters, as the fortune sets keep.
 */
const austenParagraphs = shortTexts(FROZEN6, 'austen-paragraphs', 'paragraph', 'book');

// ---------------------------------------------------------------- frozen7 (bench/audit-matrix/frozen7-data.sh)

const FROZEN7 = partFiles('frozen7');

/** mlbench Satellite: 6,435 Landsat pixel neighbourhoods, 36 numbers (0-255), the soil or crop as 6 classes. */
const satellite = FROZEN7.table('satellite', 'classes', 6000);
/** mlbench Soybean: 683 plants, 35 coded categorical attributes (many missing), the disease as 19 classes. */
const soybean = FROZEN7.table('soybean', 'Class', 683);
/** mlbench HouseVotes84: 435 representatives, 16 votes y/n (or missing), many exact duplicates, party. */
const houseVotes = FROZEN7.table('house-votes', 'Class', 435);
/** mlbench Vehicle: 846 silhouettes, 18 shape numbers, the vehicle as 4 classes. */
const vehicle = FROZEN7.table('vehicle', 'Class', 846);

export const FORTUNE_IT_FILES = [
  'computer',
  'definizioni',
  'formiche',
  'leggi',
  'luke',
  'norm',
  'paolotedeschi',
  'zuse',
  'italia',
];

/** Italian fortunes of nine files (each file a class): a multi-class short-text set in a fifth language. */
const fortunesIt = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen7', name: 'fortunes-it', hint: FROZEN7.hint },
    { text: 'detto', label: 'fonte' },
    FORTUNE_IT_FILES.map((c) => [c, c]),
    5000,
  );

export const FORTUNE_PL_FILES = [
  'argante',
  'bajki',
  'chuck-norris',
  'debian.pl',
  'dowcipy',
  'imiona',
  'linuxpl',
  'matura',
  'pld',
];

/** Polish fortunes of nine files (each file a class): short texts with Polish letters and casing. */
const fortunesPl = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen7', name: 'fortunes-pl', hint: FROZEN7.hint },
    { text: 'tekst', label: 'zbior' },
    FORTUNE_PL_FILES.map((c) => [c, c]),
    4000,
  );

// ---------------------------------------------------------------- frozen8 (bench/audit-matrix/frozen8-data.sh)

const FROZEN8 = partFiles('frozen8');

/**
 * mlbench LetterRecognition: 20,000 distorted capital letters, 16 integer features (0-15), natural exact
 * duplicates, the letter as 26 classes (strings A-Z).
 */
const letterRecognition = FROZEN8.table('letter-recognition', 'lettr', 6000);
/** mlbench Ionosphere: 351 radar returns, 34 numbers (V2 always 0), good/bad. */
const ionosphere = FROZEN8.table('ionosphere', 'Class', 351);
/** mlbench Shuttle: 58,000 rows of 9 integer sensor readings, the radiator state as 7 heavily imbalanced classes. */
const shuttle = FROZEN8.table('shuttle', 'Class', 6000);
/**
 * kernlab income: 8,993 survey respondents, 13 coded demographic attributes (many missing), natural exact
 * duplicates, the household income as 9 ordered bands (strings such as "[10.000-15.000)").
 */
const incomeSurvey = FROZEN8.table('income-survey', 'INCOME', 6000);

export const FORTUNE_RU_FILES = ['armenian', 'computer', 'fomenko', 'love', 'murphy', 'polit', 'war'];

/** Russian fortunes of seven files (each file a class): short texts in Cyrillic, a script no other set has. */
const fortunesRu = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen8', name: 'fortunes-ru', hint: FROZEN8.hint },
    { text: 'fraza', label: 'rubrika' },
    FORTUNE_RU_FILES.map((c) => [c, c]),
    4000,
  );

export const FORTUNE_CS_FILES = ['citace', 'citat', 'klasik-cz', 'klasik-sk', 'market', 'zemeplocha'];

/** Czech and Slovak fortunes of six files (each file a class; klasik-cz about two thirds of the rows). */
const fortunesCs = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen8', name: 'fortunes-cs', hint: FROZEN8.hint },
    { text: 'vyrok', label: 'soubor' },
    FORTUNE_CS_FILES.map((c) => [c, c]),
    5000,
  );

// ---------------------------------------------------------------- frozen9 (bench/audit-matrix/frozen9-data.sh)

const FROZEN9 = partFiles('frozen9');

/** mlbench Vowel: 990 utterances, the speaker (V1) and 9 numbers, 11 vowels whose class names differ by case only. */
const vowel = FROZEN9.table('vowel', 'Class', 990);
/** mlbench Sonar: 208 sonar returns, 60 energy bands, metal (M) or rock (R). */
const sonar = FROZEN9.table('sonar', 'Class', 208);
/** carData Cowles: 1,421 students, two integer scores and sex (many exact duplicates), volunteer yes/no. */
const cowles = FROZEN9.table('cowles', 'volunteer', 1421);
/** modeldata lending_club: 9,857 loans, 22 mixed columns, bad (about 5%) or good. */
const lendingClub = FROZEN9.table('lending-club', 'Class', 6000);
/** modeldata small_fine_foods: Amazon food reviews (HTML line breaks as written), great or other. */
const fineFoods = shortTexts(FROZEN9, 'fine-foods', 'review', 'score');

export const FORTUNE_MARIO_FILES = [
  'geral',
  'computadores',
  'piadas',
  'anagramas',
  'gauchismos',
  'palindromos',
];

/** Brazilian Portuguese fortunes of six files (each file a class; geral more than half of the rows). */
const fortunesMario = (p: DataPaths) =>
  fortuneSet(
    p,
    { part: 'frozen9', name: 'fortunes-mario', hint: FROZEN9.hint },
    { text: 'frase', label: 'arquivo' },
    FORTUNE_MARIO_FILES.map((c) => [c, c]),
    4000,
  );

export const MATRIX_DATASETS: Record<string, (p: DataPaths) => BaseDataset> = {
  sst2,
  'sms-spam': sms,
  'spamassassin-a': (p) => spamassassin(p, 'a'),
  'spamassassin-b': (p) => spamassassin(p, 'b'),
  adult,
  'german-credit': germanCredit,
  iris,
  wine,
  'breast-cancer': breastCancer,
  'seattle-weather': seattleWeather,
  digits,
  'fashion-mnist': fashionMnist,
  'fortunes-en': fortunesEn,
  'fortunes-de': fortunesDe,
  fgl,
  olive,
  diamonds,
  spambase,
  'fashion-mnist-test': fashionMnistTest,
  mpg,
  midwest,
  biopsy,
  pima,
  gapminder,
  'trump-tweets': trumpTweets,
  'fortunes-es': fortunesEs,
  arrests,
  chile,
  beps,
  wells,
  'contagious-diseases': contagiousDiseases,
  'fortunes-topics': fortunesTopics,
  'wordnet-nouns': wordnetNouns,
  penguins,
  titanic,
  'hpc-jobs': hpcJobs,
  'cell-segmentation': cellSegmentation,
  cps1985,
  'austen-paragraphs': austenParagraphs,
  wvs,
  'swiss-labor': swissLabor,
  'credit-data': creditData,
  'credit-card': creditCard,
  salaries,
  'fortunes-it': fortunesIt,
  'fortunes-pl': fortunesPl,
  satellite,
  soybean,
  'house-votes': houseVotes,
  vehicle,
  'fortunes-ru': fortunesRu,
  'fortunes-cs': fortunesCs,
  'letter-recognition': letterRecognition,
  ionosphere,
  shuttle,
  'income-survey': incomeSurvey,
  'fortunes-mario': fortunesMario,
  'fine-foods': fineFoods,
  vowel,
  sonar,
  cowles,
  'lending-club': lendingClub,
};

export const DATASET_KIND: Record<string, DatasetKind> = {
  sst2: 'text',
  'sms-spam': 'text',
  'spamassassin-a': 'mail',
  'spamassassin-b': 'mail',
  adult: 'tabular',
  'german-credit': 'tabular',
  iris: 'tabular',
  wine: 'tabular',
  'breast-cancer': 'tabular',
  'seattle-weather': 'tabular',
  digits: 'image',
  'fashion-mnist': 'image',
  'fortunes-en': 'text',
  'fortunes-de': 'text',
  fgl: 'tabular',
  olive: 'tabular',
  diamonds: 'tabular',
  spambase: 'tabular',
  'fashion-mnist-test': 'image',
  mpg: 'tabular',
  midwest: 'tabular',
  biopsy: 'tabular',
  pima: 'tabular',
  gapminder: 'tabular',
  'trump-tweets': 'text',
  'fortunes-es': 'text',
  arrests: 'tabular',
  chile: 'tabular',
  beps: 'tabular',
  wells: 'tabular',
  'contagious-diseases': 'tabular',
  'fortunes-topics': 'text',
  'wordnet-nouns': 'text',
  penguins: 'tabular',
  titanic: 'tabular',
  'hpc-jobs': 'tabular',
  'cell-segmentation': 'tabular',
  cps1985: 'tabular',
  'austen-paragraphs': 'text',
  wvs: 'tabular',
  'swiss-labor': 'tabular',
  'credit-data': 'tabular',
  'credit-card': 'tabular',
  salaries: 'tabular',
  'fortunes-it': 'text',
  'fortunes-pl': 'text',
  satellite: 'tabular',
  soybean: 'tabular',
  'house-votes': 'tabular',
  vehicle: 'tabular',
  'fortunes-ru': 'text',
  'fortunes-cs': 'text',
  'letter-recognition': 'tabular',
  ionosphere: 'tabular',
  shuttle: 'tabular',
  'income-survey': 'tabular',
  'fortunes-mario': 'text',
  'fine-foods': 'text',
  vowel: 'tabular',
  sonar: 'tabular',
  cowles: 'tabular',
  'lending-club': 'tabular',
};

const cache = new Map<string, BaseDataset>();
/** A dataset's pool, read once per process. */
export function loadMatrixDataset(name: string, paths: DataPaths): BaseDataset {
  let d = cache.get(name);
  if (!d) {
    const f = MATRIX_DATASETS[name];
    if (!f)
      throw inputError(`unknown dataset "${name}"`, `use one of ${Object.keys(MATRIX_DATASETS).join(', ')}`);
    d = f(paths);
    cache.set(name, d);
  }
  return d;
}
