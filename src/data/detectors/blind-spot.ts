/**
 * Detector: say when the audit is blind. Every detector tests its evidence at an error rate controlled over
 * many hypotheses, so below some size an attack cannot reach that level however cleanly it is planted: a
 * small trusted set makes the reference's expectation uncertain, a weak trusted model makes flips look like
 * its own mistakes, and a large family of candidates raises the bar for each. A clean verdict then means
 * "could not tell", and the user must know.
 *
 * After every other detector has run, this one reads what each published about its own test (the family
 * size, the level, the reference rates: `POWER_KEY` in each module) and asks that detector's own test
 * function (imported, never rewritten here) for the smallest attack it would reject as a lone discovery:
 *   - trigger mining: the fewest rows carrying one pattern, all with one label, whose content comes from
 *     the other classes (the trusted model's mean P(label) on such rows), for the label-shift test
 *     past lift pruning (liftOf), the label-shift test (stats/shift.ts labelShiftP, Bonferroni over labels)
 *     at Benjamini-Hochberg's level fdr / family, and the content test (contentZ, contentP), for the most
 *     favourable trusted support (from a pattern the trusted set never holds to one it holds often);
 *   - trusted-model disagreement: the smallest share of random flips of which the detector's own decision
 *     quarantines half, simulated on the trusted rows' out-of-fold probabilities (disagreement.ts flipFloor);
 *   - labelers per cell: the fewest flips one account of the median size must make in one cell
 *     (label-cells.ts cellP) to be rejected among every (account, cell) tested, and the fewest random flips
 *     over its whole record (every cell at once, the same cellP on its contradicted rows) among the accounts;
 *   - targeted flips: the smallest pocket of flipped rows whose z (local-labels.ts pocketZ, pocketP) passes
 *     Benjamini-Hochberg over the batch;
 *   - accounts: the fewest suspect or contradicted rows an account of the median size must send
 *     (contributors.ts accountP);
 *   - drift and conditioning: the smallest steady shift, in standard errors per window, that the CUSUM
 *     (stats/cusum.ts, the detector's own k and h) crosses within the batch's windows (reported only: what
 *     a standard error is worth differs per series).
 * The numbers go to report.json (`floors`); a detector whose floor lies beyond what an attack of the usual
 * size would reach raises one medium finding that says so and what to add.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { type Floors, type LabelerFloor, num, patterns, pc, type TriggerFloor } from '../floors.js';
import { cusum } from '../stats/cusum.js';
import { labelShiftP } from '../stats/shift.js';
import { binomialUpperTail } from '../stats/tests.js';
import { accountP, POWER_KEY as CONTRIBUTORS, type ContributorsPower } from './contributors.js';
import { POWER_KEY as DISAGREEMENT, type DisagreementPower } from './disagreement.js';
import { POWER_KEY as DRIFT, type DriftPower } from './drift.js';
import {
  cellP,
  flipContrast,
  POWER_KEY as LABEL_CELLS,
  type LabelCellsPower,
  RECORD_EFFECT,
} from './label-cells.js';
import { unseenClassReason } from './lib/classes.js';
import { POWER_KEY as LOCAL_LABELS, type LocalLabelsPower, pocketP, pocketZ } from './local-labels.js';
import { expectedTrustedRows, labelledByNature } from './triggers/trusted-power.js';
import {
  chosenLabelP,
  contentP,
  contentZ,
  liftOf,
  POWER_KEY as TRIGGER,
  type TriggerPower,
} from './triggers.js';
import type { AuditContext, Detector, DetectorOutput } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/blind-spot',
  title: 'Attacks too small for the audit to see',
  severity: 'medium',
  atlas: ATLAS.poisonData,
  rationale:
    'Each detector tests at a controlled false-discovery rate; with a small or weak trusted set, or a large ' +
    'family of candidates, an attack below some size cannot reach that level. The audit computes that ' +
    'smallest detectable attack from its own tests and says when it lies beyond what an attacker needs, so a ' +
    'clean verdict is not read as "no attack".',
};

/** When a detector is called blind: the smallest attack it sees is larger than these. */
export const BLIND = {
  /** A trigger planted on 1% of the batch is the textbook backdoor. */
  triggerShare: 0.01,
  /** Label flips: the disagreement test must catch half of the flips and see random flips at 10%. */
  flipSensitivity: 0.5,
  flipRate: 0.1,
  /** ...and learn each class from at least this many trusted rows. */
  smallestClass: 20,
  /** A labeler flipping more than half of what it sees of one class, or of all its rows, is not subtle. */
  labelerShare: 0.5,
};

