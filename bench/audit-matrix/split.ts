/**
 * The development / frozen split of the audit benchmark matrix, fixed before any detector was run on the
 * matrix. Detector work may look at the `dev` part only; the `frozen` part is run once, at the end, to
 * measure generalisation to data and attack variants nobody tuned on.
 *
 * A cell (dataset x attack variant) is frozen when its dataset is frozen, or when any of its variant
 * parameters takes a held-out value below. The dev part is therefore dev datasets x dev-only variants;
 * the frozen part holds every attack family (each family runs on frozen datasets with all its variants)
 * plus the held-out variants on dev datasets.
 */

export type Part = 'dev' | 'frozen';

/** Whole datasets. Frozen: one short-text set, one mail set, one mixed table, one image set, one small multi-class table. */
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
} as const satisfies Record<string, Part>;

export type DatasetId = keyof typeof DATASET_PART;

/**
 * Whole attack variants held out: a cell with any of these parameter values is frozen, whatever its dataset.
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

export function partOf(dataset: DatasetId, params: Record<string, string | number | boolean>): Part {
  if (DATASET_PART[dataset] === 'frozen') return 'frozen';
  for (const [k, held] of Object.entries(FROZEN_VALUES)) {
    const v = params[k];
    if (v !== undefined && typeof v !== 'boolean' && held.includes(v)) return 'frozen';
  }
  return 'dev';
}
