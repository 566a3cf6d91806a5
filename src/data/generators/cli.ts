/**
 * Reproduce a benchmark case without the antidote CLI:
 *   npx tsx src/data/generators/cli.ts <case|all> <outdir> [--seed N] [--data DIR]
 * writes <outdir>/trusted.csv, incoming.csv and truth.json (for `all`, one folder per case).
 */
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASES } from './cases.js';
import { writeCase } from './write.js';

const DEFAULT_DATA = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..', 'shared', 'data');

async function main(argv: string[]): Promise<number> {
  const args = argv.slice();
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const seed = Number(flag('--seed') ?? 1);
  const dataDir = flag('--data') ?? DEFAULT_DATA;
  const [name, out] = args;
  if (!name || !out || (name !== 'all' && !CASES[name]) || !Number.isInteger(seed)) {
    process.stderr.write(
      `usage: cli.ts <${[...Object.keys(CASES), 'all'].join('|')}> <outdir> [--seed N] [--data DIR]\n`,
    );
    return 2;
  }
  const names = name === 'all' ? Object.keys(CASES) : [name];
  for (const n of names) {
    const c = CASES[n]({ dataDir, seed });
    const dir = name === 'all' ? join(out, n) : out;
    await writeCase(c, dir);
    process.stdout.write(
      `${n}: ${c.truth.incomingRows} incoming rows, ${c.truth.poisoned.length} poisoned -> ${dir}\n`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
