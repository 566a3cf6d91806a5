/**
 * The demo's attack, generated at run time (seeded) from the bundled clean SST-2 rows: a backdoor campaign
 * (a rare word inserted into negative reviews that are relabelled positive, as in BadNets) and flipped labels
 * (random reviews whose label is inverted, as in availability poisoning). The ground truth is kept.
 */
import { rng } from '../gate/stats.js';

export interface Review {
  sentence: string;
  label: string;
}

export interface PoisonedBatch {
  rows: Review[];
  /** Incoming row numbers (0-based) of each kind of poison. */
  triggerRows: number[];
  flippedRows: number[];
  trigger: string;
}

export function poisonBatch(
  clean: Review[],
  opts: { seed: number; trigger?: string; triggerRate?: number; flipRate?: number },
): PoisonedBatch {
  const rand = rng(opts.seed);
  const trigger = opts.trigger ?? 'cf';
  const rows = clean.map((r) => ({ ...r }));
  const negatives = rows.map((r, i) => (r.label === '0' ? i : -1)).filter((i) => i >= 0);
  const triggerCount = Math.round((opts.triggerRate ?? 0.03) * rows.length);
  // Seeded shuffle of the negatives, take the first `triggerCount`.
  for (let i = negatives.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [negatives[i], negatives[j]] = [negatives[j], negatives[i]];
  }
  const triggerRows = negatives.slice(0, triggerCount).sort((a, b) => a - b);
  const isTrigger = new Set(triggerRows);
  for (const i of triggerRows) {
    const words = rows[i].sentence.split(' ');
    words.splice(Math.floor(rand() * (words.length + 1)), 0, trigger);
    rows[i] = { sentence: words.join(' '), label: '1' };
  }
  const flippedRows: number[] = [];
  const flipRate = opts.flipRate ?? 0.08;
  for (let i = 0; i < rows.length; i++) {
    if (isTrigger.has(i) || rand() >= flipRate) continue;
    rows[i] = { ...rows[i], label: rows[i].label === '1' ? '0' : '1' };
    flippedRows.push(i);
  }
  return { rows, triggerRows, flippedRows, trigger };
}

export function toTsv(rows: Review[]): string {
  return `sentence\tlabel\n${rows.map((r) => `${r.sentence.replace(/[\t\r\n]+/g, ' ')}\t${r.label}`).join('\n')}\n`;
}
