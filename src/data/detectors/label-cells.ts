/**
 * Detector: accounts and labelers judged per cell. A rogue labeler who flips in one direction (A to B), or
 * swaps one class pair among fifteen, changes few of its rows overall: its rate of contradicted labels over
 * all its rows is diluted, and a test over all rows misses it. In the cell "the trusted model reads the row as
 * A, the account says B" it stands out by orders of magnitude against its peers' rate in the same cell.
 *
 * For each account (source and labeler roles) and each cell (reference model's predicted class p -> given label
 * y, p != y; the reference is the one disagreement chose: the trusted model, or the model of the trusted rows and
 * the batch cross-fitted by account, learn/reference.ts, so an account's rows are read by a model that never
 * saw them), the account's count is tested against its peers' pooled rate in that cell (peers = every other
 * account; rows the model reads as p form the denominator). Accounts differ naturally (some labelers are
 * noisier), and the peers' rate is itself read from a finite number of rows, so the test allows for both: the
 * spread of the accounts' rates beyond sampling error (through its design effect) and the peer rate's own
 * sampling error (a beta-binomial counted on the peer rows; cellP). Accounts absent from the trusted set are
 * also pooled into one cohort (a campaign spread over fresh accounts). The label mix (share of each label) is
 * tested the same way. So is each account's whole record, every cell at once (its contradicted rows against
 * what its peers' rates predict for its rows): a labeler who flips at random spreads its flips over every
 * cell, too thinly for any one.
 * Cells and label mixes go through Benjamini-Hochberg at `fdr` as one family; whole records, one per account, as
 * another.
 *
 * The cross-fitted reference keeps an account from vouching for its own labels, not a campaign of several
 * accounts: each is read by a model the others taught. So once accounts are found (their rows fewer than half
 * the batch), their rows are read again by their fold's model refitted without any of them, they leave
 * everyone's peers, and every test is made again; its findings and rows are the ones reported.
 *
 * A flagged (account, cell) raises that account's rows in the cell, however weakly the model disagrees: each
 * scores at least the share of the account's cell that its peers' rate does not explain (1 - peer rate /
 * account rate, the rate read at its lower confidence bound), so a labeler who flips half its A rows to B
 * against peers at 4% scores about 0.9; and a row scores its own posterior of a flip where that is higher (its
 * label probability against how the peers' rows of the cell read, flipPosteriors): against peers at 25%, the
 * share is about a half for every row, while the flips are the rows the model reads most surely as A.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { wilson } from '../stats/confidence.js';
import { monotoneLocalFdr } from '../stats/local-fdr.js';
import { median, weightedMedian } from '../stats/robust.js';
import { betaBinomialUpperTail } from '../stats/shift.js';
import { benjaminiHochberg, binomialUpperTail } from '../stats/tests.js';
import { timeText } from '../time-text.js';
import {
  type ClassReference,
  classReference,
  MIN_REFERENCE_ROWS,
  referenceOf,
  referenceTail,
} from './disagreement.js';
import { DRIFT_DEFAULTS, makeWindows } from './drift.js';
import { oneClassOf, unseenClassReason } from './lib/classes.js';
import { settingsFor } from './lib/settings.js';
import type { AuditContext, Categorical, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/label-cells',
  title: 'Labelers and accounts who flip one direction, one class pair, or at random',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'A labeler who flips labels in one direction, or swaps two classes, hides in its overall error rate; in ' +
    'the one cell where it flips (the trusted model reads A, the labeler writes B) its rate is many times its ' +
    'peers’ in the same cell. One who flips at random shows in its contradicted labels over every cell at ' +
    'once. Tested per account and cell against the peers, with false-discovery-rate control.',
};

export const LABEL_CELLS_DEFAULTS = {
  /** Benjamini-Hochberg false discovery rate over every (account, cell) tested. */
  fdr: 0.001,
  /** Once an account is flagged in one cell, its other cells are tested among themselves at this rate. */
  accountFdr: 0.1,
  /** An account's cell must hold at least this many rows to be tested. */
  minCellRows: 4,
  /** The account's rate in the cell must be at least this multiple of its peers'. */
  minRatio: 2,
  /** Highest score of a row in a flagged cell. */
  rowScore: 0.95,
  /** Flagged (account, cell) pairs listed in findings. */
  maxReported: 25,
};
type Settings = typeof LABEL_CELLS_DEFAULTS;

/**
 * What a lone flagged (account, cell) must beat: Benjamini-Hochberg's level for one discovery among `tests`
 * (the tests made, plus the one an attacker would add), for an account of the median size in one predicted
 * class against the median peer rate of a cell, widened by the median spread across accounts.
 */
export interface LabelCellsPower {
  tests: number;
  fdr: number;
  minCellRows: number;
  minRatio: number;
  accountRows: number;
  peerRate: number;
  rho: number;
  /** Peers' rows behind a typical cell's rate (median). */
  peerRows: number;
  /** The whole-record test (every cell at once), for an account of the median size; absent when none was made. */
  record?: {
    tests: number;
    accountRows: number;
    /** Honest accounts' contradicted rate over all their rows. */
    rate: number;
    rho: number;
    peerRows: number;
    classes: number;
  };
}
export const POWER_KEY = 'power/label-cells';
type Role = 'source' | 'labeler';
const LABEL_MIX = -1;
const EVERY_CELL = -2;

