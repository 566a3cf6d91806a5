/**
 * The cells of the audit benchmark matrix: every (dataset, attack variant) a family can run on, the part
 * each belongs to (split.ts), and a fixed-seed stratified sample of them per family and part, so the matrix
 * stays runnable on a small machine while every stratum (dataset, mode, shape...) is represented.
 */

import type { Family, Params } from '../../src/data/generators/matrix-attacks.js';
import { DATASET_KIND, type DatasetKind } from '../../src/data/generators/matrix-datasets.js';
import { Rng } from '../../src/data/generators/rng.js';
import { DATASET_PART, type DatasetId, type Part, partOf } from './split.js';

export interface Cell {
  id: string;
  family: Family;
  dataset: DatasetId;
  params: Params;
  part: Part;
}

type Space = Record<string, Array<string | number | boolean>>;

// Values after the first four (trusted) or four (rates) are frozen2 held-out values (split.ts); appended, so the
// dev and frozen cells and their sample are unchanged.
const TRUSTED = [100, 300, 1000, 0.2, 500];
const RATES = [0.003, 0.01, 0.03, 0.1, 0.005, 0.05];

interface FamilySpec {
  kinds: DatasetKind[];
  space: Space;
  /** Cells sampled per part. */
  quota: number;
  /** Stratum of a cell: the sample takes strata in turn. */
  stratum: (c: Cell) => string;
}

export const FAMILY_SPECS: Record<Family, FamilySpec> = {
  'text-trigger': {
    kinds: ['text', 'mail'],
    space: {
      kind: ['rare', 'phrase'],
      perRow: [1, 2, 3, 4, 5],
      repeated: [false, true],
      position: ['start', 'middle', 'end', 'anywhere'],
      target: ['minority', 'majority'],
      rate: RATES,
      trusted: TRUSTED,
    },
    quota: 5,
    stratum: (c) => `${c.dataset}/${c.params.kind}`,
  },
  'header-trigger': {
    kinds: ['mail'],
    space: {
      field: ['X-Mailer', 'User-Agent', 'mixed'],
      perRow: [1, 2, 3, 4, 5],
      repeated: [false, true],
      position: ['start', 'middle', 'end', 'anywhere'],
      target: ['minority', 'majority'],
      rate: RATES,
      trusted: TRUSTED,
    },
    quota: 3,
    stratum: (c) => String(c.params.field),
  },
  'tabular-conjunction': {
    kinds: ['tabular'],
    space: { k: [2, 3], target: ['minority', 'majority'], rate: RATES, trusted: TRUSTED },
    quota: 4,
    stratum: (c) => c.dataset,
  },
  'pixel-patch': {
    kinds: ['image'],
    space: {
      patch: ['tl', 'tr', 'bl', 'br', 'center', 'mid-edge'],
      target: ['random'],
      rate: RATES,
      trusted: TRUSTED,
    },
    quota: 3,
    stratum: (c) => String(c.params.rate),
  },
  structural: {
    kinds: ['text', 'mail'],
    space: {
      shape: ['template', 'initial-word', 'punctuation', 'title-case', 'caps-first', 'emoticon'],
      target: ['minority', 'majority'],
      rate: RATES,
      trusted: TRUSTED,
    },
    quota: 4,
    stratum: (c) => String(c.params.shape),
  },
  'targeted-flip': {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: { size: [10, 20, 40], senders: [2, 3], accounts: [8, 15, 27, 40], trusted: TRUSTED },
    quota: 3,
    stratum: (c) => DATASET_KIND[c.dataset],
  },
  'labeler-flip': {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: {
      mode: ['random', 'boundary', 'one-direction', 'class-pair'],
      rogue: [1, 2, 3, 4],
      labelers: [8, 12, 15, 20, 25],
      trusted: TRUSTED,
    },
    quota: 4,
    stratum: (c) => String(c.params.mode),
  },
  campaign: {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: {
      accounts: [2, 3, 4, 5, 6],
      payload: ['trigger', 'flip'],
      target: ['minority', 'majority'],
      rate: [0.01, 0.03, 0.05],
      trusted: TRUSTED,
    },
    quota: 4,
    stratum: (c) => `${DATASET_KIND[c.dataset]}/${c.params.payload}`,
  },
  conditioning: {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: { accounts: [2, 3, 6], kind: ['label', 'feature', 'both'], step: [0.05, 0.1], trusted: TRUSTED },
    quota: 3,
    stratum: (c) => String(c.params.kind),
  },
  noise: {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: { rate: [0.05, 0.1, 0.2, 0.15], trusted: TRUSTED },
    quota: 2,
    stratum: (c) => DATASET_KIND[c.dataset],
  },
  clean: {
    kinds: ['text', 'mail', 'tabular', 'image'],
    space: { trusted: TRUSTED },
    // Two per dataset of the part (see sampleCells).
    quota: 2,
    stratum: (c) => c.dataset,
  },
};

