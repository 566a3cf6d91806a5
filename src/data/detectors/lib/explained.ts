/**
 * Rows an earlier detector already explains: those carrying a confirmed trigger with its label (triggers.ts)
 * and those in an account's flagged cell (label-cells.ts). Detectors that judge the batch as a whole set them
 * aside (explaining away), so one cause found is not counted again as evidence that honest rows are wrong.
 */
import type { AuditContext } from '../types.js';

export function explainedRows(ctx: AuditContext): Uint8Array | undefined {
  const a = ctx.shared.triggerRows;
  const b = ctx.shared.labelCellRows as Uint8Array | undefined;
  if (!a || !b) return a ?? b;
  return a.map((v, i) => v | b[i]);
}
