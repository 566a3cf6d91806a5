/**
 * Issue 10, class 2: labelers who flip in one direction or one class pair, found by the whole audit (every
 * registered detector) on generated batches: before the per-cell test, rates over all of a labeler's rows
 * diluted them and nothing was found.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { generateCell } from '../../../src/data/generators/matrix-attacks.js';
import { loadMatrixDataset } from '../../../src/data/generators/matrix-datasets.js';
import { testData } from '../../helpers/cli.js';
import { gaussian, review, rng, tmpDir, writeCsv, writeReviews } from '../helpers.js';
import { auditMatrixCell } from './audit-csv.js';

async function audit(dir: string, extra: { text?: string; labeler: string; label?: string }) {
  const run = await runAudit({
    trusted: join(dir, 'trusted.csv'),
    incoming: join(dir, 'incoming.csv'),
    label: 'label',
    ...extra,
    threads: 1,
  });
  try {
    const q = new Set<number>();
    for (let i = 0; i < run.incoming.dataset.n; i++) if (run.quarantined[i]) q.add(i);
    return { q, report: run.report };
  } finally {
    run.source.close();
  }
}

/**
 * A numeric batch whose rows come from `row` (features and a class index); labeler `i % labelers` sends row i,
 * and `flip` may relabel it (returning the new class, or undefined). Returns the flipped rows.
 */
function writeLabelerBatch(
  dir: string,
  o: {
    header: string[];
    classes: string[];
    trusted: number;
    incoming: number;
    labelers: number;
    name: (who: number) => string;
    row: () => { x: string[]; c: number };
    flip: (who: number, c: number) => number | undefined;
  },
): Set<number> {
  writeCsv(
    join(dir, 'trusted.csv'),
    o.header,
    Array.from({ length: o.trusted }, () => {
      const v = o.row();
      return [...v.x, o.classes[v.c]];
    }),
  );
  const truth = new Set<number>();
  const rows: string[][] = [];
  for (let i = 0; i < o.incoming; i++) {
    const v = o.row();
    const who = i % o.labelers;
    const to = o.flip(who, v.c);
    if (to !== undefined) truth.add(i);
    rows.push([...v.x, o.classes[to ?? v.c], o.name(who)]);
  }
  writeCsv(join(dir, 'incoming.csv'), [...o.header, 'labeler'], rows);
  return truth;
}

function precisionRecall(q: Set<number>, truth: Set<number>) {
  let tp = 0;
  for (const i of q) if (truth.has(i)) tp++;
  return { precision: q.size ? tp / q.size : 0, recall: truth.size ? tp / truth.size : 0 };
}

