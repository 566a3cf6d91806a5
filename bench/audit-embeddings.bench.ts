/**
 * audit-embeddings: `antidote audit` end to end on batches whose signal lives in an embedding column (a list
 * of numbers per row, as feature stores and vector pipelines export them), read as --embeddings without being
 * named. Generated, seeded: a 384-number embedding whose projection on a hidden direction decides the label
 * (logistic, slope 6), a scalar column that says nothing, 2,000 trusted rows; about 1.5% of the incoming rows,
 * taken among those the hidden direction puts clearly in their class, relabelled. Sizes 5,000 and 25,000 rows; one
 * run each, median of 3 for the larger. Reported: wall and CPU-free wall time, peak RSS, the detectors' seconds
 * (report.json), precision and recall of the quarantined rows against the relabelled ones.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/data/learn/random.js';
import { CLI, ensureCache, machine, median, table, timeCommand, writeSection } from './lib.js';

const DIM = 384;
const SIZES = (process.env.BENCH_EMB_SIZES ?? '5000,25000').split(',').map(Number);

/** JSONL rows and the ids relabelled. */
function batch(n: number, start: number, seed: number, flip: number): { text: string; flipped: Set<string> } {
  const r = mulberry32(seed);
  const dir = mulberry32(7);
  const normal = (f: () => number) =>
    Math.sqrt(-2 * Math.log(Math.max(f(), 1e-12))) * Math.cos(2 * Math.PI * f());
  const w = Array.from({ length: DIM }, () => normal(dir) / Math.sqrt(DIM));
  const flipped = new Set<string>();
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = Array.from({ length: DIM }, () => normal(r));
    const s = e.reduce((a, v, d) => a + v * w[d], 0);
    const fraud = r() < 1 / (1 + Math.exp(-6 * (s - 0.3)));
    let y = fraud;
    const id = `r${start + i}`;
    if (Math.abs(s - 0.3) > 1 && r() < flip) {
      y = !y;
      flipped.add(id);
    }
    lines.push(
      JSON.stringify({
        id,
        embedding: e.map((v) => Number(v.toFixed(3))),
        amount: Number((100 * r()).toFixed(2)),
        label: y ? 'fraud' : 'ok',
      }),
    );
  }
  return { text: `${lines.join('\n')}\n`, flipped };
}

const dir = ensureCache();
const trusted = join(dir, 'emb-trusted.jsonl');
if (!existsSync(trusted)) writeFileSync(trusted, batch(2000, 0, 11, 0).text);
const rows: Array<Array<string | number>> = [];
for (const n of SIZES) {
  const b = batch(n, 1_000_000, 100 + n, 0.05);
  const incoming = join(dir, `emb-incoming-${n}.jsonl`);
  writeFileSync(incoming, b.text);
  const out = join(dir, `emb-out-${n}`);
  const runs = Array.from({ length: n >= 25_000 ? 3 : 1 }, () =>
    timeCommand(process.execPath, [
      CLI,
      'audit',
      '--trusted',
      trusted,
      '--incoming',
      incoming,
      '--label',
      'label',
      '--out',
      out,
      '--force',
      '--no-progress',
      '--format',
      'json',
    ]),
  );
  const last = runs[runs.length - 1];
  const report = JSON.parse(last.stdout);
  const q = readFileSync(join(out, 'quarantined.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).id as string);
  const hit = q.filter((id) => b.flipped.has(id)).length;
  const det = (report.detectors as Array<{ id: string; seconds?: number }>)
    .filter((d) => (d.seconds ?? 0) >= 0.1)
    .map((d) => `${d.id.replace('audit/', '')} ${d.seconds?.toFixed(1)}`)
    .join(', ');
  rows.push([
    n.toLocaleString('en-US'),
    b.flipped.size,
    median(runs.map((r) => r.seconds)).toFixed(1),
    Math.max(...runs.map((r) => r.peakRssMB)).toFixed(0),
    q.length,
    q.length ? (hit / q.length).toFixed(2) : '–',
    (hit / Math.max(1, b.flipped.size)).toFixed(2),
    det,
  ]);
}

writeSection(
  'audit-embeddings',
  `## audit-embeddings: batches whose signal is an embedding column (\`npm run bench -- audit-embeddings\`)

${DIM}-number embeddings as JSONL lists, read as --embeddings without being named; 2,000 trusted rows; about 1.5% of the incoming rows (clear-cut ones) relabelled. Median wall time of 3 runs at 25,000 rows, one at 5,000; ${machine()}.

${table(['rows', 'relabelled', 'wall s', 'peak RSS MB', 'quarantined', 'precision', 'recall', 'detectors (s, at least 0.1)'], rows)}

Target: every audit of the matrix's sizes (up to 25,000 rows) in under 10 s; these batches carry ${DIM} numbers a row beside their columns.`,
);
