/**
 * Clean controls on tables no part of the audit matrix uses: every data frame of R's bundled packages that has
 * a label-like column (bench/clean-r/export.R picks them and splits each at 100 trusted rows and at 20%).
 * Each batch is audited end to end with the defaults, as a user would: a clean batch should exit 0, raise no
 * high finding and quarantine next to nothing. Needs Rscript and Debian's r-cran-* packages; says so and
 * writes nothing without them. `--seed=N` picks the split (default 1).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, CLI, ensureCache, machine, median, table, timeCommand, writeSection } from './lib.js';

const seed = Number(/^--seed=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--seed=')) ?? '')?.[1] ?? 1);

if (spawnSync('Rscript', ['--version']).status !== 0) {
  console.log(
    'clean-r: skipped, Rscript is not installed (apt-get install r-base-core and the r-cran-* data packages)',
  );
  process.exit(0);
}
const dir = join(ensureCache(), 'clean-r', `seed-${seed}`);
if (!existsSync(dir)) {
  // Written under a temporary name and renamed when whole: an interrupted export is made again, never reused.
  const partial = `${dir}.partial`;
  rmSync(partial, { recursive: true, force: true });
  const r = spawnSync('Rscript', [join(BENCH_DIR, 'clean-r', 'export.R'), partial, String(seed)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
  renameSync(partial, dir);
}

interface Run {
  name: string;
  code: number | null;
  seconds: number;
  rows: number;
  quarantined: number;
  high: string[];
  error?: string;
}

const runs: Run[] = [];
for (const name of readdirSync(dir).sort()) {
  const d = join(dir, name);
  const label = name.slice(name.lastIndexOf('__') + 2).replace(/-[0-9.]+$/, '');
  if (!name.includes('__') || !existsSync(join(d, 'trusted.csv'))) continue;
  const out = join(d, 'out');
  const t = timeCommand(process.execPath, [
    CLI,
    'audit',
    '--trusted',
    join(d, 'trusted.csv'),
    '--incoming',
    join(d, 'incoming.csv'),
    '--label',
    label,
    '--id',
    'row_id',
    '--out-dir',
    out,
    '--force',
    '--format',
    'json',
  ]);
  const run: Run = { name, code: t.status, seconds: t.seconds, rows: 0, quarantined: 0, high: [] };
  const reportFile = join(out, 'report.json');
  if (t.status === 2) run.error = t.stderr.split('\n').find((l) => l.startsWith('antidote: error'));
  else if (!existsSync(reportFile)) {
    // Neither a verdict nor a refusal: counted as a failed audit, with the last line it printed.
    run.error = t.stderr.trim().split('\n').pop();
    run.high.push(`no report (exit ${t.status}): ${run.error}`);
  } else {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    run.rows = report.summary.incoming;
    run.quarantined = report.summary.quarantined;
    for (const f of report.findings)
      if (f.severity === 'high' || f.severity === 'critical')
        run.high.push(`${f.rule}: ${f.message.slice(0, 160)}`);
  }
  runs.push(run);
  console.log(
    `${name}: exit ${run.code}, ${run.quarantined} of ${run.rows} quarantined, ${run.high.length} high, ${run.seconds.toFixed(1)} s`,
  );
}

const audited = runs.filter((r) => r.code !== 2);
const alarms = audited.filter((r) => r.code !== 0 || r.high.length > 0);
const over = audited.filter((r) => r.quarantined > 0.002 * r.rows);
const listed = audited.filter((r) => alarms.includes(r) || over.includes(r));
const times = audited.map((r) => r.seconds);
writeSection(
  'clean-r',
  `### Clean controls on R's bundled datasets (\`npm run bench -- clean-r --seed=${seed}\`)

Machine: ${machine()}. ${runs.length} audits of ${runs.length / 2} tables (bench/clean-r/export.R: every data frame of
R's bundled packages with 250 to 30,000 rows, 2 to 60 columns and a label-like column, none used by the audit
matrix), each split at 100 trusted rows and at 20% (seed ${seed}), audited with the defaults. These tables
have been looked at while developing, so they are development figures.

| audits | refused (exit 2) | exit 0, no high finding | high finding or exit 1 | over 0.2% quarantined | median s | max s |
| --- | --- | --- | --- | --- | --- | --- |
| ${runs.length} | ${runs.length - audited.length} | ${audited.length - alarms.length} | ${alarms.length} | ${over.length} | ${median(times).toFixed(1)} | ${Math.max(...times).toFixed(1)} |

${table(
  ['batch', 'exit', 'quarantined', 'first high finding'],
  listed.map((r) => [
    r.name,
    r.code ?? '-',
    `${r.quarantined} of ${r.rows}`,
    r.high[0]?.replace(/\|/g, '/') ?? '(none)',
  ]),
)}

Refused: ${runs
    .filter((r) => r.code === 2)
    .map((r) => `${r.name} (${r.error?.replace(/^antidote: error: /, '').replace(/\/\S+\//g, '')})`)
    .join('; ')}
`,
);