interface CellTest {
  role: Role;
  account: string;
  /** Account codes the test covers (one, or the new-account cohort). */
  codes: number[];
  /** Predicted class, LABEL_MIX for the label mix, EVERY_CELL for the account's contradicted rows in all cells. */
  pred: number;
  label: number;
  x: number;
  n: number;
  peerRate: number;
  p: number;
  /** A cell's spread across accounts and its peers' rows (cellP's other arguments). */
  rho?: number;
  peerRows?: number;
  flagged?: boolean;
  /** Flagged by the first test of every account at `fdr` (not by an account's own cells at `accountFdr`). */
  primary?: boolean;
  purity?: number;
}

/**
 * Intra-account correlation of a cell: the spread of the accounts' rates beyond what sampling explains, as a
 * share of r(1 - r); 0 when the accounts agree. The method of moments on Cochran's Q (DerSimonian and Laird):
 * (Q - df) / (sum n - sum n^2 / sum n), over the accounts that do not stand out from `r` themselves (a rogue
 * who does must not widen the test it is judged by). Q is read from every account at once, so a dozen
 * honest labelers whose rates differ by sampling alone give 0, where a spread read from their median
 * deviation was noise of that size, and multiplied by an account's rows it halved the rows a rogue is judged on.
 */
export function overdispersion(rates: number[], ns: number[], r: number): number {
  if (rates.length < 4 || r <= 0 || r >= 1) return 0;
  let s1 = 0;
  let s2 = 0;
  let sx = 0;
  const keep: number[] = [];
  for (let i = 0; i < rates.length; i++) {
    if (standsOut(Math.round(rates[i] * ns[i]), ns[i], r)) continue;
    keep.push(i);
    s1 += ns[i];
    s2 += ns[i] * ns[i];
    sx += rates[i] * ns[i];
  }
  if (keep.length < 4 || s1 <= 0) return 0;
  const mean = sx / s1;
  const v = Math.max(1e-9, mean * (1 - mean));
  let q = 0;
  for (const i of keep) q += (ns[i] * (rates[i] - mean) ** 2) / v;
  const rho = (q - (keep.length - 1)) / Math.max(1e-9, s1 - s2 / s1);
  return Math.min(0.5, Math.max(0, rho));
}

/**
 * Does an account's x of n rows stand out from a rate p on its own (binomial tail below 0.001)? Such an account
 * is left out of the peers it and the others are judged against, per cell (inlierRate) and over whole records.
 */
const standsOut = (x: number, n: number, p: number) => p > 0 && p < 1 && binomialUpperTail(x, n, p) < 0.001;

/**
 * Pooled rate of the accounts, leaving out those that stand out from the pool themselves (standsOut): a rogue
 * does not raise the rate it is judged against, and a rare cell keeps the rate its ordinary accounts show
 * (setting aside the highest-rate accounts by share would set aside every row of a rare cell).
 */
export function inlierRate(rates: number[], ns: number[]): number {
  let x = 0;
  let n = 0;
  for (let i = 0; i < rates.length; i++) {
    x += rates[i] * ns[i];
    n += ns[i];
  }
  if (n === 0) return 0;
  const p0 = x / n;
  let xi = 0;
  let ni = 0;
  for (let i = 0; i < rates.length; i++) {
    const k = Math.round(rates[i] * ns[i]);
    if (standsOut(k, ns[i], p0)) continue;
    xi += k;
    ni += ns[i];
  }
  return ni > 0 ? xi / ni : p0;
}

/**
 * One-sided p-value of an account's x of n rows in a cell whose peers' rate r varies across accounts by
 * intra-account correlation rho and is known only from `peerRows` rows. The accounts' spread enters through its
 * design effect (the binomial on n / (1 + (n - 1) rho) rows); the peer rate's own sampling error through a
 * beta-binomial whose rate is counted on peerRows rows. A rare cell's rate read from a few hundred peer rows
 * holding one or none is uncertain by about its own size, and an account that holds four such rows of 26 is
 * what that uncertainty allows (a binomial at the pseudo-count rate put it at 2e-5).
 */
export function cellP(
  x: number,
  n: number,
  r: number,
  rho: number,
  peerRows = Number.POSITIVE_INFINITY,
): number {
  const f = 1 / (1 + (n - 1) * rho);
  const xe = Math.round(x * f);
  const ne = Math.max(1, Math.round(n * f));
  if (!Number.isFinite(peerRows)) return binomialUpperTail(xe, ne, r);
  const m = peerRows + 1;
  return betaBinomialUpperTail(xe, ne, r * m, (1 - r) * m);
}

function argmaxRow(proba: Float32Array, i: number, K: number): number {
  let best = 0;
  for (let c = 1; c < K; c++) if (proba[i * K + c] > proba[i * K + best]) best = c;
  return best;
}

/**
 * What a typical account's test looks like (blind-spot.ts reads it to compute the floor): rows an account
 * sends that the model reads as one class, the peers' rate of one off-diagonal cell, the accounts' spread.
 */
export interface CellProfile {
  accountRows: number[];
  cellRates: number[];
  rhos: number[];
  /** Peers' rows behind each cell's rate. */
  peerRows: number[];
  /** Whole records: each tested account's rows, and per role the honest rate, spread and peer rows. */
  recordRows: number[];
  recordRates: number[];
  recordRhos: number[];
  recordPeerRows: number[];
}

const emptyProfile = (): CellProfile => ({
  accountRows: [],
  cellRates: [],
  rhos: [],
  peerRows: [],
  recordRows: [],
  recordRates: [],
  recordRhos: [],
  recordPeerRows: [],
});

/** A whole record is tested only when its excess is at least a tenth of its rows flipped (in contradicted units). */
export const RECORD_EFFECT = 0.1;

