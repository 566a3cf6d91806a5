import type { ScanReport } from './types.js';

/** Stable JSON: two-space indent, trailing newline. The shape is described by schemas/scan-report.v1.json. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function renderScanJson(report: ScanReport): string {
  return renderJson(report);
}
