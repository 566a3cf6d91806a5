/**
 * Candidates of trigger mining as the tests see them, where each occurs, and the greedy explaining-away
 * that keeps the most specific of overlapping confirmed patterns.
 */
import type { TRIGGER_DEFAULTS } from '../../config.js';
import { CountTable } from '../../features/counter.js';
import { expectedRate, labelShiftP } from '../../stats/shift.js';
import type { AuditContext } from '../types.js';
import type { Space } from './spaces.js';
import { TRUSTED_POWER_ROWS } from './trusted-power.js';

type Settings = typeof TRIGGER_DEFAULTS;

/** A candidate pattern and what the tests found on it. */
export interface Mined {
  key: number;
  /** Pattern length: n-gram words or conjunction items; 0 for a shape. */
  len: number;
  label: number;
  dfIn: number;
  dfTr: number;
  purity: number;
  lift: number;
  firstRow: number;
  pos: number;
  tested: number;
  contradicted: number;
  sumC: number;
  sumR: number;
  zR: number;
  zC: number;
  p: number;
  pOver: number;
  pDis: number;
  kIn: number;
  kTr: number;
  sumP: number;
  pShift: number;
  expected: number;
  pContent: number;
  /** Tables: the label excess against the trusted rows of the pattern's items alone (0 where not tested). */
  pParts: number;
  /** Tables: the label excess against the batch's other rows of each parent pattern (the largest p). */
  pInteraction: number;
  /**
   * Tables, where reading the rows with only the pattern's own values removed was the stronger content test:
   * mean P(label) of its rows, of the label's other rows and of other labels' rows, read so.
   */
  matched?: { rows: number; label: number; other: number };
}

export interface ExplainContext {
  ctx: AuditContext;
  s: Settings;
  space: Space;
  unique: Uint8Array;
  occ: Occurrences;
  /** Candidate index of each confirmed pattern. */
  indexOf: Map<Mined, number>;
  /** Masks the suspects of row i (and the candidates `also` accepts); true when any. */
  maskRow: (i: number, also?: (ci: number) => boolean) => boolean;
  /** P(y | row i as masked by the last maskRow call, masked patterns read the trusted way). */
  probOfRow: (i: number, y: number) => number;
  levelOf: Map<Mined, number>;
  /** Trusted rows a model's prediction is worth in the label-shift test. */
  priorRows: number;
  familySize: number;
  pInc: number;
  /**
   * A batch of one class: the rows left are judged by the content test (`residualP` of k rows, kt trusted rows
   * of the class, the sum of P(class) over the k rows read the trusted way); `ratio`: batch rows per trusted
   * row of the class.
   */
  withinClass?: { ratio: number; residualP: (k: number, kt: number, sumP: number) => number };
}

/** Candidate occurrences per incoming row (CSR over growing typed arrays). */
export class Occurrences {
  start: Int32Array;
  ci = new Int32Array(1 << 16);
  pos = new Int32Array(1 << 16);
  len = new Uint8Array(1 << 16);
  private k = 0;
  constructor(n: number) {
    this.start = new Int32Array(n + 1);
  }
  startRow(i: number): void {
    this.start[i] = this.k;
  }
  push(ci: number, len: number, pos: number): void {
    if (this.k === this.ci.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.ci = grow(this.ci);
      this.pos = grow(this.pos);
      this.len = grow(this.len);
    }
    this.ci[this.k] = ci;
    this.pos[this.k] = pos;
    this.len[this.k] = len;
    this.k++;
  }
  end(): void {
    this.start[this.start.length - 1] = this.k;
  }
  /** Occurrences pushed so far (the end of the row being filled). */
  get size(): number {
    return this.k;
  }
}

/**
 * Calls `visit(i, k)` once for each incoming row i and each confirmed pattern k that the row carries with the
 * pattern's label (`kOf`: a candidate's index in `confirmed`, -1 for the others). A copy is read through the
 * first row of its content and label (`first`), whose occurrences it shares.
 */
