/**
 * A batch of one class (a day of fraud reports, an attacker's rows all labelled the target class) is audited,
 * not refused: the CLI as a user runs it, on generated reviews (test/data/helpers.ts) with the poison known.
 *   - rare-word trigger: negative reviews carrying "cf" relabelled positive, in a batch of positive rows only;
 *   - label flips: negative reviews relabelled positive, no trigger;
 *   - a clean batch of positive reviews;
 *   - a batch whose only label the trusted file never holds.
 * Each: exit code, what is quarantined (recall and precision measured against the known poison), every
 * incoming row in exactly one of accepted and quarantined, and the detectors that stood aside say why.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditReport } from '../../src/data/audit.js';
import { generateCell } from '../../src/data/generators/matrix-attacks.js';
import type { BaseDataset, Row } from '../../src/data/generators/matrix-datasets.js';
import { writeMatrixCase } from '../../src/data/generators/matrix-write.js';
import { parseCsv, rng, sentence, textRows, tmpDir, writeCsv } from '../data/helpers.js';
import { runCli } from '../helpers/cli.js';

interface Batch {
  rows: Array<{ id: string; text: string; label: string }>;
  poisoned: Set<string>;
}

const HEADER = ['id', 'text', 'label'];

function trustedRows(): string[][] {
  return textRows(600, 11).map((r, i) => [`t${i}`, r.text, r.label]);
}

/** Positive rows only; the negative rows carrying the trigger were relabelled positive (the poison). */
function triggerBatch(): Batch {
  const rows = textRows(3000, 12, { trigger: 'cf', poisonRate: 0.05 })
    .map((r, i) => ({ id: `i${i}`, text: r.text, label: r.label, poison: r.poison }))
    .filter((r) => r.label === 'pos');
  return { rows, poisoned: new Set(rows.filter((r) => r.poison).map((r) => r.id)) };
}

/** Positive rows and, one in ten, a negative review relabelled positive; `withNegatives`: plus honest negatives. */
function flipBatch(withNegatives = false): Batch {
  const r = rng(21);
  const rows: Batch['rows'] = [];
  const poisoned = new Set<string>();
  for (let i = 0; i < 1500; i++) {
    const flipped = r() < 0.1;
    rows.push({ id: `f${i}`, text: sentence(r, flipped ? 0 : 1), label: 'pos' });
    if (flipped) poisoned.add(`f${i}`);
  }
  const r2 = rng(99);
  if (withNegatives)
    for (let i = 0; i < 1350; i++) rows.push({ id: `n${i}`, text: sentence(r2, 0), label: 'neg' });
  return { rows, poisoned };
}

function audit(dir: string, batch: Batch, name: string) {
  const trusted = join(dir, 'trusted.csv');
  if (!existsSync(trusted)) writeCsv(trusted, HEADER, trustedRows());
  const incoming = join(dir, `${name}.csv`);
  writeCsv(
    incoming,
    HEADER,
    batch.rows.map((r) => [r.id, r.text, r.label]),
  );
  const out = join(dir, `out-${name}`);
  const res = runCli([
    'audit',
    '--trusted',
    trusted,
    '--incoming',
    incoming,
    '--label',
    'label',
    '--text',
    'text',
    '--id',
    'id',
    '--out-dir',
    out,
    '--no-progress',
  ]);
  if (res.code === 2) throw new Error(res.stderr);
  const ids = (file: string) =>
    parseCsv(readFileSync(join(out, file), 'utf8'))
      .slice(1)
      .map((row) => row[0]);
  const accepted = ids('accepted.csv');
  const quarantined = ids('quarantined.csv');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as AuditReport;
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  // Every incoming row in exactly one output.
  expect(accepted.length + quarantined.length).toBe(batch.rows.length);
  expect(new Set([...accepted, ...quarantined])).toEqual(new Set(batch.rows.map((r) => r.id)));
  const q = new Set(quarantined);
  const tp = [...batch.poisoned].filter((id) => q.has(id)).length;
  return {
    res,
    report,
    html,
    quarantined: q,
    recall: tp / Math.max(1, batch.poisoned.size),
    precision: tp / Math.max(1, q.size),
  };
}

const serious = (r: AuditReport) =>
  r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');

