/**
 * Registry of audit detectors. Adding a detector = one module exporting `detector` + one line here.
 * Stage 1 runs in this order (the shared trusted model and reference are fitted once, by whichever detector
 * asks first: disagreement.ts referenceOf); stage 2 (aggregators) runs after, with `ctx.shared.suspicion`
 * filled in.
 */
import { detector as blindSpot } from './blind-spot.js';
import { detector as contributors } from './contributors.js';
import { detector as disagreement } from './disagreement.js';
import { detector as drift } from './drift.js';
import { detector as duplicates } from './duplicates.js';
import { detector as labelCells } from './label-cells.js';
import { detector as labelNoise } from './label-noise.js';
import { detector as localLabels } from './local-labels.js';
import { detector as representations } from './representations.js';
import { detector as triggers } from './triggers.js';
import type { Detector } from './types.js';
import { detector as unseenLabel } from './unseen-label.js';

// Triggers before disagreement: rows a confirmed trigger explains are set aside when disagreement judges
// how many labels the batch holds beyond what clean data explains.
export const DETECTORS: Detector[] = [
  // Rows of a label the trusted set has never seen: nothing else can judge them.
  unseenLabel,
  triggers,
  // Before disagreement: the cells of accounts found flipping are set aside when disagreement judges how many
  // labels the batch holds beyond what clean data explains (it fits the reference both read).
  labelCells,
  disagreement,
  labelNoise,
  localLabels,
  duplicates,
  representations,
  drift,
  contributors,
  // Last: reads what every other detector published about its own test.
  blindSpot,
];

export function detectorCatalog(): Map<string, Detector['meta']> {
  return new Map(DETECTORS.map((d) => [d.meta.id, d.meta]));
}