function testsForRole(
  ctx: AuditContext,
  role: Role,
  col: Categorical,
  pred: Int32Array,
  s: Settings,
  profile: CellProfile,
  suspects: Set<number>,
): CellTest[] {
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  const m = col.values.length;
  // Sparse counts: account -> rows per predicted class, and per (pred, label) cell.
  const rowsByPred = new Map<number, number>(); // a*K + p
  const contradictedByPred = new Map<number, number>(); // a*K + p, rows whose label is not p
  const cells = new Map<number, number>(); // (a*K + p)*K + y
  const labelsOf = new Map<number, number>(); // a*K + y
  const rowsOf = new Float64Array(m);
  const N = new Float64Array(K);
  const X = new Float64Array(K * K);
  const Y = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < inc.n; i++) {
    const a = col.codes[i];
    if (a < 0) continue;
    const p = pred[i];
    const y = inc.labels[i];
    rowsOf[a]++;
    total++;
    N[p]++;
    X[p * K + y]++;
    Y[y]++;
    rowsByPred.set(a * K + p, (rowsByPred.get(a * K + p) ?? 0) + 1);
    labelsOf.set(a * K + y, (labelsOf.get(a * K + y) ?? 0) + 1);
    if (p !== y) {
      cells.set((a * K + p) * K + y, (cells.get((a * K + p) * K + y) ?? 0) + 1);
      contradictedByPred.set(a * K + p, (contradictedByPred.get(a * K + p) ?? 0) + 1);
    }
  }
  // Accounts absent from the trusted set, pooled (only when the trusted set has the column).
  const trustedCol = role === 'source' ? ctx.trusted.source : ctx.trusted.labeler;
  let fresh: number[] = [];
  if (trustedCol) {
    const known = new Set(Array.from(trustedCol.codes, (c) => (c < 0 ? '' : trustedCol.values[c])));
    fresh = [];
    for (let a = 0; a < m; a++) if (rowsOf[a] > 0 && !known.has(col.values[a])) fresh.push(a);
  }
  const groups: Array<{ name: string; codes: number[] }> = [];
  for (let a = 0; a < m; a++) if (rowsOf[a] > 0) groups.push({ name: col.values[a], codes: [a] });
  if (fresh.length >= 2 && fresh.length < groups.length) {
    groups.push({ name: `(${fresh.length} new accounts)`, codes: fresh });
  }
  if (groups.length < 3) return [];
  for (const g of groups) {
    if (g.codes.length > 1) continue;
    for (let p = 0; p < K; p++) {
      const n = rowsByPred.get(g.codes[0] * K + p) ?? 0;
      if (n > 0) profile.accountRows.push(n);
    }
  }
  for (let p = 0; p < K; p++)
    for (let y = 0; y < K; y++) if (p !== y && N[p] > 0) profile.cellRates.push(X[p * K + y] / N[p]);
  const sum = (codes: number[], map: Map<number, number>, key: (a: number) => number) =>
    codes.reduce((t, a) => t + (map.get(key(a)) ?? 0), 0);

  const tests: CellTest[] = [];
  // Off-diagonal cells (p -> y) that some account fills, each with its dispersion across accounts.
  const cellKeys = new Set<number>();
  for (const key of cells.keys()) cellKeys.add(key % (K * K));
  for (const pk of cellKeys) {
    const p = Math.floor(pk / K);
    const y = pk % K;
    const rates: number[] = [];
    const ns: number[] = [];
    let sx = 0;
    let sn = 0;
    for (const a of suspects) {
      sx += cells.get((a * K + p) * K + y) ?? 0;
      sn += rowsByPred.get(a * K + p) ?? 0;
    }
    for (const g of groups) {
      if (g.codes.length > 1 || suspects.has(g.codes[0])) continue;
      const n = rowsByPred.get(g.codes[0] * K + p) ?? 0;
      if (n < 10) continue;
      rates.push((cells.get((g.codes[0] * K + p) * K + y) ?? 0) / n);
      ns.push(n);
    }
    // The peers' rate: the row-weighted median of the accounts' rates (two rogues of twelve cannot drag it),
    // never below the pooled rate of the accounts that do not themselves stand out from the pool. A rare cell
    // (a few rows in all) has a median of 0, which any account with two such rows would beat.
    const wm = rates.length >= 4 ? weightedMedian(rates, ns) : Number.NaN;
    const trimmed = inlierRate(rates, ns);
    const rho = overdispersion(rates, ns, Number.isNaN(wm) ? X[p * K + y] / Math.max(1, N[p]) : wm);
    profile.rhos.push(rho);
    for (const g of groups) {
      const x = sum(g.codes, cells, (a) => (a * K + p) * K + y);
      if (x < s.minCellRows) continue;
      const n = sum(g.codes, rowsByPred, (a) => a * K + p);
      // Peers: every other account but the suspects (their own rows are the group's, counted once).
      const own = g.codes.filter((a) => suspects.has(a));
      const ox = sum(own, cells, (a) => (a * K + p) * K + y);
      const on = sum(own, rowsByPred, (a) => a * K + p);
      const pooled = (X[p * K + y] - x - (sx - ox) + 0.5) / (N[p] - n - (sn - on) + 1);
      const peerRate = Number.isNaN(wm)
        ? pooled
        : Math.max(wm, 0.5 / (N[p] - n + 1), Math.min(pooled, Math.max(wm * 1.25, trimmed)));
      const ok = x / n >= s.minRatio * peerRate;
      const peerRows = N[p] - n - (sn - on);
      profile.peerRows.push(peerRows);
      tests.push({
        role,
        account: g.name,
        codes: g.codes,
        pred: p,
        label: y,
        x,
        n,
        peerRate,
        p: ok ? cellP(x, n, Math.min(0.999, peerRate), rho, peerRows) : 1,
        rho,
        peerRows,
      });
    }
  }
  // Every cell at once: an account that flips at random spreads its flips over K(K - 1) cells, each too thin to
  // test, while its contradicted rows as a whole stand out. Expected: its rows per predicted class times its
  // peers' contradicted rate there, as a cell's (the row-weighted median of the accounts not under suspicion,
  // never below the pooled rate of those that do not stand out: rogues who are many move the reference model
  // toward their labels, and a pooled rate would make honest accounts stand out). Accounts' natural spread
  // widens the test; an effect of a tenth of its rows flipped is required, read through what a flip does to the
  // contradicted rate: a flipped row is contradicted unless the model reads it as its new label (a share r of
  // rows is misread, about 1 / (K - 1) of them as a given wrong label), an honest one with rate r, so each
  // flip adds 1 - r / (K - 1) - r. A weak two-class reference (35% contradicted) adds 0.3 per flip, and 30%
  // random flips only 0.09 to the rate: a tenth of the rows in contradicted units asked for more than a third of
  // them flipped. Single accounts only: a cohort of new accounts differs from the rest by where its rows come
  // from, and its members are tested one by one.
  const singles = groups.filter((g) => g.codes.length === 1);
  // Peers' contradicted rate per predicted class, and each account's whole record against it, leaving out of
  // the peers the accounts whose whole record stands out (standsOut, as inlierRate does per cell): per class an
  // account holds a few dozen rows and three rogues of eight are not outliers there, but over its whole record
  // each is, and left among the peers they raise the rate and the spread they are judged against (47%
  // contradicted against peers at 33%, spread as wide as the rogues make it: p 0.009).
  const recordsAgainst = (out: Set<number>) => {
    const peerRateOf = new Float64Array(K);
    for (let p = 0; p < K; p++) {
      const rates: number[] = [];
      const ns: number[] = [];
      let cx = 0;
      let cn = 0;
      for (const g of singles) {
        if (out.has(g.codes[0])) continue;
        const n = rowsByPred.get(g.codes[0] * K + p) ?? 0;
        const c = contradictedByPred.get(g.codes[0] * K + p) ?? 0;
        cx += c;
        cn += n;
        if (n < 10) continue;
        rates.push(c / n);
        ns.push(n);
      }
      const pooled = (cx + 0.5) / (cn + 1);
      const wm = rates.length >= 4 ? weightedMedian(rates, ns) : Number.NaN;
      peerRateOf[p] = Number.isNaN(wm) ? pooled : Math.max(wm, Math.min(pooled, inlierRate(rates, ns)));
    }
    return singles.map((g) => {
      let x = 0;
      let e = 0;
      let n = 0;
      for (let p = 0; p < K; p++) {
        const np = rowsByPred.get(g.codes[0] * K + p) ?? 0;
        if (np === 0) continue;
        x += contradictedByPred.get(g.codes[0] * K + p) ?? 0;
        n += np;
        e += np * peerRateOf[p];
      }
      return { g, x, e, n };
    });
  };
  let out = new Set(suspects);
  let records = recordsAgainst(out);
  for (let round = 0; round < 4; round++) {
    const next = new Set(suspects);
    for (const t of records)
      if (t.n >= 10 && t.x > t.e && standsOut(t.x, t.n, Math.min(0.999, t.e / t.n))) next.add(t.g.codes[0]);
    // Never more than half the accounts: the peers are the majority, or there are none.
    if (next.size * 2 > singles.length || [...next].every((a) => out.has(a))) break;
    out = next;
    records = recordsAgainst(out);
  }
  const honest = records.filter((t) => t.n >= 10 && !out.has(t.g.codes[0]));
  const overall =
    honest.reduce((a, t) => a + t.e, 0) /
    Math.max(
      1,
      honest.reduce((a, t) => a + t.n, 0),
    );
  const rhoAll = overdispersion(
    honest.map((t) => Math.min(1, Math.max(0, overall + (t.x - t.e) / t.n))),
    honest.map((t) => t.n),
    overall,
  );
  const peerTotal = honest.reduce((a, t) => a + t.n, 0);
  if (honest.length > 0) {
    profile.recordRates.push(overall);
    profile.recordRhos.push(rhoAll);
    profile.recordPeerRows.push(peerTotal);
    for (const t of records) if (t.n >= 20) profile.recordRows.push(t.n);
  }
  for (const { g, x, e, n } of records) {
    if (n < 20 || x < s.minCellRows) continue;
    const peerRate = Math.min(0.999, e / n);
    tests.push({
      role,
      account: g.name,
      codes: g.codes,
      pred: EVERY_CELL,
      label: -1,
      x,
      n,
      peerRate,
      p:
        (x - e) / n >= RECORD_EFFECT * flipContrast(peerRate, K)
          ? cellP(x, n, peerRate, rhoAll, peerTotal - (out.has(g.codes[0]) ? 0 : n))
          : 1,
    });
  }
  // Label mix: each label's share of the account's rows against its peers'.
  for (let y = 0; y < K; y++) {
    for (const g of groups) {
      const x = sum(g.codes, labelsOf, (a) => a * K + y);
      if (x < s.minCellRows) continue;
      const n = g.codes.reduce((t, a) => t + rowsOf[a], 0);
      const peerRate = (Y[y] - x + 0.5) / (total - n + 1);
      const ok = x / n >= Math.min(0.95, 1.5 * peerRate) && x / n - peerRate >= 0.1;
      tests.push({
        role,
        account: g.name,
        codes: g.codes,
        pred: LABEL_MIX,
        label: y,
        x,
        n,
        peerRate,
        p: ok ? binomialUpperTail(x, n, Math.min(0.999, peerRate)) : 1,
      });
    }
  }
  return tests;
}