/** Smallest k in [lo, hi] for which ok(k) holds, assuming it holds from some k on; null when none. */
export function smallest(lo: number, hi: number, ok: (k: number) => boolean): number | null {
  if (lo > hi || !ok(hi)) return null;
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (ok(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Per label y: the trusted model's mean P(y) on incoming rows labelled otherwise (content from other classes). */
function otherClassProba(ctx: AuditContext): Float64Array {
  const K = ctx.classes.length;
  const inc = ctx.incoming;
  const proba = ctx.shared.trustedProba;
  const out = new Float64Array(K);
  const n = new Float64Array(K);
  if (!proba || proba.length !== inc.n * K) {
    for (let i = 0; i < ctx.trusted.n; i++) out[ctx.trusted.labels[i]]++;
    return out.map((c) => Math.max(1e-3, c / Math.max(1, ctx.trusted.n)));
  }
  for (let i = 0; i < inc.n; i++) {
    for (let y = 0; y < K; y++) {
      if (inc.labels[i] === y) continue;
      out[y] += proba[i * K + y];
      n[y]++;
    }
  }
  return out.map((s, y) => Math.min(1 - 1e-3, Math.max(1e-3, n[y] ? s / n[y] : 1 / K)));
}

export function triggerFloor(ctx: AuditContext, p: TriggerPower, m: Float64Array): TriggerFloor {
  const K = ctx.classes.length;
  const level = p.fdr / p.family;
  const pRef = p.incomingRows / (p.incomingRows + p.trustedRows);
  const shareTr = new Float64Array(K);
  for (let i = 0; i < ctx.trusted.n; i++) shareTr[ctx.trusted.labels[i]] += 1 / ctx.trusted.n;
  // What the reference expects of a plant's rows: the trusted model's reading in a table, the batch model's
  // (the pattern read the trusted way) in text, as the detector sets it.
  const plant = p.kind === 'text' && p.content ? p.content.plant : m;
  const wc = p.withinClass;
  if (wc) return withinClassFloor(ctx, p, wc, p.content ? p.content.plant : m, level);
  /** Fewest plant rows with label y on a pattern the trusted set holds on nt rows (null: none). */
  const floorAt = (y: number, nt: number) => {
    // The pattern's trusted rows (and its natural incoming rows) carry y at the trusted set's own rate.
    const kt = Math.round(nt * shareTr[y]);
    const nNat = Math.round((nt * p.incomingRows) / Math.max(1, p.trustedRows));
    const kNat = Math.round(nNat * shareTr[y]);
    const seen = (k: number) => {
      // Pruned before any test: too little lift over the trusted set (a table: with the label).
      const lift =
        p.kind === 'tabular'
          ? liftOf(kNat + k, p.incomingRows, kt, p.trustedRows)
          : liftOf(nNat + k, p.incomingRows, nt, p.trustedRows);
      if (lift < p.minLift) return false;
      const pShift = chosenLabelP(
        labelShiftP(kNat + k, nNat + k, kt, nt, nNat * shareTr[y] + k * plant[y], p.priorRows),
        K,
      );
      if (pShift > level) return false;
      // Its rows with the label must stand out from the trusted set's where that set could show it.
      if (labelledByNature(kNat + k, kt, pRef, p.fdr)) return false;
      const c = p.content;
      if (!c) return true;
      // Content: the plant's rows read as their other classes do, its natural rows as the label's rows do.
      const tested = kNat + k;
      const mean = (kNat * c.mu[y] + k * c.plant[y]) / tested;
      const z = contentZ(c.mu[y], c.sd[y], mean, tested);
      if ((z - c.centreR) / c.scaleR < c.minTrustedReadZ) return false;
      const dfIn = nNat + k;
      const pOver = binomialUpperTail(dfIn, dfIn + nt, pRef);
      const expectedTrusted = expectedTrustedRows(dfIn + nt, p.trustedRows, p.incomingRows);
      return contentP((z - c.centre) / c.scale, pOver, expectedTrusted) <= level;
    };
    return smallest(p.minRows, Math.max(p.minRows, p.incomingRows), seen);
  };
  // The most favourable pattern: unseen by the trusted set (a rare token), or held by it on a few to many rows
  // (ordinary values that also occur naturally, whose trusted rows pin the rate down but whose natural
  // incoming rows dilute the plant); below the smallest of these no pattern of any support is confirmed.
  const supports = [0];
  for (let nt = 1; nt <= p.trustedRows / 2; nt *= 2) supports.push(nt);
  const byLabel: Record<string, number | null> = {};
  let best: number | null = null;
  let bestSupport = 0;
  for (let y = 0; y < K; y++) {
    // A label no trusted row carries is not mined (audit/unseen-label quarantines its rows, every one).
    if (shareTr[y] === 0) continue;
    let rowsY: number | null = null;
    for (const nt of supports) {
      const r = floorAt(y, nt);
      if (r === null || (rowsY !== null && r >= rowsY)) continue;
      rowsY = r;
      if (best === null || r < best) {
        best = r;
        bestSupport = nt;
      }
    }
    byLabel[ctx.classes[y]] = rowsY;
  }
  return {
    kind: p.kind,
    rows: best,
    share: best === null ? null : round(best / Math.max(1, p.incomingRows)),
    byLabel,
    family: p.family,
    level,
    priorRows: round(p.priorRows),
    trustedSupport: bestSupport,
    ...(p.allColumns ? { allColumns: p.allColumns } : {}),
  };
}

/**
 * The trigger floor of a batch of one class (triggers.ts, withinClass): a pattern must be over-represented among
 * the trusted rows of the class and sit on content unlike the class; the plant's rows read as the other
 * classes' content does.
 */
function withinClassFloor(
  ctx: AuditContext,
  p: TriggerPower,
  wc: NonNullable<TriggerPower['withinClass']>,
  plant: ArrayLike<number>,
  level: number,
): TriggerFloor {
  const y = wc.label;
  const nRef = wc.trustedRows;
  const nIn = p.incomingRows;
  const pRef = nIn / Math.max(1, nIn + nRef);
  const floorAt = (nt: number) => {
    const nNat = Math.round((nt * nIn) / Math.max(1, nRef));
    const seen = (k: number) => {
      const dfIn = nNat + k;
      if (liftOf(dfIn, nIn, nt, nRef) < p.minLift) return false;
      const pOver = binomialUpperTail(dfIn, dfIn + nt, pRef);
      if (pOver > level) return false;
      const c = p.content;
      if (!c) return true;
      const mean = (nNat * c.mu[y] + k * plant[y]) / dfIn;
      const z = contentZ(c.mu[y], c.sd[y], mean, dfIn);
      if ((z - c.centreR) / c.scaleR < c.minTrustedReadZ) return false;
      return contentP((z - c.centre) / c.scale, pOver, (dfIn + nt) * (1 - pRef)) <= level;
    };
    return smallest(p.minRows, Math.max(p.minRows, nIn), seen);
  };
  let best: number | null = null;
  let bestSupport = 0;
  for (let nt = 0; nt <= nRef / 2; nt = nt === 0 ? 1 : nt * 2) {
    const r = floorAt(nt);
    if (r !== null && (best === null || r < best)) {
      best = r;
      bestSupport = nt;
    }
  }
  return {
    kind: p.kind,
    rows: best,
    share: best === null ? null : round(best / Math.max(1, nIn)),
    byLabel: { [ctx.classes[y]]: best },
    family: p.family,
    level,
    priorRows: round(p.priorRows),
    trustedSupport: bestSupport,
    trustedClassRows: nRef,
    ...(p.allColumns ? { allColumns: p.allColumns } : {}),
  };
}

function labelCellsFloor(p: LabelCellsPower, incomingRows: number): NonNullable<Floors['labelCells']> {
  const n = Math.max(1, p.accountRows);
  const r = Math.min(0.999, Math.max(p.peerRate, 0.5 / Math.max(1, incomingRows)));
  const level = p.fdr / p.tests;
  const rows = smallest(
    p.minCellRows,
    n,
    (x) => x / n >= p.minRatio * r && cellP(x, n, r, p.rho, p.peerRows) <= level,
  );
  const out = { rows, accountRows: p.accountRows, share: rows === null ? null : round(rows / n), level };
  return p.record ? { ...out, record: recordFloor(p.record, p.fdr) } : out;
}

/**
 * The whole-record test, in flips: each flipped row adds flipContrast to the account's contradicted rows (it is
 * contradicted unless the model misreads it as its new label), over what its peers' rate predicts; the test
 * asks for an excess of at least RECORD_EFFECT of its rows in those units, then cellP at the level of one
 * discovery among the accounts tested.
 */
function recordFloor(p: NonNullable<LabelCellsPower['record']>, fdr: number): LabelerFloor {
  const n = Math.max(1, p.accountRows);
  const r = Math.min(0.999, p.rate);
  const c = flipContrast(r, p.classes);
  const level = fdr / p.tests;
  const rows = smallest(1, n, (f) => {
    const x = Math.ceil(n * r + f * c);
    return f / n >= RECORD_EFFECT && x <= n && cellP(x, n, r, p.rho, p.peerRows) <= level;
  });
  return { rows, accountRows: p.accountRows, share: rows === null ? null : round(rows / n), level };
}

function localLabelsFloor(p: LocalLabelsPower, m: Float64Array) {
  let best: number | null = null;
  for (const e of m) {
    if (e > p.maxExpected) continue;
    // A pocket of `size` flipped rows, each other's nearest: each sees `size` labels of its own among k + 1
    // where the model expects (k + 1) e; all `size` rows pass Benjamini-Hochberg together.
    const E = (p.k + 1) * e;
    const V = (p.k + 1) * e * (1 - e);
    const rows = smallest(
      1,
      p.k + 1,
      (size) => pocketP(pocketZ(size, E, V), p.mid, p.spread) <= (size * p.fdr) / p.rows,
    );
    if (rows !== null && (best === null || rows < best)) best = rows;
  }
  return { rows: best, k: p.k, level: p.fdr / p.rows };
}

/**
 * The smallest steady shift, in standard errors per window, that the drift CUSUM (stats/cusum.ts, with the
 * detector's k and h) crosses within the batch's windows and that, pooled over every window, reaches the
 * confirming z; a creep that starts at zero needs about twice as much by its last window.
 */
function driftFloor(p: DriftPower) {
  const ok = (hundredths: number) => {
    const d = hundredths / 100;
    return (
      cusum(new Float64Array(p.windows).fill(d), p.k, p.h).firstCrossing >= 0 &&
      d * Math.sqrt(p.windows) >= p.zCrit
    );
  };
  const at = smallest(1, 2000, ok);
  return { shiftSe: at === null ? null : at / 100, windows: p.windows, series: p.series };
}

function contributorsFloor(p: ContributorsPower) {
  const n = p.accountRows;
  const level = p.fdr / p.tests;
  const floorAt = (p0: number | undefined) =>
    p0 === undefined || !(n > 0)
      ? null
      : smallest(1, n, (x) => {
          const t = accountP(x, n, p0, p);
          return t.ok && t.p <= level;
        });
  return {
    role: p.role,
    accountRows: n,
    suspectRows: floorAt(p.suspectRate),
    disagreeRows: floorAt(p.disagreeRate),
    level,
  };
}

export function floorsOf(ctx: AuditContext): Floors {
  const sh = ctx.shared;
  const floors: Floors = { trustedRows: ctx.trusted.n, incomingRows: ctx.incoming.n };
  const m = otherClassProba(ctx);
  const trig = sh[TRIGGER] as TriggerPower[] | undefined;
  if (trig?.length) floors.trigger = trig.map((p) => triggerFloor(ctx, p, m));
  const dis = sh[DISAGREEMENT] as DisagreementPower | undefined;
  if (dis) {
    floors.disagreement = {
      flipShare: dis.flipFloor === null ? null : round(dis.flipFloor),
      rows: dis.flipFloor === null ? null : Math.ceil(dis.flipFloor * ctx.incoming.n),
      sensitivity: round(dis.power.sensitivity),
      trustedCvAccuracy: round(dis.accuracy),
      reference: dis.kind,
      trustedOnlyAccuracy: round(dis.trustedAccuracy),
      smallestClass: dis.power.smallestClass,
    };
  }
  const cells = sh[LABEL_CELLS] as LabelCellsPower | undefined;
  if (cells) floors.labelCells = labelCellsFloor(cells, ctx.incoming.n);
  const local = sh[LOCAL_LABELS] as LocalLabelsPower | undefined;
  if (local) floors.localLabels = localLabelsFloor(local, m);
  const drift = sh[DRIFT] as DriftPower | undefined;
  if (drift) floors.drift = driftFloor(drift);
  const contrib = sh[CONTRIBUTORS] as ContributorsPower[] | undefined;
  if (contrib?.length) floors.contributors = contrib.map(contributorsFloor);
  return floors;
}

/** One medium finding per detector whose floor lies beyond an attack of the usual size. */
export function blindFindings(ctx: AuditContext, f: Floors): Finding[] {
  const out: Finding[] = [];
  const nT = f.trustedRows;
  const nI = f.incomingRows;
  const d = f.disagreement;
  if (
    d &&
    (d.sensitivity < BLIND.flipSensitivity ||
      d.flipShare === null ||
      d.flipShare > BLIND.flipRate ||
      d.smallestClass < BLIND.smallestClass)
  ) {
    const need =
      d.smallestClass < BLIND.smallestClass
        ? `at least ${BLIND.smallestClass * 5} reviewed rows per class`
        : `more reviewed rows (${nT} now) or features that predict the label better`;
    out.push(
      makeFinding(
        meta,
        `Label flips spread over the batch can pass unseen: the reference model's cross-validated accuracy is ${pc(d.trustedCvAccuracy)} on ${nT} trusted rows (smallest class ${d.smallestClass}${d.reference === 'cross-fit' ? `; with the batch cross-fitted beside them, ${pc(d.trustedOnlyAccuracy)} from the trusted rows alone` : ''}), so ${d.sensitivity < BLIND.flipSensitivity ? 'only ' : ''}${pc(d.sensitivity)} of flipped labels would stand out from its own mistakes, and ${d.flipShare === null || d.rows === null ? 'judged against how its reading of clean labels varies, not even half of random flips on 30% of a batch like this one would be quarantined' : `half of random flips are quarantined only from about ${pc(d.flipShare)} of a batch like this one (${num(d.rows)} rows)`}; to see them, give the trusted set ${need}${f.labelCells ? ' (flips concentrated in a labeler or account are tested against its peers apart: audit/label-cells)' : ''}.`,
        {
          evidence: {
            detector: 'audit/disagreement',
            trustedCvAccuracy: d.trustedCvAccuracy,
            flipSensitivity: d.sensitivity,
            minFlipRate: d.flipShare,
            floorRows: d.rows,
            smallestClass: d.smallestClass,
            trustedRows: nT,
          },
        },
      ),
    );
  }
  for (const t of f.trigger ?? []) {
    if (t.allColumns)
      out.push(
        makeFinding(
          meta,
          `Backdoor triggers made of every column can pass unseen: the table has ${t.allColumns} feature column${t.allColumns === 1 ? '' : 's'}, so a trigger made of a value of each leaves no other content to show that its rows' labels were changed, and a region of the table labelled one way is what such a table holds by nature; such a pattern is never confirmed. To see them, give the audit the other columns the rows have, or review rows in the regions that matter and add them to the trusted set.`,
          { evidence: { detector: 'audit/trigger', kind: t.kind, featureColumns: t.allColumns } },
        ),
      );
    if (t.rows !== null && t.rows <= BLIND.triggerShare * nI) continue;
    const what =
      t.kind === 'text'
        ? 'a text pattern (word, phrase or shape)'
        : 'a tabular pattern (a combination of column values)';
    const floor =
      t.rows === null || t.rows > nI
        ? `more rows with one label than this batch of ${num(nI)} holds`
        : `at least ${num(t.rows)} rows with one label (${pc(t.share ?? 0)} of this batch)`;
    const labels = Object.entries(t.byLabel)
      .map(([label, rows]) => `${label}: ${rows === null ? 'none' : num(rows)}`)
      .join(', ');
    out.push(
      makeFinding(
        meta,
        `Backdoor triggers can pass unseen: with ${num(nT)} trusted rows${t.trustedClassRows !== undefined ? ` (${num(t.trustedClassRows)} of them of the batch's only class, the reference a batch of one class is compared with)` : ''} and ${num(nI)} incoming, ${what} needs ${floor} to be seen by trigger mining at the audit's false-discovery rate (${patterns(t.family)} tested); smaller plants pass. To see them, add reviewed rows to the trusted set (${num(nT)} now) or audit larger batches.`,
        {
          location: { column: t.kind === 'text' ? ctx.roles.text : undefined },
          evidence: {
            detector: 'audit/trigger',
            kind: t.kind,
            floorRows: t.rows,
            floorShare: t.share,
            floorRowsByLabel: labels,
            patternsTested: t.family,
            level: t.level,
            priorRows: t.priorRows,
            trustedRows: nT,
          },
        },
      ),
    );
  }
  const c = f.labelCells;
  const blindAt = (x: { share: number | null }) => x.share === null || x.share > BLIND.labelerShare;
  const cellBlind = c !== undefined && blindAt(c);
  const recordBlind = c?.record !== undefined && blindAt(c.record);
  if (c && (cellBlind || recordBlind)) {
    const clauses: string[] = [];
    if (cellBlind)
      clauses.push(
        `a labeler or account sending the typical ${num(c.accountRows)} rows the trusted model reads as one class ${
          c.rows === null
            ? 'cannot be seen however many of them it flips'
            : `must flip at least ${num(c.rows)} of them (${pc(c.share ?? 0)}) from one class to another to be seen`
        }`,
      );
    if (recordBlind && c.record)
      clauses.push(
        `${cellBlind ? 'one' : 'a labeler or account'} flipping at random over the typical ${num(c.record.accountRows)} rows it sends ${
          c.record.rows === null
            ? 'cannot be seen however many of them it flips'
            : `must flip at least ${num(c.record.rows)} of them (${pc(c.record.share ?? 0)}) to be seen`
        }`,
      );
    out.push(
      makeFinding(
        meta,
        `Rogue labelers can pass unseen: ${clauses.join('; ')}. To see subtler ones, audit larger batches per labeler or add reviewed rows so the trusted model reads classes better.`,
        {
          evidence: {
            detector: 'audit/label-cells',
            floorRows: c.rows,
            floorShare: c.share,
            accountRows: c.accountRows,
            level: c.level,
            ...(c.record
              ? {
                  recordFloorRows: c.record.rows,
                  recordFloorShare: c.record.share,
                  recordAccountRows: c.record.accountRows,
                }
              : {}),
          },
        },
      ),
    );
  }
  const l = f.localLabels;
  if (l && l.rows === null) {
    out.push(
      makeFinding(
        meta,
        `Targeted flips can pass unseen: no pocket of up to ${l.k + 1} relabelled rows around one point stands out from how labels clump in this batch under the trusted model. To see them, add reviewed rows near the inputs that matter, or features that predict the label better.`,
        { evidence: { detector: 'audit/local-labels', floorRows: null, neighbours: l.k } },
      ),
    );
  }
  for (const a of f.contributors ?? []) {
    if (a.suspectRows !== null) continue;
    out.push(
      makeFinding(
        meta,
        `Campaign accounts can pass unseen: a ${a.role} account sending the typical ${a.accountRows} rows cannot stand out from its peers however many of its rows are suspect. To see campaigns, audit batches with more rows per ${a.role}.`,
        {
          evidence: {
            detector: 'audit/contributors',
            role: a.role,
            accountRows: a.accountRows,
            floorRows: null,
          },
        },
      ),
    );
  }
  return out;
}

export function run(ctx: AuditContext): DetectorOutput {
  const floors = floorsOf(ctx);
  return { findings: blindFindings(ctx, floors), rows: [], publish: { floors } };
}

const round = (x: number) => Number(x.toFixed(4));

export const detector: Detector = {
  meta,
  stage: 2,
  applies: (ctx) => ctx.classes.length >= 2,
  needs: () => 'two classes',
  cannotRun: unseenClassReason,
  run,
};
