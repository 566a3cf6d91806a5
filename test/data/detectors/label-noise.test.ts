/**
 * Batch-level label noise: the pooled excess of rows below each class's clean quartile, on synthetic
 * probabilities (a weak reference model, a small trusted set) and on seeded SMS Spam Collection batches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DISAGREEMENT_DEFAULTS } from '../../../src/data/config.js';
import { classReference, run as disagreement } from '../../../src/data/detectors/disagreement.js';
import { labelExcess, run as labelNoise } from '../../../src/data/detectors/label-noise.js';
import { CASES } from '../../../src/data/generators/cases.js';
import { contextOf } from '../../../src/data/generators/dataset.js';
import { auditDir, testData } from '../../helpers/cli.js';
import { rng, tmpDir, writeCsv } from '../helpers.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** P(label) of rows whose logits are normal around `mu` (a weak model: small mu). */
function probs(r: () => number, n: number, mu: number, sd: number): number[] {
  return Array.from({ length: n }, () => {
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return sigmoid(mu + sd * g);
  });
}

/** A two-class batch read by a weak model (about 70% accurate), `flipped` of its rows with the other label. */
function batch(seed: number, trustedPerClass: number, rows: number, flipped: number) {
  const r = rng(seed);
  const refs = [
    classReference(probs(r, trustedPerClass, 1, 1.5)),
    classReference(probs(r, trustedPerClass, 1, 1.5)),
  ];
  const clean = probs(r, rows - flipped, 1, 1.5);
  // The given label of a flipped row is the one the model reads as the other: P(label) = 1 - P(true label).
  const wrong = probs(r, flipped, -1, 1.5);
  const p = Float64Array.from([...clean, ...wrong]);
  const labels = Int32Array.from(p, (_, i) => i % 2);
  return { p, labels, refs, use: new Uint8Array(p.length).fill(1) };
}

describe('labelExcess', () => {
  it('finds 15% random flips no single row of which stands out, and never overstates them', () => {
    const b = batch(1, 600, 6000, 900);
    const e = labelExcess(b.p, b.labels, b.refs, b.use);
    expect(e.p).toBeLessThan(1e-6);
    expect(e.shareAtLeast).toBeGreaterThan(0.02);
    expect(e.wrongAtLeast).toBeLessThanOrEqual(900);
  });

  it('holds its error rate on clean batches, down to a 100-row trusted set', () => {
    let alarms = 0;
    for (let seed = 10; seed < 50; seed++) {
      const b = batch(seed, 50, 5000, 0);
      if (labelExcess(b.p, b.labels, b.refs, b.use).p <= 0.001) alarms++;
    }
    expect(alarms).toBeLessThanOrEqual(1);
  });

  it('counts only the rows it is told to (rows a trigger explains are left out)', () => {
    const b = batch(2, 600, 6000, 900);
    const none = labelExcess(b.p, b.labels, b.refs, new Uint8Array(b.p.length));
    expect(none.rows).toBe(0);
    expect(none.p).toBe(1);
  });
});

function audit(name: string, seed: number) {
  const c = CASES[name]({ dataDir: testData(), seed });
  const ctx = contextOf(c, 1);
  ctx.settings = { ...DISAGREEMENT_DEFAULTS };
  const d = disagreement(ctx);
  Object.assign(ctx.shared, d.publish);
  return labelNoise(ctx);
}

describe('label-noise detector on SMS spam', () => {
  it('holds a batch with 20% random label noise, quarantining no row itself', () => {
    const out = audit('noise-20', 4);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0].rule).toBe('audit/label-noise');
    expect(out.findings[0].severity).toBe('high');
    expect(out.rows).toHaveLength(0);
  }, 60_000);

  it('raises nothing on a clean batch', () => {
    expect(audit('clean-sms', 4).findings).toHaveLength(0);
  }, 60_000);
});

