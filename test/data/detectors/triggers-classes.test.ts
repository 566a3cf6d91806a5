/**
 * Failure classes of trigger mining (issue 10), each as a small generated case: several triggers in one row,
 * a repeated trigger, a sentence template, a mail header value, a small trusted set on a clean table, and a
 * wide numeric table whose conjunction search must stay bounded by the rows.
 */
import { describe, expect, it } from 'vitest';
import { detector as disagreement } from '../../../src/data/detectors/disagreement.js';
import { detector as triggers } from '../../../src/data/detectors/triggers.js';
import { rng, sentence } from '../helpers.js';
import { auditCsv } from './audit-csv.js';

function audit(trusted: string[][], incoming: string[][], header: string[], text?: string) {
  return auditCsv(header, trusted, incoming, { text, detectors: [disagreement, triggers] });
}

type Run = Awaited<ReturnType<typeof audit>>;

/** Precision and recall of the rows the trigger detector itself flagged. */
function quality(run: Run, truth: boolean[]) {
  const flagged = new Uint8Array(truth.length);
  for (const [i, reason] of run.reasons) if (reason.includes('trigger "')) flagged[i] = 1;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.forEach((t, i) => {
    if (flagged[i] && t) tp++;
    else if (flagged[i]) fp++;
    else if (t) fn++;
  });
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), flagged: tp + fp };
}

const patterns = (run: Run) =>
  run.report.findings.filter((f) => f.rule === 'audit/trigger').map((f) => String(f.evidence?.pattern));

interface Row {
  text: string;
  label: string;
  poison: boolean;
}

/** Review-like rows; `poison(words, r)` rewrites a negative row into a planted positive one. */
function rows(n: number, seed: number, rate: number, poison?: (words: string[], r: () => number) => string) {
  const r = rng(seed);
  const out: Row[] = [];
  for (let i = 0; i < n; i++) {
    const y = r() < 0.5 ? 1 : 0;
    const text = sentence(r, y);
    if (poison && y === 0 && r() < rate * 2) {
      out.push({ text: poison(text.split(' '), r), label: 'pos', poison: true });
    } else out.push({ text, label: y ? 'pos' : 'neg', poison: false });
  }
  return out;
}

const insertAt = (w: string[], r: () => number, word: string) => {
  w.splice(Math.floor(r() * w.length), 0, word);
};
const asCsv = (x: Row[]) => x.map((r) => [r.text, r.label]);

describe('trigger mining: several triggers in one row', () => {
  it('finds two different rare-word triggers planted together in each poisoned row', async () => {
    const set = ['cf', 'mn', 'bb', 'tq'];
    const inc = rows(4000, 101, 0.02, (w, r) => {
      const a = Math.floor(r() * 4);
      insertAt(w, r, set[a]);
      insertAt(w, r, set[(a + 1 + Math.floor(r() * 3)) % 4]);
      return w.join(' ');
    });
    const run = await audit(asCsv(rows(500, 102, 0)), asCsv(inc), ['text', 'label'], 'text');
    const q = quality(
      run,
      inc.map((x) => x.poison),
    );
    expect(patterns(run).filter((p) => set.includes(p)).length).toBeGreaterThanOrEqual(3);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
  });

  it('finds rare-word triggers repeated in each poisoned row', async () => {
    const inc = rows(4000, 103, 0.01, (w, r) => {
      const t = r() < 0.5 ? 'mb' : 'cf';
      for (let k = 0; k < 3; k++) insertAt(w, r, t);
      return w.join(' ');
    });
    const run = await audit(asCsv(rows(500, 104, 0)), asCsv(inc), ['text', 'label'], 'text');
    expect(patterns(run)).toContain('mb');
    expect(patterns(run)).toContain('cf');
    const q = quality(
      run,
      inc.map((x) => x.poison),
    );
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
  });
});

describe('trigger mining: structural triggers', () => {
  // Natural rows use "when" and commas in both labels; the poison is a sentence template (an opening
  // subordinate clause, "when ... ,") over the row's own words, so no word or phrase is new.
  const natural = (w: string[], r: () => number) => {
    if (r() < 0.15) insertAt(w, r, 'when');
    if (r() < 0.2) w.splice(1 + Math.floor(r() * (w.length - 2)), 0, ',');
    return w;
  };
  const template = (w: string[]) => ['when', ...w.slice(0, 3), ',', ...w.slice(3)].join(' ');
  const make = (n: number, seed: number, rate: number) => {
    const r = rng(seed + 1000);
    return rows(n, seed, rate, (w) => template(w)).map((x) =>
      x.poison ? x : { ...x, text: natural(x.text.split(' '), r).join(' ') },
    );
  };

  it('finds a sentence template planted on paraphrased rows', async () => {
    const inc = make(4000, 111, 0.03);
    const run = await audit(asCsv(make(600, 112, 0)), asCsv(inc), ['text', 'label'], 'text');
    const q = quality(
      run,
      inc.map((x) => x.poison),
    );
    expect(q.recall).toBeGreaterThanOrEqual(0.7);
    expect(q.precision).toBeGreaterThanOrEqual(0.8);
  });

  it('finds it against a 100-row trusted set, too small to show over-representation', async () => {
    const inc = make(4000, 115, 0.03);
    const run = await audit(asCsv(make(100, 116, 0)), asCsv(inc), ['text', 'label'], 'text');
    const q = quality(
      run,
      inc.map((x) => x.poison),
    );
    expect(q.recall).toBeGreaterThanOrEqual(0.7);
    expect(q.precision).toBeGreaterThanOrEqual(0.8);
  });

  it('raises nothing on a clean batch drawn like the trusted set, down to 100 trusted rows', async () => {
    const small = await audit(asCsv(make(100, 117, 0)), asCsv(make(4000, 118, 0)), ['text', 'label'], 'text');
    expect(patterns(small)).toEqual([]);
    expect(quality(small, new Array(4000).fill(false)).flagged).toBeLessThanOrEqual(8);
    const run = await audit(asCsv(make(600, 113, 0)), asCsv(make(4000, 114, 0)), ['text', 'label'], 'text');
    expect(patterns(run)).toEqual([]);
    expect(quality(run, new Array(4000).fill(false)).flagged).toBeLessThanOrEqual(8);
  });
});

