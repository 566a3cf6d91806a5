/**
 * Detector: more contradicted labels in the batch than clean data holds (availability noise).
 *
 * Random label noise spread over a batch (an availability attack, or a broken labelling step) can be far too
 * thin for any single row to stand out: with a reference model of 70% accuracy, a flipped row and a hard clean
 * row look alike, and audit/disagreement rightly quarantines neither. The batch as a whole still shows it.
 * Per class, the share of incoming rows whose P(label) under the reference falls at or below the lower
 * quartile of the clean rows' out-of-fold P(label) (the reference disagreement.ts calibrates) is compared with
 * the clean share there, pooled over classes, with the sampling error of both the batch and the trusted
 * reference (a 100-row trusted set knows its quartile only roughly). Both sides are read by the same fold
 * models, each row by one that never saw its content (disagreement.ts Reference.heldOut): a test of thousands
 * of rows at once sees any difference between two readings, and a model of every trusted row reads a clean
 * batch's copies of trusted content more surely than the folds read the trusted rows (in a table of one binary
 * feature, every row). Rows a confirmed trigger or a flagged
 * account's cell explains (lib/explained.ts) are left out. Every other row counts, copies included, on both
 * sides: a clean batch and the trusted set are samples of one table, so each row's chance of sitting below the
 * quartile is the same on both sides however often its content repeats. Counting each distinct (content, label)
 * once is not: a content whose label varies (passengers of one class, sex and age who did or did not survive)
 * shows both of its labels in a large batch and mostly one in a small trusted set, so a clean batch of a table
 * of copies read as label noise.
 * The finding is about the batch: it names how many wrong labels the excess implies at least (each wrong label
 * adds at most one row below the quartile beyond what a clean row would), and quarantines no row.
 */
import { ATLAS } from '../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { normalUpperTail } from '../stats/tests.js';
import {
  type ClassReference,
  classReference,
  MIN_REFERENCE_ROWS,
  TRUSTED_CV_KEY,
  type TrustedCv,
} from './disagreement.js';
import { unseenClassReason } from './lib/classes.js';
import { explainedRows } from './lib/explained.js';
import type { AuditContext, Detector, DetectorOutput } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/label-noise',
  title: 'More contradicted labels than clean data holds',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Label noise spread thinly over a batch (an availability attack through feedback, or a broken labelling step) degrades every model trained on it, yet no single row may stand out from the hard clean rows a reference model also gets wrong. The batch is judged as a whole: how many of its rows sit where only the least plausible quarter of clean labels sit, against the clean share there, with the sampling error of the trusted reference.',
};

/** The clean quantile the batch is compared at: where most wrong labels land and a quarter of clean ones do. */
const QUANTILE = 0.25;
/** Significance the excess must reach (one test per batch). */
const ALPHA = 0.001;
/** An excess of at least this share of the batch (lower confidence bound) holds the batch (high). */
const HIGH_SHARE = 0.02;

export interface LabelExcess {
  rows: number;
  below: number;
  expected: number;
  z: number;
  p: number;
  /** Lower 95% bound on the wrong labels the excess implies, and as a share of the rows. */
  wrongAtLeast: number;
  shareAtLeast: number;
}

