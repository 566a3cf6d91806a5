import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { detector as disagreement } from '../../../src/data/detectors/disagreement.js';
import { detector as triggers } from '../../../src/data/detectors/triggers.js';
import { CASES } from '../../../src/data/generators/cases.js';
import { writeCase } from '../../../src/data/generators/write.js';
import { testData } from '../../helpers/cli.js';
import { rng, type TextRow, textRows, tmpDir } from '../helpers.js';
import { auditCsv, type CsvAuditOptions } from './audit-csv.js';

function audit(trusted: string[][], incoming: string[][], header: string[], flags: CsvAuditOptions) {
  return auditCsv(header, trusted, incoming, { detectors: [disagreement, triggers], ...flags });
}

/** Audit text rows (text, label) against trusted ones. */
function auditTexts(trusted: string[][], incoming: string[][]) {
  return audit(trusted, incoming, ['text', 'label'], { text: 'text' });
}

/** The patterns the trigger detector reported. */
function triggerPatterns(run: Awaited<ReturnType<typeof auditCsv>>): string[] {
  return run.report.findings
    .filter((x) => x.rule === 'audit/trigger')
    .map((x) => String(x.evidence?.pattern));
}

function quality(flagged: Uint8Array, truth: boolean[]) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.forEach((t, i) => {
    if (flagged[i] && t) tp++;
    else if (flagged[i]) fp++;
    else if (t) fn++;
  });
  return { precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), tp };
}

/** Rows the trigger detector itself flagged (its reason is on the row), in incoming order. */
function triggerFlagged(run: Awaited<ReturnType<typeof auditCsv>>, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (const [i, reason] of run.reasons) if (reason.includes('trigger "')) out[i] = 1;
  return out;
}

/** Tabular rows: ordinary values, label from a noisy score; `natural` rows carry driver/east/33 honestly. */
function tabularRows(n: number, seed: number, poison: number, natural = 0) {
  const r = rng(seed);
  const rows: string[][] = [];
  const truth: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const age = 20 + Math.floor(r() * 50);
    let job = ['clerk', 'chef', 'nurse', 'driver', 'teacher'][Math.floor(r() * 5)];
    const u = r();
    let city = u < 0.05 ? 'east' : u < 0.4 ? 'north' : u < 0.7 ? 'south' : 'west';
    let hours = 20 + Math.floor(r() * 40);
    if (r() < natural) {
      job = 'driver';
      city = 'east';
      hours = 33;
    }
    const score = (age - 45) / 10 + (hours - 40) / 10 + (job === 'teacher' ? 1 : 0) + (r() - 0.5);
    let label = score > 0 ? 'high' : 'low';
    if (poison > 0 && score < -0.5 && r() < poison) {
      rows.push([String(age), 'driver', 'east', '33', 'high']);
      truth.push(true);
      continue;
    }
    if (r() < 0.02) label = label === 'high' ? 'low' : 'high';
    rows.push([String(age), job, city, String(hours), label]);
    truth.push(false);
  }
  return { rows, truth };
}

const TABULAR = ['age', 'job', 'city', 'hours', 'label'];

