/**
 * audit-scale: `antidote audit` end to end (process start, DuckDB load, detectors, outputs) on SST-2
 * BadNets batches of 100k, 300k and 1M rows: the ONION poisoned training split resampled with a fixed seed
 * (so ~1% poison with the rare-word triggers), audited against the clean dev split. Reports wall time, peak
 * RSS and the precision/recall of the quarantine against the ground truth (a row is poison when its
 * sentence is not in clean_train.tsv). Targets: 1M rows in < 60 s with peak RSS < 3 GB.
 *
 *   npm run bench -- audit-scale            (BENCH_SCALE_SIZES=100000,300000 to choose sizes)
 */

import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, ensureCache, machine, ROOT, SHARED, table, writeSection } from './lib.js';

/** Wall time, CPU time (user + system) and peak RSS of one run, via GNU time. */
function timed(args: string[]) {
  const r = spawnSync('/usr/bin/time', ['-f', '__T=%e %U %S %M', process.execPath, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const m = /__T=([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  return {
    status: r.status,
    stderr: r.stderr,
    seconds: m ? Number(m[1]) : Number.NaN,
    cpu: m ? Number(m[2]) + Number(m[3]) : Number.NaN,
    peakRssMB: m ? Number(m[4]) / 1024 : Number.NaN,
  };
}

const DATA = join(SHARED, 'data', 'sst2-badnets');
const sizes = (process.env.BENCH_SCALE_SIZES ?? '100000,300000,1000000').split(',').map(Number);

function readTsv(path: string): Array<[string, string]> {
  const lines = readFileSync(path, 'utf8').split(/\r?\n/).slice(1);
  return lines
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const i = l.lastIndexOf('\t');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
}

/** Seeded resample of the poisoned training split to n rows; returns the path. */
function makeBatch(n: number): string {
  const path = join(ensureCache(), `sst2-badnets-${n}.tsv`);
  if (existsSync(path)) return path;
  const rows = readTsv(join(DATA, 'badnets_train.tsv'));
  let a = 20240611 >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: string[] = ['sentence\tlabel'];
  for (let i = 0; i < n; i++) {
    const [s, l] = rows[Math.floor(rand() * rows.length)];
    out.push(`${s}\t${l}`);
  }
  writeFileSync(path, `${out.join('\n')}\n`);
  return path;
}

async function score(
  outDir: string,
  clean: Set<string>,
): Promise<{ precision: number; recall: number; q: number }> {
  const count = async (file: string) => {
    let poison = 0;
    let total = 0;
    const rl = createInterface({ input: createReadStream(file) });
    let first = true;
    for await (const line of rl) {
      if (first) {
        first = false;
        continue;
      }
      if (!line) continue;
      total++;
      if (!clean.has(line.split('\t')[0].trim())) poison++;
    }
    return { poison, total };
  };
  const q = await count(join(outDir, 'quarantined.tsv'));
  const a = await count(join(outDir, 'accepted.tsv'));
  return {
    precision: q.total ? q.poison / q.total : 0,
    recall: q.poison / Math.max(1, q.poison + a.poison),
    q: q.total,
  };
}

const clean = new Set(readTsv(join(DATA, 'clean_train.tsv')).map(([s]) => s));
const rows: Array<Array<string | number>> = [];
let t1m = Number.NaN;
for (const n of sizes) {
  const input = makeBatch(n);
  const out = join(ensureCache(), `audit-scale-out-${n}`);
  const load = loadavg()[0];
  const r = timed([
    CLI,
    'audit',
    '--trusted',
    join(DATA, 'clean_dev.tsv'),
    '--incoming',
    input,
    '--label',
    'label',
    '--text',
    'sentence',
    '--out-dir',
    out,
    '--force',
    '--no-progress',
    '--fail-on',
    'critical',
  ]);
  if (r.status !== 0 && r.status !== 1) {
    console.error(r.stderr);
    throw new Error(`audit failed on ${n} rows (exit ${r.status})`);
  }
  const s = await score(out, clean);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const det = (report.detectors as Array<{ id: string; seconds: number }>)
    .filter((d) => d.seconds > 0.05)
    .map((d) => `${d.id.replace('audit/', '')} ${d.seconds.toFixed(1)}`)
    .join(', ');
  rows.push([
    n.toLocaleString('en-US'),
    r.seconds.toFixed(1),
    r.cpu.toFixed(1),
    load.toFixed(1),
    Number.isFinite(r.peakRssMB) ? r.peakRssMB.toFixed(0) : 'n/a',
    s.q,
    s.precision.toFixed(3),
    s.recall.toFixed(3),
    `load ${report.timings.load.toFixed(1)}, read ${report.timings.read.toFixed(1)}, detect ${report.timings.detect.toFixed(1)}, write ${(report.timings.write ?? 0).toFixed(1)}`,
    det,
  ]);
  if (n === 1_000_000) t1m = r.seconds;
}

writeSection(
  'audit-scale',
  `## audit-scale: \`antidote audit\` on 100k / 300k / 1M rows\n\n` +
    `SST-2 BadNets (ONION, thunlp/ONION, MIT): the poisoned training split resampled with a fixed seed to each size ` +
    `(~1% rows carry a rare-word trigger with label 1), audited against the clean dev split (872 rows). One run per ` +
    `size, end to end through the CLI (process start included), single process, ${machine()}. Precision and recall ` +
    `of the quarantine against the ground truth (rows whose sentence is not in clean_train.tsv).\n\n` +
    table(
      [
        'rows',
        'wall s',
        'CPU s',
        'load avg',
        'peak RSS MB',
        'quarantined',
        'precision',
        'recall',
        'phases (s)',
        'detectors (s)',
      ],
      rows,
    ) +
    `\n\nTarget: 1M rows in under 60 s with peak RSS under 3 GB${Number.isFinite(t1m) ? ` (measured ${t1m.toFixed(1)} s)` : ''}. ` +
    `The machine was shared with other engineers' jobs while this ran (load average in the table, on 2 cores), ` +
    `so wall time is inflated; CPU time (user + system of the audit process) is the steadier measure.\n`,
);