/** Reviews whose one sentiment word matches the label 80% of the time: a reference of about 80% accuracy. */
function weakRows(n: number, seed: number, flip: number): { rows: string[][]; flipped: number } {
  const r = rng(seed);
  const pos = ['good', 'fine', 'nice', 'warm', 'fresh'];
  const neg = ['bad', 'dull', 'flat', 'weak', 'bland'];
  const filler = ['the', 'film', 'story', 'cast', 'a', 'and', 'of', 'plot', 'scenes', 'it', 'is', 'with'];
  const rows: string[][] = [];
  let flipped = 0;
  for (let i = 0; i < n; i++) {
    const y = r() < 0.5 ? 1 : 0;
    const words = Array.from({ length: 8 }, () => filler[Math.floor(r() * filler.length)]);
    const agrees = r() < 0.8;
    words.splice(Math.floor(r() * 8), 0, ((y === 1) === agrees ? pos : neg)[Math.floor(r() * 5)]);
    let label = y;
    if (r() < flip) {
      label = 1 - y;
      flipped++;
    }
    rows.push([`r${seed}-${i}`, words.join(' '), label ? 'pos' : 'neg']);
  }
  return { rows, flipped };
}

/** The trusted reviews and `incoming` written to a fresh folder and audited by the CLI. */
function auditReviews(incoming: string[][]) {
  const dir = tmpDir();
  writeCsv(join(dir, 'trusted.csv'), ['id', 'text', 'label'], weakRows(1500, 1, 0).rows);
  writeCsv(join(dir, 'incoming.csv'), ['id', 'text', 'label'], incoming);
  return auditDir(dir, { label: 'label', id: 'id', text: 'text' });
}

describe('antidote audit on a batch with thin random label noise', () => {
  it('exits 1 with nothing quarantined, and every output says the batch as a whole is held', () => {
    const noisy = weakRows(5000, 2, 0.2);
    const res = auditReviews(noisy.rows);
    expect(noisy.flipped).toBeGreaterThan(900);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/0 quarantined/);
    expect(res.stdout).toMatch(
      /HIGH .*look wrong, too thinly spread for each to be singled out.*\[audit\/label-noise\]/,
    );
    const report = JSON.parse(readFileSync(join(res.out, 'report.json'), 'utf8'));
    expect(report.summary.verdict).toBe('block');
    expect(readFileSync(join(res.out, 'report.html'), 'utf8')).toContain(
      'the batch is held by a finding about it as a whole',
    );
  }, 120_000);

  it('passes the same kind of batch without noise', () => {
    const res = auditReviews(weakRows(5000, 3, 0).rows);
    expect(res.code).toBe(0);
    expect(res.stdout).not.toMatch(/audit\/label-noise/);
  }, 120_000);
});

/**
 * Passengers as a table of copies: sex, class and age in years (a fifth missing), survival drawn with a
 * chance set by sex and class, the same for the trusted rows and the batch; accounts at random.
 */
function passengers(n: number, seed: number, prefix: string): string[][] {
  const r = rng(seed);
  const chance: Record<string, number> = {
    'male 1st': 0.35,
    'male 2nd': 0.15,
    'male 3rd': 0.08,
    'female 1st': 0.97,
    'female 2nd': 0.9,
    'female 3rd': 0.5,
  };
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const sex = r() < 2 / 3 ? 'male' : 'female';
    const cls = ['1st', '2nd', '3rd', '3rd'][Math.floor(4 * r())];
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const age = r() < 0.2 ? '' : String(Math.floor(Math.max(0, 30 + 13 * g)));
    const survived = r() < chance[`${sex} ${cls}`] ? 'yes' : 'no';
    rows.push([`${prefix}${i}`, sex, age, cls, survived, `user-${1 + Math.floor(40 * r())}`]);
  }
  return rows;
}

describe('antidote audit on a clean table of copies whose label varies by row', () => {
  it.each([
    1, 2, 3,
  ])('raises no label-noise finding though the batch shows both labels of far more rows (seed %i)', (seed) => {
    // Counting each distinct (row, label) once, a 10,000-row batch holds both labels of most rows and a
    // 300-row trusted set one of each: a clean batch read as label noise.
    const dir = tmpDir();
    const header = ['id', 'sex', 'age', 'passengerClass', 'survived', 'source'];
    writeCsv(join(dir, 'trusted.csv'), header, passengers(300, seed, 't'));
    writeCsv(join(dir, 'incoming.csv'), header, passengers(10_000, seed + 100, 'i'));
    const res = auditDir(dir, { label: 'survived', id: 'id' }, ['--source', 'source']);
    expect(res.stdout).not.toMatch(/audit\/label-noise/);
  }, 120_000);
});