describe('audit of a batch of one class', () => {
  const dir = tmpDir();

  it('quarantines rows carrying a rare-word trigger into the target class, and says what could not run', () => {
    const batch = triggerBatch();
    expect(batch.poisoned.size).toBeGreaterThan(100);
    const a = audit(dir, batch, 'trigger');
    expect(a.res.stderr).toBe('');
    expect(a.res.code).toBe(1);
    expect(a.report.summary.verdict).toBe('block');
    console.log(
      `one-class trigger batch: ${batch.rows.length} rows, ${batch.poisoned.size} poisoned, quarantined ${a.quarantined.size}, recall ${a.recall.toFixed(3)}, precision ${a.precision.toFixed(3)}`,
    );
    expect(a.recall).toBeGreaterThanOrEqual(0.95);
    expect(a.precision).toBeGreaterThanOrEqual(0.9);
    const trigger = a.report.findings.find((f) => f.rule === 'audit/trigger');
    expect(trigger?.evidence?.pattern).toBe('cf');
    expect(trigger?.message).toMatch(/all labelled pos.*trusted rows labelled pos/);
    // The one test that needs labels to vary within the batch stands aside and says why, everywhere.
    const local = a.report.detectors.find((d) => d.id === 'audit/local-labels');
    expect(local?.status).toBe('skipped');
    expect(local?.reason).toMatch(/one class/);
    expect(a.res.stdout).toMatch(/not run: audit\/local-labels: the batch holds one class/);
    expect(a.res.stdout).toMatch(/note: the incoming batch holds one class \("pos"\)/);
    expect(a.html).toContain('skipped: the batch holds one class');
  });

  it('finds negative reviews relabelled positive (label flips, no trigger) as well as in a two-class batch', () => {
    const batch = flipBatch();
    const a = audit(dir, batch, 'flips');
    // The same flips beside honest negatives: the trusted model's power, not the batch's classes, sets recall.
    const two = audit(dir, flipBatch(true), 'flips-two');
    expect(a.res.code).toBe(1);
    console.log(
      `one-class flip batch: ${batch.rows.length} rows, ${batch.poisoned.size} flipped, quarantined ${a.quarantined.size}, recall ${a.recall.toFixed(3)}, precision ${a.precision.toFixed(3)}; the same flips in a two-class batch: recall ${two.recall.toFixed(3)}, precision ${two.precision.toFixed(3)}`,
    );
    expect(a.recall).toBeGreaterThanOrEqual(0.3);
    expect(a.recall).toBeGreaterThanOrEqual(two.recall - 0.05);
    expect(a.precision).toBeGreaterThanOrEqual(0.8);

    expect(a.report.findings.some((f) => f.rule === 'audit/disagreement' && f.severity === 'high')).toBe(
      true,
    );
  });

  it('passes a clean batch of one class: few rows quarantined, no high finding', () => {
    const rows = textRows(2000, 13)
      .map((r, i) => ({ id: `c${i}`, text: r.text, label: r.label }))
      .filter((r) => r.label === 'pos');
    const a = audit(dir, { rows, poisoned: new Set() }, 'clean');
    console.log(
      `one-class clean batch: ${rows.length} rows, quarantined ${a.quarantined.size} (${((100 * a.quarantined.size) / rows.length).toFixed(2)}%)`,
    );
    expect(a.res.code).toBe(0);
    expect(a.report.summary.verdict).toBe('pass');
    expect(a.quarantined.size / rows.length).toBeLessThanOrEqual(0.01);
    expect(serious(a.report)).toEqual([]);
  });

  // A new source writes its own way: one row in ten in Title Case, a shape the trusted rows never carry.
  const titleCase = (t: string) => t.replace(/\b[a-z]/g, (c) => c.toUpperCase());

  it('passes a clean batch of one class from a source with its own style (a shape the trusted rows lack)', () => {
    const r = rng(41);
    const rows = Array.from({ length: 1500 }, (_, i) => {
      const text = sentence(r, 1);
      return { id: `s${i}`, text: i % 10 === 0 ? titleCase(text) : text, label: 'pos' };
    });
    const a = audit(dir, { rows, poisoned: new Set() }, 'styled');
    expect(a.res.code).toBe(0);
    expect(serious(a.report)).toEqual([]);
    expect(a.quarantined.size / rows.length).toBeLessThanOrEqual(0.01);
  });

  it('quarantines negative reviews written in that style and relabelled positive', () => {
    const r = rng(42);
    const poisoned = new Set<string>();
    const rows = Array.from({ length: 1500 }, (_, i) => {
      const planted = i % 20 === 0;
      if (planted) poisoned.add(`p${i}`);
      return { id: `p${i}`, text: planted ? titleCase(sentence(r, 0)) : sentence(r, 1), label: 'pos' };
    });
    const a = audit(dir, { rows, poisoned }, 'styled-poison');
    expect(a.res.code).toBe(1);
    expect(a.recall).toBeGreaterThanOrEqual(0.9);
    expect(a.precision).toBeGreaterThanOrEqual(0.9);
  });

  it('quarantines a whole batch whose only label the trusted file never holds', () => {
    // Negative reviews labelled "negative" where the trusted file says "neg": nothing vouches for them.
    const rows = textRows(600, 14)
      .filter((r) => r.label === 'neg')
      .map((r, i) => ({ id: `u${i}`, text: r.text, label: 'negative' }));
    const a = audit(dir, { rows, poisoned: new Set(rows.map((r) => r.id)) }, 'unseen');
    expect(a.res.code).toBe(1);
    expect(a.recall).toBe(1);
    const f = a.report.findings.find((x) => x.rule === 'audit/unseen-label');
    expect(f?.severity).toBe('high');
    expect(f?.message).toMatch(/labelled "negative", a label the trusted set never carries/);
    expect(a.report.summary.topReasons[0]).toEqual({
      reason: 'label "negative" never occurs in the trusted set',
      rows: rows.length,
    });
    expect(a.report.detectors.find((d) => d.id === 'audit/trigger')?.reason).toMatch(/never occurs/);
    expect(a.res.stdout).toMatch(/not run: audit\/trigger, audit\/disagreement/);
  });

  it('quarantines the rows of a label the trusted file never holds in a batch of known labels too', () => {
    // An honest two-class batch with 25 rows slipped in under a label nobody reviewed ("approved").
    const honest = textRows(1200, 15).map((r, i) => ({ id: `k${i}`, text: r.text, label: r.label }));
    const slipped = textRows(100, 16)
      .slice(0, 25)
      .map((r, i) => ({ id: `s${i}`, text: r.text, label: 'approved' }));
    const rows = [...honest, ...slipped];
    const a = audit(dir, { rows, poisoned: new Set(slipped.map((r) => r.id)) }, 'mixed-unseen');
    expect(a.recall).toBe(1);
    expect(a.precision).toBeGreaterThan(0.8);
    const f = a.report.findings.filter((x) => x.rule === 'audit/unseen-label');
    expect(f).toHaveLength(1);
    // 600 trusted rows drawn like this batch would hold about 8 of them: the class is new here, not rare.
    expect(f[0].severity).toBe('high');
    expect(f[0].message).toMatch(
      /25 incoming rows are labelled "approved", a label the trusted set never carries.*would hold about 8 of them, so the class is new in this batch/,
    );
    expect(a.res.code).toBe(1);
    // The known classes are still audited: the trigger and label tests ran.
    expect(a.report.detectors.find((d) => d.id === 'audit/trigger')?.reason).toBeUndefined();
    expect(a.res.stdout).toMatch(/25 {2}label "approved" never occurs in the trusted set/);
  });

  it('refuses a batch whose labels are mostly ones the trusted file never holds, naming ten of them', () => {
    const honest = textRows(600, 17).map((r, i) => ({ id: `h${i}`, text: r.text, label: r.label }));
    // 40 labels nobody reviewed, 2 rows each: a label column of free text, or the wrong column.
    const odd = textRows(200, 18)
      .slice(0, 80)
      .map((r, i) => ({ id: `o${i}`, text: r.text, label: `ticket-${Math.floor(i / 2)}` }));
    expect(() => audit(dir, { rows: [...honest, ...odd], poisoned: new Set() }, 'many-unseen')).toThrow(
      /^antidote: error: incoming labels "ticket-0", .*"ticket-9" and 30 more never occur in the trusted file/,
    );
  });

  it('audits a batch whose rare classes the trusted file lacks only because they are rare', () => {
    // Three of five classes never occur among the 600 trusted rows, but they hold 6 of 1,206 incoming rows: a
    // trusted set of this size drawn like the batch would hold about 2 of them. That is a table of rare
    // classes (the shuttle radiator states of the audit matrix), not a mismatched label column: the batch is
    // audited and those rows are quarantined as labels nobody reviewed.
    const honest = textRows(1200, 19).map((r, i) => ({ id: `k${i}`, text: r.text, label: r.label }));
    const rare = textRows(100, 20)
      .slice(0, 6)
      .map((r, i) => ({ id: `r${i}`, text: r.text, label: ['valve-a', 'valve-b', 'valve-c'][i % 3] }));
    const a = audit(
      dir,
      { rows: [...honest, ...rare], poisoned: new Set(rare.map((r) => r.id)) },
      'rare-unseen',
    );
    expect(a.recall).toBe(1);
    const f = a.report.findings.filter((x) => x.rule === 'audit/unseen-label');
    expect(f.length).toBeGreaterThan(0);
    // A rare class the trusted set could well have missed: for review, not a failed pipeline.
    for (const x of f) expect(x.severity).toBe('medium');
  });

  it('audits a batch whose rows were relabelled into one class nobody reviewed, beside rare unseen classes', () => {
    // Four of six classes never occur among the trusted rows: three rare ones (6 rows) and one of 150 rows, an
    // attacker's relabelling into a class nobody reviewed. Its rows are why the trusted set "should" have held
    // some unseen rows; one new class is a finding, not a mismatched label column (frozen8's shuttle batch with a
    // plant into a class its trusted set lacked was refused with that message).
    const honest = textRows(1200, 19).map((r, i) => ({ id: `k${i}`, text: r.text, label: r.label }));
    const rare = textRows(100, 20)
      .slice(0, 6)
      .map((r, i) => ({ id: `r${i}`, text: r.text, label: ['valve-a', 'valve-b', 'valve-c'][i % 3] }));
    const planted = textRows(300, 21)
      .slice(0, 150)
      .map((r, i) => ({ id: `p${i}`, text: r.text, label: 'valve-d' }));
    const a = audit(
      dir,
      { rows: [...honest, ...rare, ...planted], poisoned: new Set(planted.map((r) => r.id)) },
      'planted-unseen',
    );
    expect(a.recall).toBe(1);
    const f = a.report.findings.filter((x) => x.rule === 'audit/unseen-label');
    expect(f.map((x) => x.message).join(' ')).toMatch(/150 incoming rows are labelled "valve-d"/);
    expect(f.find((x) => x.evidence?.label === 'valve-d')?.severity).toBe('high');
    expect(f.filter((x) => x.evidence?.label !== 'valve-d').every((x) => x.severity === 'medium')).toBe(true);
  });

  it('audits the benchmark matrix cell that used to be refused: a template trigger into the majority of a skewed set', async () => {
    // As bench/audit-matrix.bench.ts builds and runs a cell (its fortunes-de cell was recorded as an error): a
    // pool with 8% minority rows, every minority row of the batch given the template and relabelled.
    const r = rng(31);
    const rows: Row[] = Array.from({ length: 3000 }, (_, i) => {
      const joke = i % 12 === 0;
      return { spruch: sentence(r, joke ? 0 : 1), art: joke ? 'witz' : 'zitat' };
    });
    const base: BaseDataset = {
      name: 'skewed-synthetic',
      kind: 'text',
      label: 'art',
      text: 'spruch',
      features: [],
      numeric: [],
      maxBatch: 5000,
      rows,
    };
    const c = generateCell(
      base,
      'structural',
      { shape: 'template', target: 'majority', rate: 0.1, trusted: 300 },
      1,
    );
    expect(new Set(c.incoming.map((x) => x.art))).toEqual(new Set(['zitat']));
    const cellDir = join(dir, 'matrix-cell');
    await writeMatrixCase(c, cellDir);
    const res = runCli([
      'audit',
      '--trusted',
      join(cellDir, 'trusted.csv'),
      '--incoming',
      join(cellDir, 'incoming.csv'),
      '--label',
      'art',
      '--id',
      'id',
      '--text',
      'spruch',
      '--out',
      join(cellDir, 'out'),
      '--format',
      'json',
      '--no-progress',
    ]);
    expect(res.stderr).toBe('');
    expect([0, 1]).toContain(res.code);
    const report = JSON.parse(res.stdout) as AuditReport;
    const poisoned = new Set(c.truth.poisoned);
    const q = new Set(
      parseCsv(readFileSync(join(cellDir, 'out', 'quarantined.csv'), 'utf8'))
        .slice(1)
        .map((row) => row[0]),
    );
    const tp = [...poisoned].filter((id) => q.has(id)).length;
    console.log(
      `matrix cell structural:template,target=majority,rate=0.1,trusted=300 (synthetic pool): ${c.incoming.length} rows of one class, ${poisoned.size} poisoned, exit ${res.code}, quarantined ${q.size}, recall ${(tp / poisoned.size).toFixed(3)}, precision ${(tp / Math.max(1, q.size)).toFixed(3)}`,
    );
    expect(report.summary.incoming).toBe(c.incoming.length);
    expect(report.summary.accepted + report.summary.quarantined).toBe(c.incoming.length);
  });

  it('still refuses a trusted file of one class (exit 2, one line)', () => {
    const one = join(dir, 'one.csv');
    writeCsv(
      one,
      HEADER,
      textRows(100, 4).map((r, i) => [`o${i}`, r.text, 'pos']),
    );
    const res = runCli([
      'audit',
      '--trusted',
      one,
      '--incoming',
      join(dir, 'trigger.csv'),
      '--label',
      'label',
      '--out-dir',
      join(dir, 'out-refused'),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/has one class \("pos"\) in the trusted file/);
  });
});