/** The pooled excess of rows below each class's clean quartile; `use` marks the rows that count. */
export function labelExcess(
  pLabel: ArrayLike<number>,
  labels: Int32Array,
  refs: ClassReference[],
  use: Uint8Array,
): LabelExcess {
  const K = refs.length;
  const n = new Float64Array(K);
  const x = new Float64Array(K);
  const t = refs.map((r) => (r.sorted.length ? r.sorted[Math.floor(QUANTILE * (r.sorted.length - 1))] : -1));
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!use[i] || y < 0 || y >= K) continue;
    n[y]++;
    if (pLabel[i] <= t[y]) x[y]++;
  }
  let rows = 0;
  let below = 0;
  let expected = 0;
  let variance = 0;
  let headroom = 0;
  for (let y = 0; y < K; y++) {
    const m = refs[y].sorted.length;
    if (m < 5 || n[y] === 0) continue;
    let k = 0;
    while (k < m && refs[y].sorted[k] <= t[y]) k++;
    // The clean share at or below the quartile, shrunk half a row towards the middle.
    const ph = (k + 0.5) / (m + 1);
    rows += n[y];
    below += x[y];
    expected += n[y] * ph;
    variance += n[y] * ph * (1 - ph) + (n[y] * n[y] * ph * (1 - ph)) / m;
    headroom += n[y] * (1 - ph);
  }
  const sd = Math.sqrt(Math.max(variance, 1e-12));
  const z = (below - expected) / sd;
  const excessLow = Math.max(0, below - expected - 1.645 * sd);
  // Each wrong label adds at most (1 - ph) rows below the quartile beyond a clean row's share.
  const perWrong = rows ? headroom / rows : 1;
  const wrongAtLeast = perWrong > 0 ? excessLow / perWrong : 0;
  return {
    rows,
    below,
    expected,
    z,
    p: rows ? normalUpperTail(z) : 1,
    wrongAtLeast,
    shareAtLeast: rows ? wrongAtLeast / rows : 0,
  };
}

/** The clean reference per class: every trusted row's out-of-fold P(label). */
function cleanReference(t: TrustedCv, K: number): ClassReference[] {
  const per: number[][] = Array.from({ length: K }, () => []);
  for (let i = 0; i < t.labels.length; i++) per[t.labels[i]].push(t.cv[i * K + t.labels[i]]);
  return per.map(classReference);
}

export function run(ctx: AuditContext): DetectorOutput {
  const inc = ctx.incoming;
  const K = ctx.classes.length;
  const tcv = ctx.shared[TRUSTED_CV_KEY] as TrustedCv | undefined;
  if (!tcv || tcv.labels.length !== ctx.trusted.n) return { findings: [], rows: [] };
  const proba = tcv.incoming;
  const refs = cleanReference(tcv, K);
  const explained = explainedRows(ctx);
  const use = explained ? explained.map((e) => (e ? 0 : 1)) : new Uint8Array(inc.n).fill(1);
  const pLabel = new Float64Array(inc.n);
  for (let i = 0; i < inc.n; i++) pLabel[i] = proba[i * K + inc.labels[i]];
  const e = labelExcess(pLabel, inc.labels, refs, use);
  if (!(e.p <= ALPHA) || e.wrongAtLeast < 1) return { findings: [], rows: [], publish: { labelExcess: e } };
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const high = e.shareAtLeast >= HIGH_SHARE;
  return {
    findings: [
      makeFinding(
        meta,
        `${e.below} of ${e.rows} incoming rows carry a label the reference model finds as implausible as only the least plausible quarter of clean trusted labels, against about ${Math.round(e.expected)} expected from clean data (p = ${e.p.toExponential(1)}): at least about ${Math.round(e.wrongAtLeast)} labels (${pct(e.shareAtLeast)} of the batch) look wrong, too thinly spread for each to be singled out. ${high ? 'Random label noise of this size degrades any model trained on the batch: check how its labels were given before training on it.' : 'Check how the batch was labelled.'}`,
        {
          severity: high ? 'high' : 'medium',
          evidence: {
            rows: e.rows,
            belowCleanQuartile: e.below,
            expectedFromClean: Number(e.expected.toFixed(1)),
            z: Number(e.z.toFixed(2)),
            pValue: e.p,
            wrongAtLeast: Math.round(e.wrongAtLeast),
            shareAtLeast: Number(e.shareAtLeast.toFixed(4)),
          },
        },
      ),
    ],
    rows: [],
    publish: { labelExcess: e },
  };
}

export const detector: Detector = {
  meta,
  stage: 1,
  applies: (ctx) => ctx.classes.length >= 2 && ctx.trusted.n >= MIN_REFERENCE_ROWS,
  needs: (ctx) => (ctx.classes.length < 2 ? 'two classes' : `at least ${MIN_REFERENCE_ROWS} trusted rows`),
  cannotRun: unseenClassReason,
  run,
};
export default detector;