/** Trusted sizes every dev dataset's clean controls run with (small sets are where false alarms live). */
const SMALL_TRUSTED = [100, 300];

function cleanCell(dataset: DatasetId, trusted: number): Cell {
  const params = { trusted };
  return {
    id: `clean:${dataset}:${key(params)}`,
    family: 'clean',
    dataset,
    params,
    part: partOf(dataset, params),
  };
}

/** Fixed seed of the cell sample (changing it changes which cells are measured). */
export const SAMPLE_SEED = 20261203;

function product(space: Space): Params[] {
  let out: Params[] = [{}];
  for (const [k, vs] of Object.entries(space)) out = out.flatMap((p) => vs.map((v) => ({ ...p, [k]: v })));
  return out;
}

/** Rows in each dataset's pool (matrix-datasets.ts), to keep cells whose batch can hold the attack. */
export const POOL_ROWS: Record<DatasetId, number> = {
  sst2: 9613,
  'sms-spam': 5573,
  'spamassassin-a': 3000,
  'spamassassin-b': 3046,
  adult: 32561,
  'german-credit': 1000,
  iris: 150,
  wine: 178,
  'breast-cancer': 569,
  'seattle-weather': 1461,
  digits: 1797,
  'fashion-mnist': 16000,
  'fortunes-en': 3408,
  'fortunes-de': 11568,
  fgl: 214,
  olive: 572,
  diamonds: 53940,
  spambase: 4601,
  'fashion-mnist-test': 10000,
  mpg: 234,
  midwest: 437,
  biopsy: 699,
  pima: 532,
  gapminder: 10545,
  'trump-tweets': 19332,
  'fortunes-es': 6511,
  arrests: 5226,
  chile: 2532,
  beps: 1525,
  wells: 3020,
  'contagious-diseases': 16065,
  'fortunes-topics': 1120,
  'wordnet-nouns': 24632,
  penguins: 344,
  titanic: 1309,
  'hpc-jobs': 4331,
  'cell-segmentation': 2019,
  cps1985: 534,
  'austen-paragraphs': 5365,
  wvs: 5381,
  'swiss-labor': 872,
  'credit-data': 4454,
  'credit-card': 1319,
  salaries: 397,
  'fortunes-it': 6970,
  'fortunes-pl': 3310,
  satellite: 6435,
  soybean: 683,
  'house-votes': 435,
  vehicle: 846,
  'fortunes-ru': 3946,
  'fortunes-cs': 5361,
  'letter-recognition': 20000,
  ionosphere: 351,
  shuttle: 58000,
  'income-survey': 8993,
  'fortunes-mario': 2939,
  'fine-foods': 2711,
  vowel: 990,
  sonar: 208,
  cowles: 1421,
  'lending-club': 9857,
};

/** Families that need accounts, labelers or windows with enough rows each. */
const NEEDS_ROWS: Partial<Record<Family, number>> = {
  'labeler-flip': 500,
  'targeted-flip': 500,
  campaign: 500,
  conditioning: 500,
};