/** The account codes of the flagged tests (cells and label mixes alike), per role. */
function flaggedAccounts(tests: CellTest[]): Partial<Record<Role, Set<number>>> {
  const out: Partial<Record<Role, Set<number>>> = {};
  for (const t of tests) {
    if (!t.flagged) continue;
    const mine = out[t.role] ?? new Set<number>();
    for (const a of t.codes) mine.add(a);
    out[t.role] = mine;
  }
  return out;
}

/** Every test of both roles, flagged under Benjamini-Hochberg at `fdr`, then per flagged account at `accountFdr`. */
function flagTests(
  ctx: AuditContext,
  cols: Partial<Record<Role, Categorical>>,
  pred: Int32Array,
  s: Settings,
  profile: CellProfile,
  suspects: Partial<Record<Role, Set<number>>> = {},
): CellTest[] {
  const tests: CellTest[] = [];
  for (const role of ['source', 'labeler'] as const) {
    const col = cols[role];
    if (col)
      for (const t of testsForRole(ctx, role, col, pred, s, profile, suspects[role] ?? new Set()))
        tests.push(t);
  }
  // Cells and label mixes are one family; the every-cell tests (one per account) another, each at `fdr`: an
  // account's whole record is one question, which should not pay for the hundreds of cells a ten-class batch has.
  for (const family of [
    tests.filter((t) => t.pred !== EVERY_CELL),
    tests.filter((t) => t.pred === EVERY_CELL),
  ]) {
    const reject = benjaminiHochberg(
      family.map((t) => t.p),
      s.fdr,
    );
    family.forEach((t, k) => {
      t.flagged = reject[k] && t.p < 1;
      t.primary = t.flagged;
    });
  }
  // An account found flipping in one cell: its other cells (the reverse of a swapped pair, a third class)
  // are then tested among themselves, at `accountFdr`: the question is no longer whether any account flips.
  // (An account found by its whole record alone keeps its cells untested: its rows are read one by one below.)
  const found = new Set(
    tests.filter((t) => t.flagged && t.pred !== EVERY_CELL).map((t) => `${t.role}\u0000${t.account}`),
  );
  for (const key of found) {
    const own = tests.filter((t) => `${t.role}\u0000${t.account}` === key && !t.flagged && t.pred >= 0);
    const again = benjaminiHochberg(
      own.map((t) => t.p),
      s.accountFdr,
    );
    own.forEach((t, k) => {
      if (again[k] && t.p < 1) t.flagged = true;
    });
  }
  return tests;
}

