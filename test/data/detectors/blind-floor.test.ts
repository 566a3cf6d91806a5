/**
 * Issue 10, point 8: the audit says how small an attack it could see. With a small trusted set, trigger
 * mining needs many rows of one pattern before the label-shift and content tests can reach the audit's
 * false-discovery level; the audit computes that floor from its own tests, reports it (report.json `floors`,
 * a medium finding in the text summary), and the floor is real: a plant below it passes, one comfortably
 * above it is caught.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAuditText } from '../../../src/cli/audit.js';
import { runAudit } from '../../../src/data/audit.js';
import { describeFloors, type Floors } from '../../../src/data/floors.js';
import { gaussian, rng, sentence, tmpDir, writeCsv } from '../helpers.js';

/** The audit of dir/trusted.csv against dir/incoming.csv, label column `label` (and text or labeler columns if named). */
const auditDir = (dir: string, roles: { text?: string; labeler?: string } = {}) =>
  runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    ...roles,
    threads: 1,
  });

/** `trusted` reviews, 2,000 incoming, and `planted` negative reviews given the rare word "zq" and label 1. */
async function auditWith(planted: number, trusted = 40) {
  const dir = tmpDir();
  const r = rng(7);
  const row = (): string[] => {
    const y = r() < 0.5 ? 1 : 0;
    return [sentence(r, y), String(y)];
  };
  writeCsv(join(dir, 'trusted.csv'), ['text', 'label'], Array.from({ length: trusted }, row));
  const incoming = Array.from({ length: 2000 }, row);
  for (let j = 0; j < planted; j++) incoming[j * 7] = [sentence(r, 0).replace(' .', ' zq .'), '1'];
  writeCsv(join(dir, 'incoming.csv'), ['text', 'label'], incoming);
  const run = await auditDir(dir, { text: 'text' });
  let caught = 0;
  for (let j = 0; j < planted; j++) caught += run.quarantined[j * 7];
  run.source.close();
  const floors = run.report.floors as Floors;
  const text = floors.trigger?.find((t) => t.kind === 'text');
  return { report: run.report, caught, floor: text?.byLabel['1'] ?? null };
}

