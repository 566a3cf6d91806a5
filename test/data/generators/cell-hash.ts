/** A part's sampled cells as one digest, so a test can pin a held-out sample exactly as it was first drawn. */
import { createHash } from 'node:crypto';
import { sampleCells } from '../../../bench/audit-matrix/cells.js';
import type { Part } from '../../../bench/audit-matrix/split.js';

export const cellHash = (part: Part) =>
  createHash('sha256')
    .update(
      sampleCells(part)
        .map((c) => `${c.id}|${c.part}`)
        .join('\n'),
    )
    .digest('hex');