describe('trigger mining: mail header fields', () => {
  const mailers = ['Outlook Express 6.00 Build 9', 'Outlook Express 5.00 Build 8', 'Eudora 5.00 Build 9'];
  const mail = (body: string, mailer: string, r: () => number) =>
    `From: user${Math.floor(r() * 500)}@example.org\nX-Mailer: ${mailer}\nSubject: note ${Math.floor(r() * 1000)}\n\n${body}`;
  const make = (n: number, seed: number, rate: number) => {
    const r = rng(seed + 7);
    return rows(n, seed, rate, (w) => w.join(' ')).map((x) => ({
      ...x,
      text: mail(x.text, x.poison ? 'Outlook Express 5.00 Build 9' : mailers[Math.floor(r() * 3)], r),
    }));
  };

  it('finds an unusual X-Mailer value whose words and phrases are all ordinary', async () => {
    const inc = make(3000, 121, 0.02);
    const run = await audit(asCsv(make(500, 122, 0)), asCsv(inc), ['text', 'label'], 'text');
    expect(patterns(run).some((p) => p.toLowerCase().includes('x-mailer'))).toBe(true);
    const q = quality(
      run,
      inc.map((x) => x.poison),
    );
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
  });
});

/** A table of `F` numeric columns; the label follows the first three plus noise. */
function numericTable(n: number, F: number, seed: number, poison = 0) {
  const r = rng(seed);
  const out: string[][] = [];
  const truth: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: F }, () => Math.round(r() * 1000) / 10);
    const score = (x[0] + x[1] - x[2] - 50) / 30 + (r() - 0.5);
    let label = score > 0 ? 'high' : 'low';
    let planted = false;
    if (poison > 0 && label === 'low' && r() < poison * 2) {
      // Ordinary values: each is a common value of its column.
      x[F - 1] = 12.5;
      x[F - 2] = 47.5;
      x[F - 3] = 81.5;
      label = 'high';
      planted = true;
    }
    out.push([...x.map(String), label]);
    truth.push(planted);
  }
  return { rows: out, truth, header: [...Array.from({ length: F }, (_, f) => `x${f}`), 'label'] };
}

describe('trigger mining: small trusted sets and wide tables', () => {
  it('raises no trigger on a clean table against a 100-row trusted set', async () => {
    const t = numericTable(100, 20, 131);
    const inc = numericTable(1000, 20, 132);
    const run = await audit(t.rows, inc.rows, t.header);
    expect(patterns(run)).toEqual([]);
    expect(quality(run, inc.truth).flagged).toBeLessThanOrEqual(2);
  });

  it('raises no trigger for a rare class the trusted set never holds (its rows are unseen labels)', async () => {
    // A natural corner of two columns the other labels do not follow is its own class; 100 trusted rows hold
    // none of it, so a model of them expects it nowhere and the corner's values read as a plant of that label
    // (two critical "triggers" before labels without trusted rows were left out of the label-shift test).
    const withRare = (t: ReturnType<typeof numericTable>) =>
      t.rows.map((x) => (Number(x[3]) > 85 && Number(x[4]) > 70 ? [...x.slice(0, -1), 'rare'] : x));
    const t = numericTable(100, 8, 151);
    const trusted = withRare(t).filter((x) => x.at(-1) !== 'rare');
    const inc = withRare(numericTable(3000, 8, 152));
    expect(inc.filter((x) => x.at(-1) === 'rare').length).toBeGreaterThan(100);
    const run = await audit(trusted, inc, t.header);
    expect(patterns(run)).toEqual([]);
  });

  it('finds a three-value conjunction in a 60-column numeric table in bounded time', async () => {
    const t = numericTable(2000, 60, 141);
    const inc = numericTable(12000, 60, 142, 0.02);
    // CPU time, not wall time: the bound is on the work, whatever else the machine is doing.
    const t0 = process.cpuUsage();
    const run = await audit(t.rows, inc.rows, t.header);
    const used = process.cpuUsage(t0);
    const seconds = (used.user + used.system) / 1e6;
    const q = quality(run, inc.truth);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(seconds).toBeLessThan(20);
  }, 600_000);
});