function predictions(proba: Float32Array, n: number, K: number): Int32Array {
  const pred = new Int32Array(n);
  for (let i = 0; i < n; i++) pred[i] = argmaxRow(proba, i, K);
  return pred;
}

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsFor(ctx, meta.id, LABEL_CELLS_DEFAULTS);
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  if (ctx.trusted.n < MIN_REFERENCE_ROWS) return { findings: [], rows: [] };
  const ref = referenceOf(ctx).ref;
  let proba = ref.proba;
  let pred = predictions(proba, inc.n, K);
  const cols: Partial<Record<Role, Categorical>> = { source: inc.source, labeler: inc.labeler };
  let profile = emptyProfile();
  let tests = flagTests(ctx, cols, pred, s, profile);
  // Accounts found are read again by a model none of them trained (a campaign spread over accounts in other
  // folds taught the cross-fit its own labels), and every test is made again on that reading.
  const suspect = new Uint8Array(inc.n);
  const suspectCodes = flaggedAccounts(tests);
  let suspects = 0;
  for (const role of ['source', 'labeler'] as const) {
    const codes = suspectCodes[role];
    const col = cols[role];
    if (!codes || !col) continue;
    for (let i = 0; i < inc.n; i++) {
      if (suspect[i] || !codes.has(col.codes[i])) continue;
      suspect[i] = 1;
      suspects++;
    }
  }
  // Once accounts are found, they are no one's peers (two rogues flipping alike raise each other's baseline),
  // and under the cross-fit their rows are read by models none of them trained.
  if (suspects > 0 && suspects < inc.n / 2) {
    if (ref.reRead) {
      proba = ref.reRead(proba, suspect);
      pred = predictions(proba, inc.n, K);
    }
    profile = emptyProfile();
    tests = flagTests(ctx, cols, pred, s, profile, suspectCodes);
  }
  const power: LabelCellsPower | undefined =
    profile.accountRows.length > 0
      ? {
          tests: tests.filter((t) => t.pred !== EVERY_CELL).length + 1,
          fdr: s.fdr,
          minCellRows: s.minCellRows,
          minRatio: s.minRatio,
          accountRows: Math.round(median(profile.accountRows)),
          peerRate: median(profile.cellRates),
          rho: profile.rhos.length ? median(profile.rhos) : 0,
          peerRows: profile.peerRows.length ? Math.round(median(profile.peerRows)) : inc.n,
          ...(profile.recordRows.length && profile.recordRates.length
            ? {
                record: {
                  tests: tests.filter((t) => t.pred === EVERY_CELL).length + 1,
                  accountRows: Math.round(median(profile.recordRows)),
                  rate: median(profile.recordRates),
                  rho: median(profile.recordRhos),
                  peerRows: Math.round(median(profile.recordPeerRows)),
                  classes: K,
                },
              }
            : {}),
        }
      : undefined;
  const flagged = tests.filter((t) => t.flagged);
  // A row in several flagged cells (its account's, its cohort's) keeps its highest score.
  const scores = new Float32Array(inc.n);
  const reasons = new Map<number, string>();
  const flaggedCodes = flaggedAccounts(flagged);
  for (const t of flagged) {
    if (t.pred < 0) continue; // the label mix is reported; cells carry rows, and spreadFlips an account's others
    const purity = Math.max(0, 1 - t.peerRate / Math.max(1e-9, wilson(t.x, t.n).lower));
    t.purity = purity;
    const codes = new Set(t.codes);
    const col = cols[t.role]!;
    const why = `${t.role} "${t.account}" labels ${ctx.classes[t.label]} rows the reference model reads as ${ctx.classes[t.pred]} ${ratio(t)}× as often as its peers, and this row is one`;
    // The cell's rows, and its peers' (accounts not flagged) for how honest rows of the cell read.
    const own: number[] = [];
    const peerP: number[] = [];
    const others = flaggedCodes[t.role] ?? codes;
    for (let i = 0; i < inc.n; i++) {
      if (inc.labels[i] !== t.label) continue;
      // In the cell, or beside it: the model prefers the cell's class to the label but a third one to both.
      if (pred[i] !== t.pred && !(proba[i * K + t.pred] > proba[i * K + t.label])) continue;
      const a = col.codes[i];
      if (codes.has(a)) own.push(i);
      else if (a >= 0 && !others.has(a)) peerP.push(proba[i * K + t.label]);
    }
    // Each row's posterior of a flip, read off the rows as spreadFlips reads an account's others: the cell's
    // rows at or below its label probability against the honest ones its peers' rate puts among its unflipped
    // rows, spread as the peers' rows of the cell are. The cell's share beyond its peers' (purity) is the floor.
    const pi = Math.min(0.95, Math.max(0, (t.x - t.n * t.peerRate) / t.n));
    const post =
      peerP.length >= MIN_REFERENCE_ROWS
        ? flipPosteriors(
            own.map((i) => proba[i * K + t.label]),
            classReference(peerP),
            t.n * t.peerRate * (1 - pi),
          )
        : own.map(() => 0);
    own.forEach((i, k) => {
      const score = Math.min(s.rowScore, Math.max(purity, post[k]));
      if (score > scores[i]) {
        scores[i] = score;
        reasons.set(i, why);
      }
    });
  }
  const spread = spreadFlips(ctx, flagged, cols, pred, proba, scores, reasons, s);
  const rows: RowFlag[] = [];
  const explained = new Uint8Array(inc.n);
  for (let i = 0; i < inc.n; i++) {
    if (scores[i] <= 0) continue;
    rows.push({ row: i, score: scores[i], reason: reasons.get(i)! });
    explained[i] = 1;
  }
  // Contributors (stage 2) judge accounts on the rows these cells do not explain already.
  const findings = findingsOf(ctx, flagged, s, crossingOf(ctx, flagged, cols, pred, s));
  for (const f of findings) {
    const e = f.evidence as { role?: Role; account?: string } | undefined;
    const extra = e && spread.get(`${e.role}\u0000${e.account}`);
    if (!extra) continue;
    const where = (f.evidence as { cells?: unknown[] }).cells?.length
      ? `beyond these cells, about ${pct(extra.share)} of its other rows`
      : `about ${pct(extra.share)} of its rows`;
    f.message = `${f.message.replace(/\.$/, '')}; ${where} carry labels the reference model contradicts more often than its peers' (${extra.rows} rows raised).`;
    (f.evidence as Record<string, unknown>).spreadFlipShare = Number(extra.share.toFixed(3));
    if (f.location) f.location.rowCount = (f.location.rowCount ?? 0) + extra.rows;
  }
  return { findings, rows, publish: { labelCellRows: explained, [POWER_KEY]: power } };
}