describe('labelers judged per cell (predicted class -> given label)', () => {
  it('finds two of twelve labelers who relabel half their positive reviews negative (one direction)', async () => {
    const dir = tmpDir();
    const r = rng(21);
    const row = () => review(r);
    writeReviews(join(dir, 'trusted.csv'), r, 400);
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 4800; i++) {
      const x = row();
      const who = i % 12;
      let y = x.y;
      if ((who === 3 || who === 8) && y === 1 && r() < 0.5) {
        y = 0;
        truth.add(i);
      }
      rows.push([x.text, y ? 'pos' : 'neg', `labeler-${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), ['text', 'label', 'labeler'], rows);
    const { q, report } = await audit(dir, { text: 'text', labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = report.findings
      .filter((f) => f.rule === 'audit/label-cells')
      .map((f) => f.evidence?.account);
    expect(named.sort()).toEqual(['labeler-3', 'labeler-8']);
  }, 120_000);

  it('finds two of fifteen labelers who swap two classes of a six-class table', async () => {
    const dir = tmpDir();
    const r = rng(22);
    const gauss = gaussian(r);
    const classes = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const row = () => {
      const c = Math.floor(r() * 6);
      const x = [0, 1, 2, 3].map((d) =>
        (((c >> d) & 1) * 2.5 + (d === 3 ? c * 0.8 : 0) + gauss()).toFixed(3),
      );
      return { x, c };
    };
    const header = ['x0', 'x1', 'x2', 'x3', 'label'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 900 }, () => {
        const v = row();
        return [...v.x, classes[v.c]];
      }),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 5600; i++) {
      const v = row();
      const who = i % 15;
      let c = v.c;
      if ((who === 5 || who === 11) && (c === 2 || c === 3) && r() < 0.6) {
        c = c === 2 ? 3 : 2;
        truth.add(i);
      }
      rows.push([...v.x, classes[c], `analyst ${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
    const t0 = Date.now();
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = new Set(
      report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
    );
    expect([...named].sort()).toEqual(['analyst 11', 'analyst 5']);
    expect(report.classes.sort()).toEqual([...classes].sort());
    expect((Date.now() - t0) / 1000).toBeLessThan(60);
  }, 120_000);

  it('finds two of twelve labelers who flip labels at random across eight classes (many thin cells)', async () => {
    const dir = tmpDir();
    const r = rng(23);
    const gauss = gaussian(r);
    const K = 8;
    const classes = Array.from({ length: K }, (_, c) => `class ${c}`);
    const row = () => {
      const c = Math.floor(r() * K);
      const x = [0, 1, 2].map((d) => (((c >> d) & 1) * 4 + gauss()).toFixed(3));
      return { x, c };
    };
    const header = ['x0', 'x1', 'x2', 'label'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 800 }, () => {
        const v = row();
        return [...v.x, classes[v.c]];
      }),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 6000; i++) {
      const v = row();
      const who = i % 12;
      let c = v.c;
      // A rogue relabels 30% of its rows to any other class: about 4 rows per cell, each cell too thin alone.
      if ((who === 2 || who === 7) && r() < 0.3) {
        c = (c + 1 + Math.floor(r() * (K - 1))) % K;
        truth.add(i);
      }
      rows.push([...v.x, classes[c], `labeler ${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.7);
    const named = new Set(
      report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
    );
    expect([...named].sort()).toEqual(['labeler 2', 'labeler 7']);
  }, 120_000);
  it('finds three of eight labelers who flip at random across 26 classes, a weak model contradicting 30% of honest labels', async () => {
    // With three rogues of eight among the peers, the peers' contradicted rate and the accounts' spread were read
    // with the rogues in them (39% where honest labelers sit at 30%, a spread as wide as the rogues make it), and
    // no whole record stood out (p 0.015 here, 0.007 to 0.009 on frozen8 letter-recognition; 7% recall).
    const dir = tmpDir();
    const r = rng(24);
    const gauss = gaussian(r);
    const K = 26;
    const truth = writeLabelerBatch(dir, {
      header: ['x0', 'x1', 'x2', 'x3', 'x4', 'lettr'],
      classes: Array.from({ length: K }, (_, c) => String.fromCharCode(65 + c)),
      trusted: 1000,
      incoming: 6000,
      labelers: 8,
      name: (who) => `labeler-0${who}`,
      row: () => {
        const c = Math.floor(r() * K);
        return { x: [0, 1, 2, 3, 4].map((d) => (((c >> d) & 1) * 3 + gauss()).toFixed(3)), c };
      },
      flip: (who, c) =>
        (who === 1 || who === 4 || who === 6) && r() < 0.3
          ? (c + 1 + Math.floor(r() * (K - 1))) % K
          : undefined,
    });
    const { q, report } = await audit(dir, { label: 'lettr', labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.7);
    expect(pr.precision).toBeGreaterThanOrEqual(0.8);
    const named = new Set(
      report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
    );
    expect([...named].sort()).toEqual(['labeler-01', 'labeler-04', 'labeler-06']);
  }, 120_000);

  it('names a labeler flipping a quarter of its rows at random where a weak two-class model contradicts a third of honest labels', async () => {
    // Each flip adds 1 - 2r to the contradicted rate where the model misreads a share r: at r = 0.35, 25% flips
    // add 0.075, under the tenth of its rows the whole-record test asked for; it asks for a tenth flipped now.
    // Which of its rows were flipped a model this weak cannot tell: the labeler is named, its rows left to review.
    const dir = tmpDir();
    const r = rng(25);
    const gauss = gaussian(r);
    writeLabelerBatch(dir, {
      header: ['x0', 'x1', 'vote'],
      classes: ['no', 'yes'],
      trusted: 600,
      incoming: 6000,
      labelers: 8,
      name: (who) => `clerk ${who}`,
      row: () => {
        const c = r() < 0.5 ? 1 : 0;
        return { x: [c * 0.78 + gauss(), gauss()].map((v) => v.toFixed(3)), c };
      },
      flip: (who, c) => (who === 5 && r() < 0.25 ? 1 - c : undefined),
    });
    const { q, report } = await audit(dir, { label: 'vote', labeler: 'labeler' });
    const found = report.findings.filter((f) => f.rule === 'audit/label-cells');
    expect(found.map((f) => f.evidence?.account)).toEqual(['clerk 5']);
    expect(found[0].severity).toBe('high');
    expect(found[0].message).toMatch(/re-label its rows independently/);
    // Honest clerks' rows are not what it raises: of the rows it quarantines, none is theirs.
    for (const i of q) expect(i % 8).toBe(5);
  }, 120_000);
});

describe('rogue labelers among honest ones that differ by sampling alone (a weak two-class model)', () => {
  // A model that contradicts a quarter of honest labels; honest labelers' contradicted rates differ by sampling
  // alone. The accounts' spread was read from their median deviation, noise that size for a dozen labelers,
  // and through its design effect it cut the rows each rogue was judged on by two thirds or more.
  /** A two-class batch of `labelers` labelers, 300 trusted rows; rogues relabel a `share` of their rows. */
  async function rogueBatch(
    seed: number,
    o: { incoming: number; labelers: number; rogues: number[]; share: number },
  ) {
    const dir = tmpDir();
    const r = rng(seed);
    const gauss = gaussian(r);
    const truth = writeLabelerBatch(dir, {
      header: ['x0', 'x1', 'label'],
      classes: ['neg', 'pos'],
      trusted: 300,
      incoming: o.incoming,
      labelers: o.labelers,
      name: (who) => `labeler-${String(who).padStart(2, '0')}`,
      row: () => {
        const c = r() < 0.5 ? 1 : 0;
        return { x: [c * 1.3 + gauss(), gauss()].map((v) => v.toFixed(3)), c };
      },
      flip: (who, c) => (o.rogues.includes(who) && r() < o.share ? 1 - c : undefined),
    });
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const named = report.findings
      .filter((f) => f.rule === 'audit/label-cells')
      .map((f) => f.evidence?.account);
    return { q, truth, named: [...named].sort() };
  }

  it('names four of fifteen labelers who relabel 30% of their rows at random', async () => {
    const { named } = await rogueBatch(41, {
      incoming: 6000,
      labelers: 15,
      rogues: [2, 5, 9, 12],
      share: 0.3,
    });
    expect(named).toEqual(['labeler-02', 'labeler-05', 'labeler-09', 'labeler-12']);
  }, 120_000);

  it('quarantines most of the swapped rows of two of twenty-five labelers, reading each row of their cells', async () => {
    // Each swaps half its rows between the classes: in its cells it holds about twice its peers' rate, so the
    // cell's share beyond its peers' is about a half for every row; a row's label probability against how its
    // peers' rows of the cell read says which are the flips.
    const { q, truth, named } = await rogueBatch(42, {
      incoming: 7500,
      labelers: 25,
      rogues: [7, 19],
      share: 0.5,
    });
    expect(named).toEqual(['labeler-07', 'labeler-19']);
    const { precision, recall } = precisionRecall(q, truth);
    expect(precision).toBeGreaterThanOrEqual(0.75);
    expect(recall).toBeGreaterThanOrEqual(0.5);
  }, 120_000);
});

describe('a campaign spread over accounts (each account read by a model none of the campaign trained)', () => {
  it('quarantines the relabelled rows of four new accounts whose shared trigger taught the cross-fitted reference', async () => {
    // Six classes of numeric rows and 90 trusted rows: the trusted model alone is weak, so labels are read by
    // the model of the trusted rows and the batch, folded by account. Four new accounts relabel 75% of their
    // rows to alpha and shift six unrelated columns by one standard deviation (a blended trigger no conjunction
    // of two values isolates). Folded by account, each campaign account's rows were read by a model the other
    // three had taught that the shift means alpha: recall 0.74 to 0.77 on seeds 31 to 33.
    const dir = tmpDir();
    const r = rng(32);
    const gauss = gaussian(r);
    const classes = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const D = 8;
    const content = (c: number) =>
      Array.from({ length: D }, (_, d) => ((d === c || d === (c + 3) % D ? 2 : 0) + gauss()).toFixed(2));
    const pads = (shift: number) => Array.from({ length: 6 }, () => (shift + gauss()).toFixed(2));
    const header = [
      ...Array.from({ length: D }, (_, d) => `x${d}`),
      ...Array.from({ length: 6 }, (_, d) => `pad${d}`),
      'label',
      'source',
    ];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 90 }, (_, i) => [...content(i % 6), ...pads(0), classes[i % 6], `acct-${i % 20}`]),
    );
    const rows: string[][] = [];
    for (let i = 0; i < 6000; i++) {
      const c = Math.floor(r() * 6);
      rows.push([...content(c), ...pads(0), classes[c], `acct-${i % 20}`]);
    }
    const truth = new Set<number>();
    const campaign = ['new-1', 'new-2', 'new-3', 'new-4'];
    for (const a of campaign)
      for (let k = 0; k < 100; k++) {
        const c = Math.floor(r() * 6);
        if (k < 75 && c !== 0) {
          truth.add(rows.length);
          rows.push([...content(c), ...pads(1), 'alpha', a]);
        } else rows.push([...content(c), ...pads(0), classes[c], a]);
      }
    writeCsv(join(dir, 'incoming.csv'), header, rows);
    const run = await runAudit({
      trusted: join(dir, 'trusted.csv'),
      incoming: join(dir, 'incoming.csv'),
      label: 'label',
      source: 'source',
      threads: 1,
    });
    try {
      const q = new Set<number>();
      for (let i = 0; i < run.incoming.dataset.n; i++) if (run.quarantined[i]) q.add(i);
      const pr = precisionRecall(q, truth);
      expect(pr.recall).toBeGreaterThanOrEqual(0.9);
      expect(pr.precision).toBeGreaterThanOrEqual(0.85);
      const named = new Set(
        run.report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
      );
      for (const a of campaign) expect(named).toContain(a);
      expect(run.report.floors?.disagreement?.reference).toBe('cross-fit');
    } finally {
      run.source.close();
    }
  }, 120_000);
});

describe('two rogues flipping alike are not each other’s peers', () => {
  it('names both rain -> drizzle labelers of twelve on Seattle weather with 100 trusted rows', async () => {
    // The matrix's labeler-flip cell (one-direction, 2 rogues of 12, seed 1) on the committed NOAA table: 11
    // flipped rows per rogue in a 5-class table whose trusted model confuses drizzle and fog. Read again by
    // models neither rogue trained, each rogue's flipped rows raised the other's peer rate in the cell (5 of
    // 14 against 3.6%) and neither was found; peers are now the accounts not under suspicion.
    const base = loadMatrixDataset('seattle-weather', {
      shared: testData(),
      sklearn: testData(),
      vega: join(testData(), 'seattle-weather'),
    });
    const c = generateCell(
      base,
      'labeler-flip',
      { mode: 'one-direction', rogue: 2, labelers: 12, trusted: 100 },
      1,
    );
    const run = await auditMatrixCell(c, { labeler: c.truth.roles.labeler });
    try {
      const truth = new Set(c.truth.poisoned);
      const ids = c.incoming.map((r) => String(r[c.truth.roles.id!]));
      const q = new Set<number>();
      for (let i = 0; i < run.incoming.dataset.n; i++) if (run.quarantined[i]) q.add(i);
      const poisoned = new Set(ids.flatMap((id, i) => (truth.has(id) ? [i] : [])));
      expect(poisoned.size).toBe(22);
      const pr = precisionRecall(q, poisoned);
      expect(pr.recall).toBeGreaterThanOrEqual(0.8);
      expect(pr.precision).toBeGreaterThanOrEqual(0.7);
      const named = new Set(
        run.report.findings.filter((f) => f.rule === 'audit/label-cells').map((f) => f.evidence?.account),
      );
      expect([...named].sort()).toEqual(
        [...(c.truth.details as { rogueLabelers: string[] }).rogueLabelers].sort(),
      );
    } finally {
      run.source.close();
    }
  }, 120_000);
});

describe('a labeler who flips at random, too thinly for any cell', () => {
  it('finds one of eight labelers relabelling 30% of its rows at random among ten classes', async () => {
    // 1,500 rows of ten well-separated classes (the reference reads 90%+ of honest labels right), one labeler of
    // eight relabels 30% of its ~190 rows to any other class: about 55 flips over 90 cells, under one a cell.
    // Before every account's whole record was tested, nothing was found (the digits table of the matrix: P/R 0).
    const dir = tmpDir();
    const r = rng(41);
    const gauss = gaussian(r);
    const K = 10;
    const D = 10;
    const classes = Array.from({ length: K }, (_, c) => `digit ${c}`);
    const content = (c: number) =>
      Array.from({ length: D }, (_, d) => ((d === c ? 3 : d === (c + 1) % D ? 1.5 : 0) + gauss()).toFixed(2));
    const header = [...Array.from({ length: D }, (_, d) => `x${d}`), 'label'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      Array.from({ length: 300 }, (_, i) => [...content(i % K), classes[i % K]]),
    );
    const truth = new Set<number>();
    const rows: string[][] = [];
    for (let i = 0; i < 1500; i++) {
      const c = Math.floor(r() * K);
      const who = i % 8;
      let y = c;
      if (who === 5 && r() < 0.3) {
        y = (c + 1 + Math.floor(r() * (K - 1))) % K;
        truth.add(i);
      }
      rows.push([...content(c), classes[y], `labeler ${who}`]);
    }
    writeCsv(join(dir, 'incoming.csv'), [...header, 'labeler'], rows);
    const { q, report } = await audit(dir, { labeler: 'labeler' });
    const pr = precisionRecall(q, truth);
    expect(pr.recall).toBeGreaterThanOrEqual(0.8);
    expect(pr.precision).toBeGreaterThanOrEqual(0.9);
    const named = report.findings
      .filter((f) => f.rule === 'audit/label-cells')
      .map((f) => f.evidence?.account);
    expect(named).toEqual(['labeler 5']);
  }, 120_000);
});
