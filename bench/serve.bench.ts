/**
 * antidote serve under load, on loopback only.
 *   1. Posting: 100 concurrent clients post audit reports of 10,000 row outcomes each for SECONDS (60 by
 *      default; ANTIDOTE_BENCH_SERVE_SECONDS) to a server in its own process on the embedded store; then every
 *      acknowledged run and its rows are counted in the store (no run lost), errors counted, latencies reported.
 *   2. Dashboard: a store of 1,000 runs (900 audits, 100 gate runs of one model) and 1,000,000 row outcomes;
 *      chromium (playwright-core) loads each main page and the time until its table is on screen is measured
 *      (median of 3, first load included), and separately until its charts are drawn.
 * The audit report posted is a real one: `antidote audit` runs first on a batch drawn from examples/sst2.
 * The machine is shared: the load average is recorded with every timing, and the server's own CPU time per
 * post (from /proc, user + system, all its threads) is reported, which other processes' load does not inflate.
 * `--part=load` or `--part=dashboard` runs one half (the other half's table is kept from the last run).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { buildPayload } from '../src/cli/post.js';
import { hashToken, newToken } from '../src/server/auth.js';
import { toRecords } from '../src/server/ingest.js';
import { RunPostSchema } from '../src/server/schema.js';
import { Store } from '../src/server/store.js';
import { makeAudit, makeGateSeries } from '../test/server/fixtures.js';
import { BENCH_DIR, CLI, median } from './lib.js';

const SECONDS = Number(process.env.ANTIDOTE_BENCH_SERVE_SECONDS ?? 60);
const CLIENTS = 100;
const ROWS = 10_000;
const work = mkdtempSync(join(tmpdir(), 'antidote-serve-bench-'));
const PART = process.argv.find((a) => a.startsWith('--part='))?.slice('--part='.length);

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
const uptime = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

/** CPU time (user + system, every thread) a process has used so far, in ms; from /proc (Linux). */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name, in clock ticks (100/s).
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

function startServer(data: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--data',
      data,
      '--quiet-log',
      '--rate-limit',
      '1000000',
      '--max-body',
      '64',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], proc });
    });
    proc.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
};

/** A real audit report, and 10,000 row outcomes shaped like an audit's (quarantined, review, accepted); made once. */
let made: ReturnType<typeof makeTemplate> | undefined;
const template = () => {
  made ??= makeTemplate();
  return made;
};

async function makeTemplate() {
  const dir = makeAudit(join(work, 'audit'));
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
  const base = await buildPayload('audit', report);
  const texts = (base.rows ?? []).map((r) => r.fields?.sentence).filter((t): t is string => Boolean(t));
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const q = i % 20 === 0;
    const review = i % 40 === 0 ? 'priority' : i % 97 === 0 ? 'control' : null;
    return {
      id: `r${i}`,
      decision: q ? ('quarantined' as const) : ('accepted' as const),
      score: q ? 0.9 : review ? 0.2 : undefined,
      reasons: q ? ['trigger "zq" with label 1 [0.95]'] : [],
      review,
      fields:
        q || review
          ? { sentence: texts[i % texts.length] ?? 'text', label: String(i % 2) }
          : { label: String(i % 2) },
    };
  });
  return { report, rows };
}