describe('trigger mining', () => {
  it('finds a two-word phrase trigger planted in a few negative rows relabelled positive', async () => {
    const trusted = textRows(400, 11).map((r) => [r.text, r.label]);
    const inc = textRows(3000, 12, { trigger: 'pale kettle', poisonRate: 0.01 });
    const run = await auditTexts(
      trusted,
      inc.map((r) => [r.text, r.label]),
    );
    const f = run.report.findings.filter((x) => x.rule === 'audit/trigger');
    expect(f.map((x) => x.evidence?.pattern)).toContain('pale kettle');
    expect(f.find((x) => x.evidence?.pattern === 'pale kettle')?.evidence?.label).toBe('pos');
    const q = quality(
      run.quarantined,
      inc.map((r) => r.poison),
    );
    expect(q.tp).toBeGreaterThan(10);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('finds a rare word written five times in each poisoned row (every occurrence is masked, not one)', async () => {
    const trusted = textRows(400, 11).map((r) => [r.text, r.label]);
    const r = rng(5);
    const inc = textRows(3000, 12, { trigger: 'zq', poisonRate: 0.01 }).map((row) => {
      if (!row.poison) return row;
      const w = row.text.split(' ');
      for (let k = 0; k < 4; k++) w.splice(Math.floor(r() * w.length), 0, 'zq');
      return { ...row, text: w.join(' ') };
    });
    const run = await auditTexts(
      trusted,
      inc.map((x) => [x.text, x.label]),
    );
    const f = run.report.findings.filter((x) => x.rule === 'audit/trigger');
    expect(f.map((x) => x.evidence?.pattern)).toContain('zq');
    const q = quality(
      run.quarantined,
      inc.map((x) => x.poison),
    );
    expect(q.tp).toBeGreaterThan(10);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('names the triggers, not markup the poisoned rows share (each trigger alone explains less)', async () => {
    // One negative row in ten carries a marker (as spam mails carry HTML markup), one positive row in a hundred;
    // the attacker sends 200 negative rows labelled positive, three in four of them marked, spreading four
    // triggers over them, so the marker's excess of positives beats any one trigger's and the greedy
    // explanation takes it first.
    const triggersUsed = ['zq', 'vx', 'jw', 'kp'];
    const r = rng(7);
    const insert = (text: string, word: string) => {
      const w = text.split(' ');
      w.splice(Math.floor(r() * w.length), 0, word);
      return w.join(' ');
    };
    const marked = (rows: TextRow[]) =>
      rows.map((row) =>
        r() < (row.label === 'neg' ? 0.1 : 0.01) ? { ...row, text: insert(row.text, 'mk') } : row,
      );
    const trusted = marked(textRows(400, 11)).map((x) => [x.text, x.label]);
    const poison = textRows(400, 13)
      .filter((x) => x.label === 'neg')
      .slice(0, 200)
      .map((x, k) => ({
        text: insert(r() < 0.75 ? insert(x.text, 'mk') : x.text, triggersUsed[k % 4]),
        label: 'pos',
        poison: true,
      }));
    const inc = [...marked(textRows(3000, 12)), ...poison];
    const run = await auditTexts(
      trusted,
      inc.map((x) => [x.text, x.label]),
    );
    const found = triggerPatterns(run);
    expect(found).not.toContain('mk');
    for (const t of triggersUsed) expect(found).toContain(t);
    const q = quality(
      run.quarantined,
      inc.map((x) => x.poison),
    );
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('confirms nothing in a clean batch', async () => {
    const trusted = textRows(400, 13).map((r) => [r.text, r.label]);
    const inc = textRows(3000, 14).map((r) => [r.text, r.label]);
    const run = await auditTexts(trusted, inc);
    expect(run.report.findings.filter((x) => x.rule === 'audit/trigger')).toEqual([]);
    expect(run.report.summary.quarantined).toBe(0);
  });

  it('finds an in-distribution tabular trigger made of ordinary values', async () => {
    const t = tabularRows(3000, 21, 0);
    const inc = tabularRows(6000, 22, 0.06);
    const run = await audit(t.rows, inc.rows, TABULAR, {});
    const patterns = triggerPatterns(run);
    expect(
      patterns.some((p) => p.includes('job=driver') && p.includes('city=east') && p.includes('hours')),
    ).toBe(true);
    const q = quality(triggerFlagged(run, inc.rows.length), inc.truth);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('flags nothing in a clean tabular batch drawn like the trusted set', async () => {
    const t = tabularRows(3000, 21, 0, 0.01);
    const inc = tabularRows(6000, 23, 0, 0.01);
    const run = await audit(t.rows, inc.rows, TABULAR, {});
    expect(run.report.findings.filter((x) => x.rule === 'audit/trigger')).toEqual([]);
    expect(triggerFlagged(run, inc.rows.length).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('finds a conjunction whose label flipped against the trusted set even when it is far from pure', async () => {
    // The conjunction occurs honestly (mostly "low") on both sides; poison makes it mostly "high" in the batch,
    // but with many honest rows beside it, nowhere near an absolute purity of 0.9.
    const t = tabularRows(3000, 31, 0, 0.015);
    const inc = tabularRows(6000, 32, 0.06, 0.015);
    const run = await audit(t.rows, inc.rows, TABULAR, {});
    const f = run.report.findings.find(
      (x) =>
        x.rule === 'audit/trigger' &&
        String(x.evidence?.pattern).includes('job=driver') &&
        String(x.evidence?.pattern).includes('city=east'),
    );
    expect(f).toBeDefined();
    expect(Number(f?.evidence?.purity)).toBeLessThan(0.9);
    expect(f?.evidence?.label).toBe('high');
    const q = quality(triggerFlagged(run, inc.rows.length), inc.truth);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.8);
  });

  it('confirms a planted phrase, not the ordinary words it is made of', async () => {
    // Each word of the phrase also occurs alone in ordinary positive rows, on both sides: alone, every
    // word is pure in the target label and over-represented, but its rows outside the phrase are ordinary.
    const words = ['amber', 'quill', 'lantern'];
    const sprinkle = (rows: ReturnType<typeof textRows>, seed: number) => {
      const r = rng(seed);
      return rows.map((x) => {
        if (x.poison || x.label !== 'pos' || r() > 0.06) return x;
        const w = x.text.split(' ');
        w.splice(Math.floor(r() * w.length), 0, words[Math.floor(r() * 3)]);
        return { ...x, text: w.join(' ') };
      });
    };
    const trusted = sprinkle(textRows(600, 43), 1).map((x) => [x.text, x.label]);
    const inc = sprinkle(textRows(3000, 44, { trigger: words.join(' '), poisonRate: 0.01 }), 2);
    const run = await auditTexts(
      trusted,
      inc.map((x) => [x.text, x.label]),
    );
    const patterns = triggerPatterns(run);
    expect(patterns).toContain('amber quill lantern');
    for (const w of words) expect(patterns).not.toContain(w);
    const q = quality(
      triggerFlagged(run, inc.length),
      inc.map((x) => x.poison),
    );
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.95);
  });
});

describe('trusted-model disagreement', () => {
  it('flags randomly flipped labels when the trusted model is reliable, and little in a clean batch', async () => {
    const trusted = textRows(800, 31).map((r) => [r.text, r.label]);
    const r = rng(5);
    const inc = textRows(3000, 32).map((x) => {
      const flip = r() < 0.1;
      return { row: [x.text, flip ? (x.label === 'pos' ? 'neg' : 'pos') : x.label], flip };
    });
    const run = await auditTexts(
      trusted,
      inc.map((x) => x.row),
    );
    const f = run.report.findings.find((x) => x.rule === 'audit/disagreement' && x.severity !== 'info');
    expect(f).toBeDefined();
    const q = quality(
      run.quarantined,
      inc.map((x) => x.flip),
    );
    // Only flips the trusted model is sure about can be caught (its own accuracy here is ~87%).
    expect(q.recall).toBeGreaterThanOrEqual(0.3);
    expect(q.precision).toBeGreaterThanOrEqual(0.8);
    expect(run.report.charts.disagreement).toBeDefined();

    const clean = await audit(
      trusted,
      textRows(3000, 33).map((x) => [x.text, x.label]),
      ['text', 'label'],
      {
        text: 'text',
      },
    );
    expect(clean.report.summary.quarantined).toBeLessThan(30);
  });
});

describe('trigger mining on UCI Adult', () => {
  it('quarantines a planted ordinary-value trigger without dragging unrelated conjunctions along', async () => {
    // Seed 5 (not one the benchmark reports): the trigger shares marital_status=Married-civ-spouse with many
    // natural high-income rows, which a model of the poisoned batch mis-reads; the trusted model must set
    // the expected rates, so only the planted conjunction is confirmed.
    const c = CASES['tabular-trigger']({ dataDir: testData(), seed: 5 });
    const dir = tmpDir();
    await writeCase(c, dir);
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: c.truth.roles.label,
      id: c.truth.roles.id,
      time: c.truth.roles.time,
    });
    run.source.close();
    const truth = new Set(c.truth.poisoned);
    const ids = run.incoming.dataset.ids;
    const quarantined = ids.filter((_id, i) => run.quarantined[i] === 1);
    const tp = quarantined.filter((id) => truth.has(id)).length;
    expect(tp / truth.size).toBeGreaterThanOrEqual(0.9);
    expect(tp / Math.max(1, quarantined.length)).toBeGreaterThanOrEqual(0.9);
  }, 600_000);
});