/**
 * Combinations that are not distinct attacks are dropped: one trigger cannot be "repeated"; text has no
 * feature creep; a trusted size above 40% of the pool (it would be cut); account and labeler attacks on
 * pools too small to spread over accounts, labelers or windows.
 */
function meaningful(family: Family, dataset: DatasetId, kind: DatasetKind, p: Params): boolean {
  const pool = POOL_ROWS[dataset];
  if (Number(p.trusted) >= 1 && Number(p.trusted) > 0.4 * pool) return false;
  if (pool < (NEEDS_ROWS[family] ?? 0)) return false;
  if ((family === 'text-trigger' || family === 'header-trigger') && p.perRow === 1 && p.repeated)
    return false;
  if (family === 'conditioning' && (kind === 'text' || kind === 'mail') && p.kind !== 'label') return false;
  return true;
}

const key = (p: Params) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export function allCells(): Cell[] {
  const out: Cell[] = [];
  for (const [family, spec] of Object.entries(FAMILY_SPECS) as Array<[Family, FamilySpec]>) {
    for (const dataset of Object.keys(DATASET_PART) as DatasetId[]) {
      const kind = DATASET_KIND[dataset];
      if (!spec.kinds.includes(kind)) continue;
      for (const params of product(spec.space)) {
        if (!meaningful(family, dataset, kind, params)) continue;
        out.push({
          id: `${family}:${dataset}:${key(params)}`,
          family,
          dataset,
          params,
          part: partOf(dataset, params, family),
        });
      }
    }
  }
  return out;
}

function stratified(family: Family, spec: FamilySpec, cells: Cell[], quota: number, salt: number): Cell[] {
  const rng = new Rng(
    SAMPLE_SEED + salt * 7919 + [...family].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 0),
  );
  const strata = new Map<string, Cell[]>();
  for (const c of cells) {
    const s = spec.stratum(c);
    strata.set(s, [...(strata.get(s) ?? []), c]);
  }
  const order = rng.shuffle([...strata.keys()].sort());
  const pools = new Map(order.map((s) => [s, rng.shuffle(strata.get(s)!)]));
  const out: Cell[] = [];
  while (out.length < quota && [...pools.values()].some((p) => p.length)) {
    for (const s of order) {
      const p = pools.get(s)!;
      if (p.length && out.length < quota) out.push(p.pop()!);
    }
  }
  return out;
}

/**
 * Harder dev cells added by hand beside the sample: label flips judged with a 100-row trusted set on the
 * many-class dev sets (fashion-mnist: 10 classes; seattle-weather: 5), where a model of the trusted rows alone
 * is near chance. Every one is a dev cell (dev dataset, dev-only values; split.ts unchanged).
 */
const WEAK_TRUSTED_DEV: Array<{ family: Family; dataset: DatasetId; params: Params }> = [
  {
    family: 'labeler-flip',
    dataset: 'fashion-mnist',
    params: { mode: 'one-direction', rogue: 1, labelers: 12, trusted: 100 },
  },
  {
    family: 'labeler-flip',
    dataset: 'fashion-mnist',
    params: { mode: 'class-pair', rogue: 2, labelers: 8, trusted: 100 },
  },
  {
    family: 'labeler-flip',
    dataset: 'fashion-mnist',
    params: { mode: 'random', rogue: 2, labelers: 15, trusted: 100 },
  },
  {
    family: 'labeler-flip',
    dataset: 'seattle-weather',
    params: { mode: 'boundary', rogue: 1, labelers: 8, trusted: 100 },
  },
  {
    family: 'labeler-flip',
    dataset: 'seattle-weather',
    params: { mode: 'one-direction', rogue: 2, labelers: 12, trusted: 100 },
  },
  {
    family: 'targeted-flip',
    dataset: 'fashion-mnist',
    params: { size: 20, senders: 2, accounts: 15, trusted: 100 },
  },
  {
    family: 'targeted-flip',
    dataset: 'seattle-weather',
    params: { size: 40, senders: 3, accounts: 8, trusted: 100 },
  },
  { family: 'noise', dataset: 'fashion-mnist', params: { rate: 0.1, trusted: 100 } },
  { family: 'noise', dataset: 'seattle-weather', params: { rate: 0.2, trusted: 100 } },
];