export function eachLabelledCarrier(
  labels: Int32Array,
  first: Int32Array,
  occ: Occurrences,
  kOf: Int32Array,
  confirmed: Mined[],
  visit: (i: number, k: number) => void,
): void {
  const seen = new Int32Array(confirmed.length).fill(-1);
  for (let i = 0; i < labels.length; i++) {
    const rep = first[i];
    for (let o = occ.start[rep]; o < occ.start[rep + 1]; o++) {
      const k = kOf[occ.ci[o]];
      if (k < 0 || seen[k] === i || confirmed[k].label !== labels[i]) continue;
      seen[k] = i;
      visit(i, k);
    }
  }
}

/**
 * Which patterns are one discovery: patterns are joined when at least half of the rows of the one with fewer
 * (its carriers with its label) carry the other with the same label (a phrase and its words, a conjunction
 * and the conjunctions of its values with others), and discoveries are what these links connect. Only the
 * patterns flagged in `of` are grouped (-1 for the rest). Rows are gathered in one pass over the occurrences,
 * and overlaps counted through an index of the rows each pattern holds, so the cost follows the rows the
 * flagged patterns carry, not their number squared.
 */
export function discoveriesOf(
  patterns: Mined[],
  of: ArrayLike<boolean>,
  indexOf: Map<Mined, number>,
  occ: Occurrences,
  labels: Int32Array,
): Int32Array {
  const slot = new Int32Array(indexOf.size).fill(-1);
  const flagged: number[] = [];
  // Row lists for the flagged patterns only: a wide table's family holds tens of thousands of patterns.
  const rows = new Array<number[]>(patterns.length);
  patterns.forEach((c, k) => {
    if (!of[k]) return;
    slot[indexOf.get(c) ?? 0] = k;
    flagged.push(k);
    rows[k] = [];
  });
  for (let i = 0; i + 1 < occ.start.length; i++) {
    for (let o = occ.start[i]; o < occ.start[i + 1]; o++) {
      const k = slot[occ.ci[o]];
      if (k < 0 || labels[i] !== patterns[k].label) continue;
      const r = rows[k];
      if (r[r.length - 1] !== i) r.push(i);
    }
  }
  const parent = new Int32Array(patterns.length).map((_, k) => k);
  const find = (k: number): number => {
    while (parent[k] !== k) {
      parent[k] = parent[parent[k]];
      k = parent[k];
    }
    return k;
  };
  // Row -> the flagged patterns indexed so far that hold it (with their label: rows are labelled carriers).
  const holders = new Map<number, number[]>();
  const shared = new Int32Array(patterns.length);
  const touched: number[] = [];
  for (const k of flagged) {
    for (const i of rows[k]) {
      for (const j of holders.get(i) ?? []) {
        if (shared[j] === 0) touched.push(j);
        shared[j]++;
      }
    }
    for (const j of touched) {
      if (2 * shared[j] >= Math.min(rows[k].length, rows[j].length)) parent[find(k)] = find(j);
      shared[j] = 0;
    }
    touched.length = 0;
    for (const i of rows[k]) {
      const h = holders.get(i);
      if (h) h.push(k);
      else holders.set(i, [k]);
    }
  }
  const out = new Int32Array(patterns.length).fill(-1);
  for (const k of flagged) out[k] = find(k);
  return out;
}

/**
 * Most specific explanation (greedy explaining away): repeatedly take the confirmed pattern that best
 * explains the excess of its label on rows no pattern taken so far carries; a pattern whose remaining rows
 * no longer show a significant label shift is explained by those taken and dropped. So "pain" gives way to
 * "starting pain kano" when its other rows are ordinary, and a conjunction that merely overlaps a
 * three-value trigger gives way to the trigger. Rows are read with every suspect and confirmed pattern masked.
 */
