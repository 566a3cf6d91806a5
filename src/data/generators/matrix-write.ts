/** Write a matrix case as trusted.<ext>, incoming.<ext> (CSV, or JSONL for mail) and truth.json, each atomically. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { type Cell, toCsv } from './csv.js';
import type { MatrixCase } from './matrix-attacks.js';

function toJsonl(columns: string[], rows: Array<Record<string, Cell>>): string {
  return (
    rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, r[c] ?? null])))).join('\n') +
    '\n'
  );
}

export async function writeMatrixCase(
  c: MatrixCase,
  outDir: string,
): Promise<{ trusted: string; incoming: string; truth: string }> {
  mkdirSync(outDir, { recursive: true });
  const ext = c.format;
  const paths = {
    trusted: join(outDir, `trusted.${ext}`),
    incoming: join(outDir, `incoming.${ext}`),
    truth: join(outDir, 'truth.json'),
  };
  const write = ext === 'jsonl' ? toJsonl : toCsv;
  await writeFileAtomic(paths.trusted, write(c.columns, c.trusted));
  await writeFileAtomic(paths.incoming, write(c.columns, c.incoming));
  await writeFileAtomic(paths.truth, `${JSON.stringify(c.truth, null, 2)}\n`);
  return paths;
}