/**
 * A flagged account may also flip labels at random across many cells, each too thin to test (a rogue who
 * relabels 30% of its rows to any other class spreads them over dozens of cells). Its rows outside its flagged
 * cells are tested as a whole: contradicted rows against what its peers' rate in each predicted class
 * predicts (binomial, at `accountFdr`). When they exceed it, the excess is the account's flip share π, and each
 * contradicted row gets the posterior that it was flipped, read off the rows themselves rather than the model's
 * calibration (flipPosteriors): the account's contradicted rows at or below each label probability against the
 * honest ones it would hold there (its expected honest contradicted rows, spread as its peers' contradicted rows
 * are), as a monotone local false-discovery rate, the one audit/disagreement reads against clean trusted rows.
 * A 26-class model whose probabilities are diffuse gives a random flip P(label) of 0.01 to 0.1 and an honest
 * mistake 0.03 to 0.3: a likelihood ratio that assumed calibration, (1 − P(label)) / ((K − 1) · P(label)),
 * raised only the flips below 0.01. Counts are read at their lower confidence bound, so a small account's few
 * contradicted rows (26 rows whose flips fill two cells, six others) are not read as a pile of flips.
 */
function spreadFlips(
  ctx: AuditContext,
  flagged: CellTest[],
  cols: Partial<Record<Role, Categorical>>,
  pred: Int32Array,
  proba: Float32Array,
  scores: Float32Array,
  reasons: Map<number, string>,
  s: Settings,
): Map<string, { share: number; rows: number }> {
  const out = new Map<string, { share: number; rows: number }>();
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  for (const role of ['source', 'labeler'] as const) {
    const col = cols[role];
    if (!col) continue;
    const mine = flagged.filter((t) => t.role === role && (t.pred >= 0 || t.pred === EVERY_CELL));
    const accounts = new Map<string, CellTest[]>();
    for (const t of mine) accounts.set(t.account, [...(accounts.get(t.account) ?? []), t]);
    if (accounts.size === 0) continue;
    // Peers' contradicted rate per predicted class, pooled over the accounts not flagged (for anything: an
    // account flagged for its label mix alone is no one's peer here either, as in the cells' row scores).
    const flaggedCodes = new Set(flagged.filter((t) => t.role === role).flatMap((t) => t.codes));
    const N = new Float64Array(K);
    const X = new Float64Array(K);
    const peerP: number[] = [];
    for (let i = 0; i < inc.n; i++) {
      const a = col.codes[i];
      if (a < 0 || flaggedCodes.has(a)) continue;
      N[pred[i]]++;
      if (pred[i] !== inc.labels[i]) {
        X[pred[i]]++;
        peerP.push(proba[i * K + inc.labels[i]]);
      }
    }
    const peerMistakes = classReference(peerP);
    for (const [account, cells] of accounts) {
      const codes = new Set(cells[0].codes);
      const inCell = (i: number) => cells.some((t) => t.pred === pred[i] && t.label === inc.labels[i]);
      let n = 0;
      let x = 0;
      let e = 0;
      const contradicted: number[] = [];
      for (let i = 0; i < inc.n; i++) {
        if (!codes.has(col.codes[i]) || inCell(i)) continue;
        n++;
        e += N[pred[i]] > 0 ? (X[pred[i]] + 0.5) / (N[pred[i]] + 1) : 0.5;
        if (pred[i] !== inc.labels[i]) {
          x++;
          contradicted.push(i);
        }
      }
      if (n < 10 || x <= e || binomialUpperTail(x, n, Math.min(0.999, e / n)) > s.accountFdr / accounts.size)
        continue;
      const pi = Math.min(0.95, (x - e) / n);
      const why = cells.some((t) => t.pred >= 0)
        ? `${role} "${account}" flips labels beyond its flagged cells (about ${pct(pi)} of its other rows), and the reference model doubts this one`
        : `${role} "${account}" flips labels across classes (about ${pct(pi)} of its rows), and the reference model doubts this one`;
      const post = flipPosteriors(
        contradicted.map((i) => proba[i * K + inc.labels[i]]),
        peerMistakes,
        e * (1 - pi),
      );
      let raised = 0;
      contradicted.forEach((i, k) => {
        const score = Math.min(s.rowScore, post[k]);
        if (score > scores[i]) {
          scores[i] = score;
          reasons.set(i, why);
        }
        if (score >= 0.5) raised++;
      });
      out.set(`${role}\u0000${account}`, { share: pi, rows: raised });
    }
  }
  return out;
}