describe('the audit reports the smallest trigger it could see', () => {
  it('a small trusted set: a medium blind-spot finding with the floor, in report.json and the text summary', async () => {
    const { report, floor } = await auditWith(0);
    expect(floor).not.toBeNull();
    // 40 trusted rows against 2,000 incoming: an unseen token needs well over 1% of the batch.
    expect(floor!).toBeGreaterThan(20);
    const f = report.findings.find(
      (x) => x.rule === 'audit/blind-spot' && x.evidence?.detector === 'audit/trigger',
    );
    expect(f?.severity).toBe('medium');
    expect(f?.message).toMatch(
      /^Backdoor triggers can pass unseen: with 40 trusted rows and 2,000 incoming, a text pattern .* needs at least (\d+) rows with one label/,
    );
    const said = Number(/needs at least (\d+) rows/.exec(f!.message)![1]);
    expect(said).toBe(report.floors!.trigger![0].rows);
    expect(f?.message).toMatch(/add reviewed rows to the trusted set \(40 now\)/);
    const summary = renderAuditText(report, false);
    expect(summary).toMatch(
      /MEDIUM.*Backdoor triggers can pass unseen: .* needs at least \d+ rows with one label/,
    );
  }, 60_000);

  it('a trusted set large enough: no blind-spot finding, and the text summary still says the floor', async () => {
    const { report, floor } = await auditWith(0, 1000);
    // Under 1% of the 2,000-row batch: a textbook 1% plant is within reach, so nothing is raised...
    expect(floor!).toBeLessThanOrEqual(20);
    expect(report.findings.filter((x) => x.rule === 'audit/blind-spot')).toEqual([]);
    // ...but a clean verdict still tells the reader how small a plant could have passed.
    const summary = renderAuditText(report, false);
    expect(summary).toContain('smallest attacks the audit could see in this batch:');
    expect(summary).toContain(
      `Trigger mining (text): ${report.floors!.trigger![0].rows} rows carrying one pattern with one label`,
    );
  }, 60_000);

  it('a plant below the reported floor passes; one comfortably above it is caught', async () => {
    const clean = await auditWith(0);
    const floor = clean.floor!;
    const below = await auditWith(Math.floor(floor / 2));
    expect(below.floor!).toBeGreaterThan(Math.floor(floor / 2));
    expect(below.caught).toBe(0);
    expect(below.report.findings.some((x) => x.rule === 'audit/trigger' && x.severity !== 'info')).toBe(
      false,
    );
    const above = await auditWith(2 * floor);
    expect(above.floor!).toBeLessThan(2 * floor);
    expect(above.caught).toBeGreaterThanOrEqual(Math.ceil(0.9 * 2 * floor));
    expect(above.report.findings.some((x) => x.rule === 'audit/trigger' && /"zq/.test(x.message))).toBe(true);
  }, 120_000);

  it('a table with 60 trusted rows: the finding names the rows a conjunction needs', async () => {
    const dir = tmpDir();
    const r = rng(11);
    const pick = (xs: string[]) => xs[Math.floor(r() * xs.length)];
    const row = (): string[] => {
      const y = r() < 0.5 ? 1 : 0;
      const colour = r() < 0.7 ? (y ? 'red' : 'blue') : pick(['red', 'blue', 'green']);
      return [colour, pick(['s', 'm', 'l']), pick(['a', 'b', 'c', 'd']), pick(['x', 'y']), String(y)];
    };
    const header = ['colour', 'size', 'shape', 'kind', 'label'];
    writeCsv(join(dir, 'trusted.csv'), header, Array.from({ length: 60 }, row));
    writeCsv(join(dir, 'incoming.csv'), header, Array.from({ length: 1300 }, row));
    const run = await auditDir(dir);
    run.source.close();
    const t = run.report.floors?.trigger?.find((x) => x.kind === 'tabular');
    expect(t).toBeDefined();
    const f = run.report.findings.find(
      (x) => x.rule === 'audit/blind-spot' && x.evidence?.detector === 'audit/trigger',
    );
    expect(f?.severity).toBe('medium');
    expect(f?.message).toContain(
      `with 60 trusted rows and 1,300 incoming, a tabular pattern (a combination of column values) needs ${t!.rows === null ? 'more rows with one label than this batch' : `at least ${t!.rows} rows with one label`}`,
    );
    if (t!.rows !== null) expect(t!.rows).toBeGreaterThan(13);
  }, 60_000);

  it('a large trusted set: the trigger floor is low and raises no finding', async () => {
    const dir = tmpDir();
    const r = rng(9);
    const row = (): string[] => {
      const y = r() < 0.5 ? 1 : 0;
      return [sentence(r, y), String(y)];
    };
    writeCsv(join(dir, 'trusted.csv'), ['text', 'label'], Array.from({ length: 1500 }, row));
    writeCsv(join(dir, 'incoming.csv'), ['text', 'label'], Array.from({ length: 1500 }, row));
    const run = await auditDir(dir, { text: 'text' });
    run.source.close();
    const t = run.report.floors?.trigger?.[0];
    expect(t?.rows).not.toBeNull();
    expect(t!.rows!).toBeLessThanOrEqual(15);
    expect(
      run.report.findings.some(
        (x) => x.rule === 'audit/blind-spot' && x.evidence?.detector === 'audit/trigger',
      ),
    ).toBe(false);
  }, 60_000);
});

/**
 * Two numeric features, 400 trusted rows and 3,000 incoming, the classes `sep` standard deviations apart; a
 * share of the incoming labels flipped at random. Returns the disagreement floor and the share of flips caught.
 */
async function flippedBatch(sep: number, share: number) {
  const dir = tmpDir();
  const r = rng(11);
  const gauss = gaussian(r);
  const row = () => {
    const y = r() < 0.5 ? 1 : 0;
    return [(y * sep + gauss()).toFixed(3), (y * sep + gauss()).toFixed(3), String(y)];
  };
  writeCsv(join(dir, 'trusted.csv'), ['a', 'b', 'label'], Array.from({ length: 400 }, row));
  const incoming = Array.from({ length: 3000 }, row);
  const flips: number[] = [];
  incoming.forEach((x, i) => {
    if (r() < share) {
      x[2] = x[2] === '1' ? '0' : '1';
      flips.push(i);
    }
  });
  writeCsv(join(dir, 'incoming.csv'), ['a', 'b', 'label'], incoming);
  const run = await auditDir(dir);
  run.source.close();
  const caught = flips.filter((i) => run.quarantined[i]).length;
  const blind = run.report.findings.some(
    (x) => x.rule === 'audit/blind-spot' && x.evidence?.detector === 'audit/disagreement',
  );
  return { floor: (run.report.floors as Floors).disagreement, caught: caught / flips.length, blind };
}

describe('the random-flip floor is what the disagreement test does', () => {
  it('a good model: half of the flips are caught above the floor, not below it', async () => {
    const above = await flippedBatch(3, 0.1);
    expect(above.floor?.flipShare).not.toBeNull();
    expect(above.floor!.flipShare!).toBeLessThanOrEqual(0.075);
    expect(above.caught).toBeGreaterThanOrEqual(0.5);
    expect(above.blind).toBe(false);
    const below = await flippedBatch(3, 0.01);
    expect(below.floor!.flipShare!).toBeGreaterThan(0.01);
    expect(below.caught).toBeLessThan(0.5);
  }, 120_000);

  it('a model near chance: no floor, a blind-spot finding, and 10% of flips indeed pass', async () => {
    const weak = await flippedBatch(1, 0.1);
    expect(weak.floor?.flipShare).toBeNull();
    expect(weak.floor?.rows).toBeNull();
    expect(weak.blind).toBe(true);
    expect(weak.caught).toBeLessThan(0.5);
  }, 120_000);
});

/**
 * Eight clerks share 6,000 two-class rows a weak model (one feature separating the classes by `sep` standard
 * deviations) reads; clerk 5 flips `share` of its rows at random.
 */
async function clerkBatch(sep: number, share: number) {
  const dir = tmpDir();
  const r = rng(31);
  const gauss = gaussian(r);
  const row = () => {
    const y = r() < 0.5 ? 1 : 0;
    return { x: [(y * sep + gauss()).toFixed(3), gauss().toFixed(3)], y };
  };
  const names = ['no', 'yes'];
  writeCsv(
    join(dir, 'trusted.csv'),
    ['x0', 'x1', 'label'],
    Array.from({ length: 600 }, () => {
      const v = row();
      return [...v.x, names[v.y]];
    }),
  );
  const rows: string[][] = [];
  for (let i = 0; i < 6000; i++) {
    const v = row();
    const who = i % 8;
    const y = who === 5 && r() < share ? 1 - v.y : v.y;
    rows.push([...v.x, names[y], `clerk ${who}`]);
  }
  writeCsv(join(dir, 'incoming.csv'), ['x0', 'x1', 'label', 'labeler'], rows);
  const run = await auditDir(dir, { labeler: 'labeler' });
  run.source.close();
  const named = run.report.findings
    .filter((f) => f.rule === 'audit/label-cells')
    .map((f) => f.evidence?.account);
  const blind = run.report.findings.find(
    (f) => f.rule === 'audit/blind-spot' && f.evidence?.detector === 'audit/label-cells',
  );
  return { floor: (run.report.floors as Floors).labelCells, named, blind, report: run.report };
}

describe('the whole-record floor of a labeler who flips at random is what the test does', () => {
  it('a weak model: below the reported floor the clerk passes; above it the clerk is named', async () => {
    const clean = await clerkBatch(0.78, 0);
    const record = clean.floor?.record;
    expect(record?.rows).not.toBeNull();
    expect(record!.accountRows).toBe(750);
    // A third of its rows flipped, where the model contradicts about a third of honest labels itself.
    expect(record!.share!).toBeGreaterThan(0.2);
    expect(record!.share!).toBeLessThan(0.5);
    const below = await clerkBatch(0.78, record!.share! / 2);
    expect(below.named).toEqual([]);
    const above = await clerkBatch(0.78, Math.min(0.9, record!.share! * 1.5));
    expect(above.named).toEqual(['clerk 5']);
  }, 120_000);

  it('a model near chance: the finding says a clerk flipping at random cannot be seen, in the text summary', async () => {
    const { floor, blind, report } = await clerkBatch(0.3, 0);
    expect(floor?.record?.rows).toBeNull();
    expect(blind?.severity).toBe('medium');
    expect(blind?.message).toMatch(
      /one flipping at random over the typical 750 rows it sends cannot be seen however many of them it flips/,
    );
    expect(renderAuditText(report, false)).toMatch(
      /MEDIUM.*Rogue labelers can pass unseen: .*flipping at random/,
    );
  }, 120_000);
});

describe('the floors table in plain words (HTML report)', () => {
  it('says a floor no attack reaches as "not seen at any count", beside the ones it reaches', () => {
    const rows = describeFloors({
      trustedRows: 100,
      incomingRows: 5000,
      labelCells: {
        rows: 5,
        accountRows: 10,
        share: 0.5,
        level: 1e-5,
        record: { rows: null, accountRows: 412, share: null, level: 1e-4 },
      },
      contributors: [{ role: 'labeler', accountRows: 412, suspectRows: 59, disagreeRows: null, level: 1e-3 }],
    });
    const floor = (d: string) => rows.find((x) => x.detector === d)?.floor;
    expect(floor('Labelers per cell')).toBe(
      "5 flips by one account in one cell, for an account's typical 10 rows of one class",
    );
    expect(floor('Labelers over their whole record')).toBe(
      "random flips by one account: not seen at any count, for an account's typical 412 rows",
    );
    expect(floor('Accounts (labeler)')).toBe(
      '59 suspect rows; contradicted labels: not seen at any count (one account of the typical 412 rows)',
    );
  });
});
