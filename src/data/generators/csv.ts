/** Minimal RFC 4180 CSV writing for generated cases (quotes fields holding a comma, quote or line break). */
export type Cell = string | number | null | undefined;

export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(columns: string[], rows: Array<Record<string, Cell>>): string {
  const out = [columns.map(csvField).join(',')];
  for (const r of rows) out.push(columns.map((c) => csvField(r[c])).join(','));
  return `${out.join('\n')}\n`;
}