/** What one flipped row adds to an account's contradicted rate, for a reference contradicting a share r of honest labels. */
export const flipContrast = (r: number, K: number) => Math.max(0.05, 1 - r - r / Math.max(1, K - 1));

/**
 * Posterior that each of a flagged account's contradicted rows was flipped (spreadFlips), from their label
 * probabilities alone: one minus the local false-discovery rate (stats/local-fdr.ts) of the account's rows
 * against `honest` rows spread as its peers' contradicted rows are (read at the upper confidence bound of that
 * spread). No calibration is assumed: a 26-class model with diffuse probabilities gives a random flip P(label)
 * of 0.01 to 0.1, which a calibrated likelihood ratio reads as honest. A few rows never make a pile: each count
 * is read at its lower confidence bound.
 */
export function flipPosteriors(pLabel: number[], peerMistakes: ClassReference, honest: number): number[] {
  const order = pLabel.map((_, k) => k).sort((a, b) => pLabel[a] - pLabel[b]);
  const sorted = order.map((k) => pLabel[k]);
  const clean = monotoneLocalFdr(sorted, (v) => honest * referenceTail(peerMistakes, v));
  const out = new Array<number>(pLabel.length);
  order.forEach((k, r) => {
    out[k] = 1 - clean[r];
  });
  return out;
}

const ratio = (t: CellTest) => {
  const r = t.x / t.n / Math.max(1e-9, t.peerRate);
  return r >= 10 ? Math.round(r).toString() : r.toFixed(1);
};
const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

interface Crossing {
  window: number;
  of: number;
  start: string | null;
}

/**
 * When each flagged account's flips became visible, for batches with a time column: the first of the audit's
 * time windows (audit/drift's) by whose end the account's rows in a cell it was flagged in, counted from the
 * start, already stand out from its peers at the level the whole batch flagged it at (the largest p-value
 * Benjamini-Hochberg rejected). A creep that conditions a labeler slowly is named with the window its
 * review should start from.
 */
