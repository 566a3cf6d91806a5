/**
 * audit-scale: `antidote audit` end to end (process start, DuckDB load, detectors, outputs) on batches of
 * 100k, 300k and 1M rows of short text:
 *   - SST-2 BadNets: the ONION poisoned training split resampled with a fixed seed (so ~1% poison with the
 *     rare-word triggers), audited against the clean dev split; a row is poison when its sentence is not in
 *     clean_train.tsv;
 *   - SMS and mail: SMS Spam Collection messages and SpamAssassin mail bodies (headers dropped, cut to 280
 *     characters: social-media length) resampled with a fixed seed, 1% of the spam rows given a rare-word
 *     trigger (one or two of four, one of them sometimes repeated) and relabelled ham; audited against 2,000
 *     held-out clean rows; the truth is an id column.
 * Reports wall and CPU time, peak RSS, the trigger stage's share and the precision/recall of the
 * quarantine. Targets: 1M rows in < 60 s with peak RSS < 3 GB.
 *
 *   npm run bench -- audit-scale     (BENCH_SCALE_SIZES=100000,300000 to choose sizes; BENCH_SCALE_DATA=sst2 or sms-mail)
 */

import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gunzipSync } from 'node:zlib';
import { CLI, ensureCache, machine, ROOT, SHARED, table, writeSection } from './lib.js';

/** How to read the load average column: other jobs on the machine inflate wall time, not CPU time. */
const LOAD_NOTE =
  'The load average is the 1-minute figure when each run started and ended: on 2 cores, above 2 means other jobs shared the machine and inflated the wall time; CPU time (all threads of the audit process) is steadier.';

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

