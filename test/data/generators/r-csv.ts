/** A table as R's write.csv writes it: quoted header and strings (inner quotes doubled), bare numbers, empty cells for NA. */
export function rCsv(header: string[], rows: Array<Array<string | number | null>>): string {
  const q = (v: string | number | null) =>
    v === null ? '' : typeof v === 'number' ? String(v) : `"${v.replace(/"/g, '""')}"`;
  return `${[header.map(q).join(','), ...rows.map((r) => r.map(q).join(','))].join('\n')}\n`;
}