function weakTrustedCells(): Cell[] {
  return WEAK_TRUSTED_DEV.map(({ family, dataset, params }) => ({
    id: `${family}:${dataset}:${key(params)}`,
    family,
    dataset,
    params,
    part: partOf(dataset, params),
  }));
}

/**
 * The sampled cells of one part, per family. dev: `quota` cells of dev datasets and dev variants. frozen:
 * `quota` cells on the frozen datasets (every family is judged there), plus a third as many held-out
 * variants on dev datasets. frozen2 to frozen9: see frozen2Cells, frozen3Cells, wholeDatasetCells.
 * Clean controls: two per dataset of the part (more on dev, see devCleanCells). The dev part also holds the
 * weak-trusted cells above.
 */
export function sampleCells(part: Part): Cell[] {
  if (part === 'frozen2') return frozen2Cells();
  if (part === 'frozen3') return frozen3Cells();
  if (part === 'frozen4') return wholeDatasetCells('frozen4', 7);
  if (part === 'frozen5') return wholeDatasetCells('frozen5', 8);
  if (part === 'frozen6') return wholeDatasetCells('frozen6', 9);
  if (part === 'frozen7') return wholeDatasetCells('frozen7', 10);
  if (part === 'frozen8') return wholeDatasetCells('frozen8', 11);
  if (part === 'frozen9') return wholeDatasetCells('frozen9', 12);
  const all = allCells().filter((c) => c.part === part);
  const out: Cell[] = [];
  for (const [family, spec] of Object.entries(FAMILY_SPECS) as Array<[Family, FamilySpec]>) {
    const mine = all.filter((c) => c.family === family);
    const onFrozen = mine.filter((c) => DATASET_PART[c.dataset] === 'frozen');
    const onDev = mine.filter((c) => DATASET_PART[c.dataset] === 'dev');
    if (family === 'clean') {
      // Every dataset of the part, with a 100-row trusted set and with one other size.
      const here = part === 'dev' ? onDev : onFrozen;
      const datasets = (Object.keys(DATASET_PART) as DatasetId[]).filter((d) => DATASET_PART[d] === part);
      for (const d of datasets) {
        const ofD = here.filter((c) => c.dataset === d);
        if (part === 'dev') {
          // Dev is made harder than frozen: 100- and 300-row trusted sets on every dataset, even where the
          // generator cuts them to 40% of a small pool (iris: 60 rows, breast-cancer: 227).
          for (const trusted of SMALL_TRUSTED) out.push(cleanCell(d, trusted));
          out.push(
            ...stratified(
              family,
              spec,
              ofD.filter((c) => !SMALL_TRUSTED.includes(Number(c.params.trusted))),
              1,
              1,
            ),
          );
          continue;
        }
        out.push(...ofD.filter((c) => c.params.trusted === 100));
        out.push(
          ...stratified(
            family,
            spec,
            ofD.filter((c) => c.params.trusted !== 100),
            1,
            2,
          ),
        );
      }
      continue;
    }
    const quota = spec.quota;
    if (part === 'dev') {
      const sampled = stratified(family, spec, onDev, quota, 1);
      const ids = new Set(sampled.map((c) => c.id));
      const extra = weakTrustedCells().filter((c) => c.family === family && !ids.has(c.id));
      out.push(...sampled, ...extra);
    } else {
      out.push(...stratified(family, spec, onFrozen, quota, 2));
      out.push(...stratified(family, spec, onDev, Math.ceil(quota / 3), 3));
    }
  }
  return out;
}