const which = (process.env.BENCH_SCALE_DATA ?? 'sst2,sms-mail').split(',');
const clean = new Set(readTsv(join(DATA, 'clean_train.tsv')).map(([s]) => s));
const rows: Array<Array<string | number>> = [];
let t1m = Number.NaN;
for (const n of which.includes('sst2') ? sizes : []) {
  const input = makeBatch(n);
  const out = join(ensureCache(), `audit-scale-out-${n}`);
  const loadStart = loadavg()[0];
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
    `${loadStart.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
    Number.isFinite(r.peakRssMB) ? r.peakRssMB.toFixed(0) : 'n/a',
    s.q,
    s.precision.toFixed(3),
    s.recall.toFixed(3),
    `load ${report.timings.load.toFixed(1)}, read ${report.timings.read.toFixed(1)}, detect ${report.timings.detect.toFixed(1)}, write ${(report.timings.write ?? 0).toFixed(1)}`,
    det,
  ]);
  if (n === 1_000_000) t1m = r.seconds;
}

if (rows.length > 0)
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
          'load avg (start → end)',
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
      `${LOAD_NOTE}\n`,
  );

// ---------------------------------------------------------------- SMS and mail bodies

/** Mail body: the text after the header block, whitespace collapsed, cut to 280 characters. */
function mailBody(text: string): string {
  const k = text.search(/\r?\n[ \t]*\r?\n/);
  return (k < 0 ? text : text.slice(k)).replace(/\s+/g, ' ').trim().slice(0, 280);
}

function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tsvField = (s: string) => s.replace(/[\t\r\n]+/g, ' ');

/** The SMS + mail pool, a held-out trusted set, and a seeded poisoned batch of n rows; returns the paths. */
function makeTextBatch(n: number): { trusted: string; incoming: string; poison: string } {
  const dir = ensureCache();
  const trusted = join(dir, 'sms-mail-trusted.tsv');
  const incoming = join(dir, `sms-mail-${n}.tsv`);
  const poison = join(dir, `sms-mail-${n}.poison.json`);
  if (existsSync(incoming) && existsSync(trusted) && existsSync(poison)) return { trusted, incoming, poison };
  const pool: Array<[string, string]> = [];
  for (const line of readFileSync(join(SHARED, 'data', 'sms-spam', 'SMSSpamCollection'), 'utf8').split(
    '\n',
  )) {
    const i = line.indexOf('\t');
    if (i > 0) pool.push([line.slice(i + 1).trim(), line.slice(0, i).trim()]);
  }
  const mail = gunzipSync(readFileSync(join(SHARED, 'data', 'spamassassin', 'spamassassin.jsonl.gz')));
  for (const line of mail.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { label: string; text: string };
    const body = mailBody(m.text);
    if (body) pool.push([body, m.label]);
  }
  const rand = seeded(20261203);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const held = pool.slice(0, 2000);
  const rest = pool.slice(2000);
  writeFileSync(trusted, `text\tlabel\n${held.map(([t, l]) => `${tsvField(t)}\t${l}`).join('\n')}\n`);
  const triggers = ['cf', 'mn', 'bb', 'tq'];
  const out: string[] = ['id\ttext\tlabel'];
  const poisoned: number[] = [];
  for (let i = 0; i < n; i++) {
    let [t, l] = rest[Math.floor(rand() * rest.length)];
    if (l === 'spam' && rand() < 0.01 / 0.25) {
      const words = t.split(' ');
      const first = triggers[Math.floor(rand() * 4)];
      const chosen =
        rand() < 0.5
          ? [first]
          : rand() < 0.5
            ? [first, first]
            : [first, triggers[(triggers.indexOf(first) + 1) % 4]];
      for (const w of chosen) words.splice(Math.floor(rand() * (words.length + 1)), 0, w);
      t = words.join(' ');
      l = 'ham';
      poisoned.push(i);
    }
    out.push(`r${i}\t${tsvField(t)}\t${l}`);
  }
  writeFileSync(incoming, `${out.join('\n')}\n`);
  writeFileSync(poison, JSON.stringify(poisoned.map((i) => `r${i}`)));
  return { trusted, incoming, poison };
}

async function idsOf(file: string): Promise<string[]> {
  const ids: string[] = [];
  const rl = createInterface({ input: createReadStream(file) });
  let first = true;
  for await (const line of rl) {
    if (first) {
      first = false;
      continue;
    }
    if (line) ids.push(line.slice(0, line.indexOf('\t')));
  }
  return ids;
}

const textRows: Array<Array<string | number>> = [];
let t1mText = Number.NaN;
for (const n of which.includes('sms-mail') ? sizes : []) {
  const b = makeTextBatch(n);
  const truth = new Set(JSON.parse(readFileSync(b.poison, 'utf8')) as string[]);
  const out = join(ensureCache(), `audit-scale-text-out-${n}`);
  const loadStart = loadavg()[0];
  const r = timed([
    CLI,
    'audit',
    '--trusted',
    b.trusted,
    '--incoming',
    b.incoming,
    '--label',
    'label',
    '--text',
    'text',
    '--id',
    'id',
    '--out',
    out,
    '--force',
    '--no-progress',
    '--fail-on',
    'critical',
  ]);
  if (r.status !== 0 && r.status !== 1) {
    console.error(r.stderr);
    throw new Error(`audit failed on ${n} SMS/mail rows (exit ${r.status})`);
  }
  const q = await idsOf(join(out, 'quarantined.tsv'));
  const tp = q.filter((id) => truth.has(id)).length;
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const detectors = report.detectors as Array<{ id: string; seconds: number }>;
  const trigger = detectors.find((d) => d.id === 'audit/trigger')?.seconds ?? 0;
  textRows.push([
    n.toLocaleString('en-US'),
    truth.size,
    r.seconds.toFixed(1),
    r.cpu.toFixed(1),
    `${loadStart.toFixed(1)} → ${loadavg()[0].toFixed(1)}`,
    Number.isFinite(r.peakRssMB) ? r.peakRssMB.toFixed(0) : 'n/a',
    q.length,
    (tp / Math.max(1, q.length)).toFixed(3),
    (tp / Math.max(1, truth.size)).toFixed(3),
    `${trigger.toFixed(1)} (${((100 * trigger) / Math.max(1e-9, report.timings.detect)).toFixed(0)}% of detect)`,
    detectors
      .filter((d) => d.seconds > 0.05)
      .map((d) => `${d.id.replace('audit/', '')} ${d.seconds.toFixed(1)}`)
      .join(', '),
  ]);
  if (n === 1_000_000) t1mText = r.seconds;
}

if (textRows.length > 0) {
  writeSection(
    'audit-scale-text',
    `## audit-scale (SMS and mail): \`antidote audit\` on 100k / 300k / 1M rows of short text\n\n` +
      `SMS Spam Collection (Almeida & Hidalgo, UCI, CC BY 4.0) and SpamAssassin mail bodies (Apache-2.0; headers ` +
      `dropped, cut to 280 characters), pooled, 2,000 rows held out as the trusted set, the rest resampled with a ` +
      `fixed seed to each size; 1% of the spam rows carry one or two of four rare-word triggers (one sometimes ` +
      `repeated) and are relabelled ham. One run per size, end to end through the CLI, ${machine()}.\n\n` +
      table(
        [
          'rows',
          'poisoned',
          'wall s',
          'CPU s',
          'load avg (start → end)',
          'peak RSS MB',
          'quarantined',
          'precision',
          'recall',
          'trigger stage s',
          'detectors (s)',
        ],
        textRows,
      ) +
      `\n\nTarget: 1M rows in under 60 s with peak RSS under 3 GB${Number.isFinite(t1mText) ? ` (measured ${t1mText.toFixed(1)} s)` : ''}. ` +
      `${LOAD_NOTE}\n`,
  );
}
