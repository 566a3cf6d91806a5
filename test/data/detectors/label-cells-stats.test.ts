/**
 * A cell's test reads the peers' rate as what it is, a rate counted on a finite number of peer rows; and the
 * posterior that a flagged account's contradicted row was flipped is read off the rows (how many of the
 * account's rows sit at or below its label probability, against how many its honest rows would put there,
 * spread as its peers' are), not off the model's calibration: a 26-class model with diffuse probabilities gives a
 * random flip P(label) of 0.01 to 0.1, which a calibrated likelihood ratio read as honest.
 */
import { describe, expect, it } from 'vitest';
import { classReference } from '../../../src/data/detectors/disagreement.js';
import { cellP, flipPosteriors, overdispersion } from '../../../src/data/detectors/label-cells.js';
import { rng } from '../helpers.js';

describe('flipPosteriors', () => {
  const P = (logs: number[]) => logs.map((l) => 10 ** l);

  it('separates flips whose label probabilities sit a decade below honest mistakes, whatever the calibration', () => {
    const r = rng(5);
    const peers = classReference(P(Array.from({ length: 600 }, () => -1.5 + r())));
    const honest = Array.from({ length: 120 }, () => -1.5 + r()); // like the peers' mistakes
    const flips = Array.from({ length: 100 }, () => -2.6 + r()); // P(label) 0.0025 to 0.025
    const p = P([...honest, ...flips]);
    const post = flipPosteriors(p, peers, 120);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(post.slice(120))).toBeGreaterThan(0.8);
    expect(mean(post.slice(0, 120))).toBeLessThan(0.2);
    // Never more suspect for a more probable label.
    const order = p.map((_, k) => k).sort((a, b) => p[a] - p[b]);
    for (let k = 1; k < order.length; k++)
      expect(post[order[k]]).toBeLessThanOrEqual(post[order[k - 1]] + 1e-12);
  });

  it('raises nothing where the account holds no more rows than its honest ones explain', () => {
    const r = rng(6);
    const peers = classReference(P(Array.from({ length: 600 }, () => -2 + 2 * r())));
    const post = flipPosteriors(P(Array.from({ length: 150 }, () => -2 + 2 * r())), peers, 150);
    expect(post.filter((p) => p >= 0.5).length).toBe(0);
  });

  it("does not read a small account's handful of mistakes as a pile of flips", () => {
    // Six contradicted rows where its honest rows explain three: some are flips, none is known to be one.
    const r = rng(7);
    const peers = classReference(P(Array.from({ length: 400 }, () => -2 + 2 * r())));
    const post = flipPosteriors(P([-2.4, -2.1, -1.5, -1.2, -0.8, -0.3]), peers, 3);
    expect(post.filter((p) => p >= 0.5).length).toBe(0);
  });
});

describe('cellP', () => {
  it("counts the peer rate's own sampling error: four rows of 26 in a cell where peers hold one of 230", () => {
    // Read as exact, 0.65% makes four of 26 a 2e-5 event; counted on 230 rows it is about nine times likelier.
    const exact = cellP(4, 26, 0.0065, 0);
    const counted = cellP(4, 26, 0.0065, 0, 230);
    expect(exact).toBeLessThan(5e-5);
    expect(counted).toBeGreaterThan(5 * exact);
    // A labeler who puts 12 of 30 there is still far beyond it.
    expect(cellP(12, 30, 0.0065, 0, 230)).toBeLessThan(1e-9);
  });

  it('is the binomial when the peers are many and do not spread', () => {
    const a = cellP(30, 200, 0.08, 0, 1e9);
    const b = cellP(30, 200, 0.08, 0);
    expect(Math.abs(Math.log(a / b))).toBeLessThan(0.05);
  });
});

describe('overdispersion', () => {
  /** Rates of `k` accounts of about `n` rows each, every row contradicted with probability rateOf(account). */
  const accounts = (r: () => number, k: number, n: number, rateOf: (a: number) => number) => {
    const rates: number[] = [];
    const ns: number[] = [];
    for (let a = 0; a < k; a++) {
      const rows = n + Math.floor(40 * r());
      let x = 0;
      for (let i = 0; i < rows; i++) if (r() < rateOf(a)) x++;
      rates.push(x / rows);
      ns.push(rows);
    }
    return { rates, ns };
  };

  it('gives honest accounts that differ by sampling alone no spread, so a rogue is judged on its rows', () => {
    // Eleven honest labelers of ~400 rows contradicted at 27%; a rogue who flips 30% of its 380 rows at random
    // is contradicted on 42% of them. Its test must not lose its rows to a spread that is sampling noise.
    let found = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { rates, ns } = accounts(rng(seed), 11, 380, () => 0.27);
      const rho = overdispersion(rates, ns, 0.27);
      if (cellP(160, 380, 0.27, rho, 4400) < 1e-6) found++;
    }
    expect(found).toBeGreaterThanOrEqual(19);
  });

  it('measures a real spread between accounts', () => {
    // Accounts' own rates spread evenly over 0.15..0.39: rho = var / (r (1 - r)) = 0.0048 / 0.1989 = 0.024.
    const est: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const { rates, ns } = accounts(rng(100 + seed), 25, 400, (a) => 0.15 + (0.24 * a) / 24);
      est.push(overdispersion(rates, ns, 0.27));
    }
    const mean = est.reduce((a, b) => a + b, 0) / est.length;
    expect(mean).toBeGreaterThan(0.012);
    expect(mean).toBeLessThan(0.048);
  });

  it('is not widened by an account that stands out from the rest', () => {
    const { rates, ns } = accounts(rng(7), 12, 400, () => 0.27);
    const base = overdispersion(rates, ns, 0.27);
    expect(overdispersion([...rates, 0.6], [...ns, 400], 0.27)).toBe(base);
  });
});