/** Clean controls of a held-out part: each dataset with a 100-row trusted set, and one other size (sampled). */
function cleanPerDataset(spec: FamilySpec, cells: Cell[], salt: number): Cell[] {
  const out: Cell[] = [];
  for (const d of [...new Set(cells.map((c) => c.dataset))]) {
    const ofD = cells.filter((c) => c.dataset === d);
    out.push(...ofD.filter((c) => c.params.trusted === 100));
    out.push(
      ...stratified(
        'clean',
        spec,
        ofD.filter((c) => c.params.trusted !== 100),
        1,
        salt,
      ),
    );
  }
  return out;
}

/**
 * frozen2: per family, `quota` cells on the frozen2 datasets (every family that applies to them is judged
 * there) plus a third as many frozen2 held-out variants on the datasets seen before (dev and frozen part 1);
 * header triggers, which need mail and have no frozen2 mail set, take their whole quota from the held-out
 * variants on the seen mail sets. Clean controls: every frozen2 dataset with a 100-row trusted set and with
 * one other size. Separate sampling salts from dev (1) and frozen (2, 3).
 */
function frozen2Cells(): Cell[] {
  const all = allCells().filter((c) => c.part === 'frozen2');
  const out: Cell[] = [];
  for (const [family, spec] of Object.entries(FAMILY_SPECS) as Array<[Family, FamilySpec]>) {
    const mine = all.filter((c) => c.family === family);
    const onNew = mine.filter((c) => DATASET_PART[c.dataset] === 'frozen2');
    const onSeen = mine.filter((c) => DATASET_PART[c.dataset] !== 'frozen2');
    if (family === 'clean') {
      out.push(...cleanPerDataset(spec, onNew, 4));
      continue;
    }
    if (!onNew.length) {
      out.push(...stratified(family, spec, onSeen, spec.quota, 5));
      continue;
    }
    out.push(...stratified(family, spec, onNew, spec.quota, 4));
    out.push(...stratified(family, spec, onSeen, Math.ceil(spec.quota / 3), 5));
  }
  return out;
}

/**
 * frozen3: per family, its quota on the frozen3 datasets (every family that applies to one: header triggers
 * need mail and pixel patches images, and frozen3 has neither), and clean controls on every frozen3 dataset
 * with a 100-row trusted set and with one other size. Sampling salt 6 (the other parts use 1-5).
 */
function frozen3Cells(): Cell[] {
  const all = allCells().filter((c) => c.part === 'frozen3');
  const out: Cell[] = [];
  for (const [family, spec] of Object.entries(FAMILY_SPECS) as Array<[Family, FamilySpec]>) {
    const mine = all.filter((c) => c.family === family);
    if (family === 'clean') {
      out.push(...cleanPerDataset(spec, mine, 6));
      continue;
    }
    out.push(...stratified(family, spec, mine, spec.quota, 6));
  }
  return out;
}

/**
 * frozen4 to frozen9: as frozen3, per family its quota on the part's datasets with a sampling salt of
 * its own (7 to 12; the other parts use 1-6); none has a mail or an image set, so header triggers and pixel patches
 * are not judged. Clean controls: every dataset of the part with a 100-row trusted set and with a trusted set of
 * 20% of the batch, the two sizes frozen3's clean controls have (its sample drew 20% as the other size on every
 * dataset), so the parts' false-alarm figures are measured alike.
 */
const WHOLE_DATASET_CLEAN_TRUSTED = [100, 0.2];

function wholeDatasetCells(
  part: 'frozen4' | 'frozen5' | 'frozen6' | 'frozen7' | 'frozen8' | 'frozen9',
  salt: number,
): Cell[] {
  const all = allCells().filter((c) => c.part === part);
  const out: Cell[] = [];
  for (const [family, spec] of Object.entries(FAMILY_SPECS) as Array<[Family, FamilySpec]>) {
    const mine = all.filter((c) => c.family === family);
    if (family === 'clean') {
      out.push(...mine.filter((c) => WHOLE_DATASET_CLEAN_TRUSTED.includes(Number(c.params.trusted))));
      continue;
    }
    out.push(...stratified(family, spec, mine, spec.quota, salt));
  }
  return out;
}