export function explainAway(confirmed: Mined[], e: ExplainContext): Mined[] {
  const { ctx, s, space, unique, levelOf, pInc } = e;
  const inc = ctx.incoming;
  const tru = ctx.trusted;
  const K = ctx.classes.length;
  const J = confirmed.length;
  const index = new CountTable(1, 1 << 8);
  const jOf = new Map<number, number>();
  confirmed.forEach((c, j) => {
    index.add(c.key, 0, j + 1);
    jOf.set(e.indexOf.get(c) ?? -1, j);
  });
  const rowsIn: number[][] = confirmed.map(() => []);
  const probIn: number[][] = confirmed.map(() => []);
  const rowsTr: number[][] = confirmed.map(() => []);
  const seenJ = new Int32Array(J).fill(-1);
  const { occ } = e;
  for (let i = 0; i < inc.n; i++) {
    if (!unique[i]) continue;
    let masked = false;
    for (let k = occ.start[i]; k < occ.start[i + 1]; k++) {
      const j = jOf.get(occ.ci[k]) ?? -1;
      if (j < 0 || seenJ[j] === i) continue;
      seenJ[j] = i;
      if (!masked) {
        e.maskRow(i, (ci) => jOf.has(ci));
        masked = true;
      }
      rowsIn[j].push(i);
      probIn[j].push(e.probOfRow(i, confirmed[j].label));
    }
  }
  seenJ.fill(-1);
  for (let i = 0; i < tru.n; i++) {
    space.trusted(i, (key) => {
      const j = index.get(key, 0) - 1;
      if (j < 0 || seenJ[j] === i) return;
      seenJ[j] = i;
      rowsTr[j].push(i);
    });
  }
  const coveredIn = new Uint8Array(inc.n);
  const coveredTr = new Uint8Array(tru.n);
  const kept = new Set<Mined>();
  const alive = new Set<number>(confirmed.map((_c, j) => j));
  const levelFor = (c: Mined) =>
    c.len === 0 || levelOf.get(c) === s.fdr
      ? (levelOf.get(c) ?? 0)
      : ((kept.size + 1) * s.fdr) / Math.max(1, e.familySize);
  // Residual label counts of pattern j on rows not covered (and not in `skip`, when given).
  const residual = (j: number, skip?: Int32Array, mark?: number) => {
    const c = confirmed[j];
    let n = 0;
    let k = 0;
    let sp = 0;
    const rows = rowsIn[j];
    for (let r = 0; r < rows.length; r++) {
      const i = rows[r];
      if (coveredIn[i] || (skip && skip[i] === mark)) continue;
      n++;
      if (inc.labels[i] === c.label) k++;
      sp += probIn[j][r];
    }
    let nt = 0;
    let kt = 0;
    for (const i of rowsTr[j]) {
      if (coveredTr[i]) continue;
      nt++;
      if (tru.labels[i] === c.label) kt++;
    }
    // Step-up level over the triggers kept so far: the first pass's level counts every overlapping variant
    // of a strong trigger as a discovery, which would let unrelated ordinary patterns ride on it.
    const level = Math.min(levelOf.get(c) ?? 0, levelFor(c));
    // The rows left must still be over-represented against the trusted set when it can tell (a conjunction
    // that only overlapped a trigger is, outside it, as common as in the reference).
    const wc = e.withinClass;
    if (wc) {
      // Every row carries the class: the rows left must still outnumber what its trusted rows predict.
      const excess = k - kt * wc.ratio;
      const p = k >= 3 ? wc.residualP(k, kt, sp) : 1;
      return { n, p, significant: p <= level, score: n ? (excess * Math.abs(excess)) / n : 0 };
    }
    const over = (n + nt) * (1 - pInc) < TRUSTED_POWER_ROWS || n > (n + nt) * pInc;
    const p = over && k >= 3 ? Math.min(1, K * labelShiftP(k, n, kt, nt, sp, e.priorRows)) : 1;
    // Excess rows with the label over what the reference expects, squared per row: favours the pattern
    // that explains the most excess with the fewest ordinary rows.
    const excess = k - n * expectedRate(n, kt, nt, sp, e.priorRows);
    return { n, p, significant: p <= level, score: n ? (excess * Math.abs(excess)) / n : 0 };
  };
  const scoreOf = new Float64Array(J);
  const inBest = new Int32Array(inc.n).fill(-1);
  const inSub = new Int32Array(inc.n).fill(-1);
  let round = 0;
  let subMark = 0;
  const sigAt = new Int32Array(J).fill(-1);
  for (let pass = 0; alive.size > 0; pass++) {
    let best = -1;
    for (const j of alive) {
      const r = residual(j);
      // Not yet: the level grows as triggers are kept, and a pattern's residual only shrinks.
      if (!r.significant) continue;
      sigAt[j] = pass;
      scoreOf[j] = r.score;
      const c = confirmed[j];
      if (best < 0 || r.score > scoreOf[best] || (r.score === scoreOf[best] && c.len > confirmed[best].len))
        best = j;
    }
    if (best < 0) break;
    // A pattern whose rows lie inside the best one's and leave the rest of them ordinary is the more
    // specific explanation ("starting pain kano" inside "pain"; a trigger inside a looser conjunction).
    for (let changed = true; changed; ) {
      changed = false;
      round++;
      for (const i of rowsIn[best]) if (!coveredIn[i]) inBest[i] = round;
      let sub = -1;
      for (const q of alive) {
        if (q === best || sigAt[q] !== pass || rowsIn[q].length > rowsIn[best].length) continue;
        // Strictly inside, or the same rows named by a longer pattern (never back and forth).
        const same = rowsIn[q].length === rowsIn[best].length;
        if (same && confirmed[q].len <= confirmed[best].len) continue;
        if (!rowsIn[q].every((i) => coveredIn[i] || inBest[i] === round)) continue;
        // A fresh mark per candidate, so rows of candidates tried before are not also set aside.
        const mark = ++subMark;
        for (const i of rowsIn[q]) inSub[i] = mark;
        // Ordinary: not even nominally shifted (the level that makes a pattern a suspect to mask). Too few
        // rows to pass the step-up level is not ordinary: a trigger written several times, whose rows only
        // sometimes hold two copies side by side, must not give way to "zq zq".
        if (residual(best, inSub, mark).p <= s.fdr) continue;
        if (sub < 0 || scoreOf[q] > scoreOf[sub]) sub = q;
      }
      if (sub >= 0) {
        best = sub;
        changed = true;
      }
    }
    alive.delete(best);
    kept.add(confirmed[best]);
    for (const i of rowsIn[best]) coveredIn[i] = 1;
    for (const i of rowsTr[best]) coveredTr[i] = 1;
  }
  // The greedy order can keep a pattern that only carries triggers kept after it (HTML markup on poisoned mails
  // whose four triggers each explain less alone): each kept pattern, latest first, must still show its shift on
  // the rows no other kept pattern carries, or the others explain it.
  const order = [...kept];
  for (let changed = true; changed; ) {
    changed = false;
    for (let x = order.length - 1; x >= 0; x--) {
      const j = confirmed.indexOf(order[x]);
      coveredIn.fill(0);
      coveredTr.fill(0);
      for (const other of order) {
        if (other === order[x]) continue;
        const o = confirmed.indexOf(other);
        for (const i of rowsIn[o]) coveredIn[i] = 1;
        for (const i of rowsTr[o]) coveredTr[i] = 1;
      }
      kept.delete(order[x]);
      if (residual(j).significant) kept.add(order[x]);
      else {
        order.splice(x, 1);
        changed = true;
      }
    }
  }
  // A longer pattern whose kept sub-pattern stands on its own is redundant ("cf the" beside "cf").
  const byKey = new Map<number, Mined>([...kept].map((c) => [c.key, c]));
  for (const c of [...kept]) {
    if (c.len === 0) continue;
    const subs = space.subKeys(c.firstRow, c.len, c.pos).map((k) => byKey.get(k));
    if (subs.some((sub) => sub && sub !== c && sub.label === c.label && kept.has(sub))) kept.delete(c);
  }
  return confirmed.filter((c) => kept.has(c));
}
