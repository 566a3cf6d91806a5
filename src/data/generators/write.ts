/** Write a generated case as trusted.csv, incoming.csv and truth.json in a folder (each atomically). */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import type { GeneratedCase } from './cases.js';
import { toCsv } from './csv.js';

export async function writeCase(
  c: GeneratedCase,
  outDir: string,
): Promise<{ trusted: string; incoming: string; truth: string }> {
  mkdirSync(outDir, { recursive: true });
  const paths = {
    trusted: join(outDir, 'trusted.csv'),
    incoming: join(outDir, 'incoming.csv'),
    truth: join(outDir, 'truth.json'),
  };
  await writeFileAtomic(paths.trusted, toCsv(c.columns, c.trusted));
  await writeFileAtomic(paths.incoming, toCsv(c.columns, c.incoming));
  await writeFileAtomic(paths.truth, `${JSON.stringify(c.truth, null, 2)}\n`);
  return paths;
}