async function loadTest() {
  const { report, rows } = await template();
  const data = join(work, 'load-data');
  const admin = newToken();
  {
    const s = await Store.open({ dataDir: data });
    await s.addToken(hashToken(admin), 'admin', 'bench');
    await s.close();
  }
  const { url, proc } = await startServer(data);
  const loadBefore = uptime();
  const cpuBefore = cpuMs(proc.pid);
  const latencies: number[] = [];
  const acknowledged = new Set<string>();
  let errors = 0;
  let seq = 0;
  const firstErrors: string[] = [];
  const until = Date.now() + SECONDS * 1000;
  const t0 = Date.now();
  // The rows are serialised once: the load generator shares the two cores with the server it measures.
  const rowsJson = JSON.stringify(rows);
  async function client(c: number) {
    while (Date.now() < until) {
      const n = seq++;
      const head = JSON.stringify({
        kind: 'audit',
        report: {
          ...report,
          createdAt: new Date(t0 + n).toISOString(),
          notes: [`bench client ${c} post ${n}`],
        },
        batch: `bench-${c}-${n}`,
      });
      const body = `${head.slice(0, -1)},"rows":${rowsJson}}`;
      const t = performance.now();
      try {
        const res = await fetch(`${url}/api/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
          body,
        });
        const out = (await res.json()) as { id?: string; error?: string };
        if (res.status !== 201 || !out.id) {
          errors++;
          if (firstErrors.length < 3) firstErrors.push(`${res.status} ${out.error}`);
        } else acknowledged.add(out.id);
      } catch (err) {
        errors++;
        if (firstErrors.length < 3) firstErrors.push((err as Error).message);
      }
      latencies.push(performance.now() - t);
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  const elapsed = (Date.now() - t0) / 1000;
  const serverCpu = cpuMs(proc.pid) - cpuBefore;
  const loadAfter = uptime();
  await stop(proc);
  const s = await Store.open({ dataDir: data });
  const counts = await s.counts();
  const stored = await s.db.all<{ id: string }>("SELECT id FROM runs WHERE kind = 'audit'");
  await s.close();
  const storedIds = new Set(stored.map((r) => r.id));
  const lost = [...acknowledged].filter((id) => !storedIds.has(id)).length;
  return {
    posts: latencies.length,
    acknowledged: acknowledged.size,
    errors,
    firstErrors,
    lost,
    storedRuns: counts.runs,
    storedRows: counts.row_outcomes,
    expectedRows: acknowledged.size * ROWS,
    elapsed,
    p50: pct(latencies, 50),
    p95: pct(latencies, 95),
    p99: pct(latencies, 99),
    max: Math.max(...latencies),
    mbPerPost: Buffer.byteLength(JSON.stringify({ kind: 'audit', report, rows })) / 1e6,
    cpuPerPost: serverCpu / Math.max(1, latencies.length),
    loadBefore,
    loadAfter,
  };
}

async function dashboardTest() {
  const data = join(work, 'dash-data');
  const { report, rows } = await template();
  const gateDirs = makeGateSeries(join(work, 'gates'), 11, 7);
  const gates = gateDirs.map((d) => JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')));
  const viewer = newToken();
  const s = await Store.open({ dataDir: data });
  await s.addToken(hashToken(viewer), 'reviewer', 'bench');
  const AUDITS = 900;
  const perAudit = Math.ceil(1_000_000 / AUDITS);
  const t0 = Date.now();
  let rowsStored = 0;
  for (let a = 0; a < AUDITS; a++) {
    const n = Math.min(perAudit, 1_000_000 - rowsStored);
    const post = RunPostSchema.parse({
      kind: 'audit',
      report: { ...report, createdAt: new Date(t0 - (AUDITS - a) * 3_600_000).toISOString() },
      rows: rows
        .slice(0, n)
        .map((r) => ({ ...r, fields: { ...r.fields, source: `acct-${(a + Number(r.id.slice(1))) % 50}` } })),
      batch: `batch-${String(a).padStart(4, '0')}`,
    });
    const rec = toRecords(post);
    rec.roles.source = 'source';
    await s.addRun(rec, 'bench');
    rowsStored += n;
  }
  for (let g = 0; g < 100; g++) {
    const r = gates[g % gates.length];
    const post = RunPostSchema.parse({
      kind: 'gate',
      report: { ...r, createdAt: new Date(t0 - (100 - g) * 600_000).toISOString() },
    });
    await s.addRun(toRecords(post), 'bench');
  }
  const counts = await s.counts();
  const seedSeconds = (Date.now() - t0) / 1000;
  const lastAudit = (await s.listRuns({ kind: 'audit', limit: 1, offset: 0 })).runs[0].id;
  await s.close();
  const { url, proc } = await startServer(data);
  const timings: Array<{ page: string; table: number[]; charts: number[]; load: string }> = [];
  let browserNote = '';
  try {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(url);
    await page.getByTestId('token').fill(viewer);
    await page.getByTestId('signin').click();
    await page.waitForSelector('text=Runs (');
    const pages: Array<[string, string, string | null]> = [
      ['runs', '#/runs', null],
      ['models (100 gate runs)', '#/model/sentiment', '[data-testid=chart-ridges] svg'],
      ['data (900 batches, 1M rows)', '#/data', '[data-testid=chart-batches] svg'],
      ['review queue', `#/review/${lastAudit}`, null],
    ];
    for (const [name, hash, chartSel] of pages) {
      const t: { page: string; table: number[]; charts: number[]; load: string } = {
        page: name,
        table: [],
        charts: [],
        load: uptime(),
      };
      for (let i = 0; i < 3; i++) {
        await page.goto('about:blank');
        const start = Date.now();
        await page.goto(`${url}/${hash}`);
        await page.waitForSelector('main table, [data-testid=row-text]', { timeout: 60_000 });
        t.table.push(Date.now() - start);
        if (chartSel) {
          await page.waitForSelector(chartSel, { timeout: 60_000 });
          t.charts.push(Date.now() - start);
        }
      }
      timings.push(t);
    }
    await browser.close();
  } catch (err) {
    browserNote = `browser timings not measured: ${(err as Error).message.split('\n')[0]}`;
  }
  await stop(proc);
  return { counts, seedSeconds, timings, browserNote };
}

const resultFile = join(BENCH_DIR, 'results', 'serve.md');
const previous = (() => {
  try {
    return readFileSync(resultFile, 'utf8');
  } catch {
    return '';
  }
})();
/** A section (from its `### ` heading to the next) of the last result, kept when this run skips that part. */
const previousSection = (prefix: string): string[] => {
  const parts = previous.split(/\n(?=### )/);
  const hit = parts.find((p) => p.startsWith(`### ${prefix}`));
  return hit ? [hit.trim()] : [];
};
const code = (() => {
  const r = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: BENCH_DIR, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
})();

const load = PART === 'dashboard' ? undefined : await loadTest();
const dash = PART === 'load' ? undefined : await dashboardTest();
const loadHeading = `${CLIENTS} concurrent clients`;
const loadHeader =
  '| code | posts | acknowledged (201) | errors | lost (acknowledged, not stored) | rows stored / expected | posts/s | MB per post | server CPU ms per post | p50 ms | p95 ms | p99 ms | max ms | load average before / after |';
/** Rows of earlier runs of other code are kept below the new one (before/after comparisons), at most four. */
const earlierLoadRows = previous
  .split('\n')
  .filter((l) => /^\| [0-9a-f]{7}/.test(l) && !l.startsWith(`| ${code} `))
  .slice(0, 4);
const loadLines = load
  ? [
      `### ${loadHeading} posting audit reports of ${ROWS.toLocaleString('en-US')} row outcomes for ${SECONDS} s`,
      '',
      loadHeader,
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${code} | ${load.posts} | ${load.acknowledged} | ${load.errors} | ${load.lost} | ${load.storedRows.toLocaleString('en-US')} / ${load.expectedRows.toLocaleString('en-US')} | ${(load.posts / load.elapsed).toFixed(1)} | ${load.mbPerPost.toFixed(2)} | ${load.cpuPerPost.toFixed(0)} | ${load.p50.toFixed(0)} | ${load.p95.toFixed(0)} | ${load.p99.toFixed(0)} | ${load.max.toFixed(0)} | ${load.loadBefore} / ${load.loadAfter} |`,
      ...earlierLoadRows,
      ...(load.firstErrors.length ? ['', `First errors: ${load.firstErrors.join('; ')}`] : []),
      '',
      'In a closed loop of 100 clients the latency is about 100 / (posts per second): it follows the server CPU time per post and the share of the two cores the other processes leave it (the load average).',
    ]
  : previousSection(loadHeading);
const dashLines = dash
  ? [
      `### Dashboard with ${dash.counts.runs.toLocaleString('en-US')} runs and ${dash.counts.row_outcomes.toLocaleString('en-US')} stored row outcomes (chromium, median of 3 loads, ms)`,
      '',
      '| page | until the table is on screen | until the charts are drawn | load average during the loads |',
      '| --- | --- | --- | --- |',
      ...dash.timings.map(
        (t) =>
          `| ${t.page} | ${median(t.table).toFixed(0)} (first ${t.table[0]}) | ${t.charts.length ? `${median(t.charts).toFixed(0)} (first ${t.charts[0]})` : '-'} | ${t.load} |`,
      ),
      ...(dash.browserNote ? ['', dash.browserNote] : []),
      '',
      `Seeding the store (in process, ${dash.seedSeconds.toFixed(0)} s; code ${code}) is not part of the timings. Charts are drawn on the server with vega and kept until the model's history changes; the first load pays for them.`,
    ]
  : previousSection('Dashboard');
const lines = [
  '## antidote serve: posting under load, dashboard on a large history',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; shared machine (load average ${uptime()} at the end of this run). Loopback only; server in its own process, embedded DuckDB store.`,
  '',
  ...loadLines,
  '',
  ...dashLines,
];
const text = lines.join('\n');
console.log(text);
mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(resultFile, `${text}\n`);
rmSync(work, { recursive: true, force: true });
const ok = !load || (load.errors === 0 && load.lost === 0 && load.storedRows === load.expectedRows);
process.exit(ok ? 0 : 1);