function crossingOf(
  ctx: AuditContext,
  flagged: CellTest[],
  cols: Partial<Record<Role, Categorical>>,
  pred: Int32Array,
  s: Settings,
): (list: CellTest[]) => Crossing | undefined {
  const inc = ctx.incoming;
  const primary = flagged.filter((t) => t.primary && t.pred !== EVERY_CELL);
  if (!inc.time || primary.length === 0) return () => undefined;
  const win = makeWindows(inc.time, settingsFor(ctx, 'audit/drift', DRIFT_DEFAULTS));
  if (win.count < 2) return () => undefined;
  const level = Math.max(...primary.map((t) => t.p));
  return (list) => {
    let first = Number.POSITIVE_INFINITY;
    for (const t of list) {
      if (!t.primary || t.pred < 0) continue;
      const codes = new Set(t.codes);
      const col = cols[t.role]!;
      const n = new Float64Array(win.count);
      const x = new Float64Array(win.count);
      for (let i = 0; i < inc.n; i++) {
        const w = win.of[i];
        if (w < 0 || pred[i] !== t.pred || !codes.has(col.codes[i])) continue;
        n[w]++;
        if (inc.labels[i] === t.label) x[w]++;
      }
      let cx = 0;
      let cn = 0;
      for (let w = 0; w < Math.min(first, win.count); w++) {
        cx += x[w];
        cn += n[w];
        if (
          cx >= s.minCellRows &&
          cx / cn >= s.minRatio * t.peerRate &&
          cellP(cx, cn, Math.min(0.999, t.peerRate), t.rho ?? 0, t.peerRows) <= level
        ) {
          first = w;
          break;
        }
      }
    }
    return Number.isFinite(first)
      ? { window: first + 1, of: win.count, start: timeText(win.ranges[first][0]) }
      : undefined;
  };
}

function findingsOf(
  ctx: AuditContext,
  flagged: CellTest[],
  s: Settings,
  crossing: (list: CellTest[]) => Crossing | undefined,
): Finding[] {
  const byAccount = new Map<string, CellTest[]>();
  for (const t of flagged) {
    const key = `${t.role}\u0000${t.account}`;
    const list = byAccount.get(key) ?? [];
    list.push(t);
    byAccount.set(key, list);
  }
  const groups = [...byAccount.values()].sort(
    (a, b) => Math.min(...a.map((t) => t.p)) - Math.min(...b.map((t) => t.p)),
  );
  const out: Finding[] = [];
  for (const list of groups.slice(0, s.maxReported)) {
    const t0 = list[0];
    const cells = list.filter((t) => t.pred >= 0).sort((a, b) => a.p - b.p);
    const mix = list.filter((t) => t.pred === LABEL_MIX);
    const every = list.filter((t) => t.pred === EVERY_CELL);
    const parts = cells
      .slice(0, 4)
      .map(
        (t) =>
          `of ${t.n} rows the reference model reads as ${ctx.classes[t.pred]} it labelled ${pct(t.x / t.n)} ${ctx.classes[t.label]} (peers ${pct(t.peerRate)})`,
      );
    for (const t of every)
      parts.push(
        `the reference model contradicts ${pct(t.x / t.n)} of its ${t.n} labels across classes (its peers' rate on rows like them: ${pct(t.peerRate)})`,
      );
    for (const t of mix.slice(0, 2))
      parts.push(
        `${pct(t.x / t.n)} of its ${t.n} rows are ${ctx.classes[t.label]} (peers ${pct(t.peerRate)})`,
      );
    const who = t0.role === 'labeler' ? `Labeler "${t0.account}"` : `Source account "${t0.account}"`;
    const action =
      t0.role === 'labeler' ? 're-label its rows independently' : 'review its rows before training';
    const rowsRaised = cells.reduce((a, t) => a + t.x, 0);
    const p = Math.min(...list.map((t) => t.p));
    const when = crossing(list);
    const since = when
      ? `; its flips stood out from its peers' by the end of window ${when.window} of ${when.of}${when.start ? ` (the one starting ${when.start})` : ''}`
      : '';
    out.push(
      makeFinding(meta, `${who}: ${parts.join('; ')}${since}; ${action}.`, {
        severity:
          every.length > 0 || (cells.length > 0 && (rowsRaised >= 10 || p < 1e-6)) ? 'high' : 'medium',
        location: { column: ctx.roles[t0.role], rowCount: rowsRaised },
        evidence: {
          role: t0.role,
          account: t0.account,
          ...(when ? { firstWindow: when.window, windowStart: when.start } : {}),
          cells: cells.map((t) => ({
            predicted: ctx.classes[t.pred],
            label: ctx.classes[t.label],
            rows: t.x,
            of: t.n,
            peerRate: Number(t.peerRate.toFixed(4)),
            pValue: t.p,
          })),
          labelMix: mix.map((t) => ({
            label: ctx.classes[t.label],
            rows: t.x,
            of: t.n,
            peerRate: Number(t.peerRate.toFixed(4)),
            pValue: t.p,
          })),
        },
      }),
    );
  }
  if (groups.length > s.maxReported) {
    out.push(
      makeFinding(
        meta,
        `${groups.length - s.maxReported} more accounts flip labels in some cell (not listed).`,
        {
          severity: 'medium',
          evidence: { more: groups.length - s.maxReported },
        },
      ),
    );
  }
  return out;
}

export const detector: Detector = {
  meta,
  defaults: LABEL_CELLS_DEFAULTS,
  stage: 1,
  applies: (ctx) => Boolean(ctx.incoming.source || ctx.incoming.labeler) && ctx.classes.length >= 2,
  needs: (ctx) =>
    ctx.incoming.source || ctx.incoming.labeler ? 'two classes' : 'a --source or --labeler column',
  // In a batch of one class every account's cell "model reads A, label says B" holds all its rows read as A:
  // there is no rate to compare with peers. What is left, how many of an account's rows the trusted model
  // contradicts against its peers, is audit/contributors' test.
  cannotRun: (ctx) =>
    unseenClassReason(ctx) ??
    (oneClassOf(ctx) >= 0
      ? "the batch holds one class, so every account labels all its rows alike and no cell rate can stand out from its peers; accounts whose labels the trusted model contradicts more than their peers' are judged by audit/contributors"
      : undefined),
  run,
};
export default detector;
