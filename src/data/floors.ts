/**
 * report.json `floors`: the smallest attack each detector of the audit could see in a batch
 * (computed by src/data/detectors/blind-spot.ts), and the same in plain words for the text summary and
 * the HTML report. Kept apart from the detector so that rendering a report loads no detector code.
 */

export const pc = (x: number) => `${x < 0.1 ? (100 * x).toFixed(1) : Math.round(100 * x)}%`;
export const num = (x: number) => x.toLocaleString('en-US');
/** "1 pattern", "2,000 patterns". */
export const patterns = (n: number) => `${num(n)} pattern${n === 1 ? '' : 's'}`;

/** Fewest flips that reach `level` (`rows`, a `share` of `accountRows`; null: none), for a median account. */
export interface LabelerFloor {
  rows: number | null;
  accountRows: number;
  share: number | null;
  level: number;
}

export interface TriggerFloor {
  kind: 'text' | 'tabular';
  /** Fewest rows with one label that one pattern needs (the most favourable label); null: none in this batch. */
  rows: number | null;
  share: number | null;
  byLabel: Record<string, number | null>;
  family: number;
  level: number;
  priorRows: number;
  /** Trusted rows of the most favourable pattern (0: a pattern the trusted set never holds). */
  trustedSupport: number;
  /** A batch of one class: the trusted rows of that class (its patterns' reference). */
  trustedClassRows?: number;
  /** A table this narrow (feature columns): a trigger of a value of each cannot be confirmed at all. */
  allColumns?: number;
}

/** report.json `floors`: the smallest attack each detector could see in this batch. */
export interface Floors {
  trustedRows: number;
  incomingRows: number;
  trigger?: TriggerFloor[];
  disagreement?: {
    /** Smallest share of random flips of which half are quarantined; null: not even at 30%. */
    flipShare: number | null;
    rows: number | null;
    sensitivity: number;
    /** The reference model's cross-validated accuracy on the trusted rows (the model labels are judged by). */
    trustedCvAccuracy: number;
    /** Which reference: the trusted rows alone, or the trusted rows and the batch cross-fitted by account. */
    reference: 'trusted' | 'cross-fit';
    trustedOnlyAccuracy: number;
    smallestClass: number;
  };
  /** Fewest flips one account of the median size must make in one cell (of its rows of one class)... */
  labelCells?: LabelerFloor & {
    /** ...and at random over all its rows (every cell at once). */
    record?: LabelerFloor;
  };
  localLabels?: { rows: number | null; k: number; level: number };
  drift?: { shiftSe: number | null; windows: number; series: number };
  contributors?: Array<{
    role: string;
    accountRows: number;
    suspectRows: number | null;
    disagreeRows: number | null;
    level: number;
  }>;
}

/** Each floor in plain words (the HTML report's table), whether or not it raised a finding. */
export function describeFloors(f: Floors): Array<{ detector: string; floor: string }> {
  const out: Array<{ detector: string; floor: string }> = [];
  // A null floor: no attack of that kind, however large, would be confirmed in this batch.
  const rows = (n: number | null, of: string) =>
    n === null ? `${of}: not seen at any count` : `${num(n)} ${of}`;
  for (const t of f.trigger ?? []) {
    out.push({
      detector: `Trigger mining (${t.kind})`,
      floor: `${rows(t.rows, 'rows carrying one pattern with one label')}${t.share !== null ? `, ${pc(t.share)} of the batch` : ''}; ${patterns(t.family)} tested`,
    });
  }
  const d = f.disagreement;
  if (d) {
    out.push({
      detector: 'Trusted-model disagreement',
      floor: `${d.flipShare === null || d.rows === null ? 'random flips: not half of them even on 30% of the batch' : `half of random flips on ${pc(d.flipShare)} of the batch (${num(d.rows)} rows)`}; ${pc(d.sensitivity)} of flips stand out; cross-validated accuracy ${pc(d.trustedCvAccuracy)}`,
    });
  }
  if (f.labelCells) {
    out.push({
      detector: 'Labelers per cell',
      floor: `${rows(f.labelCells.rows, 'flips by one account in one cell')}, for an account's typical ${num(f.labelCells.accountRows)} rows of one class`,
    });
    const r = f.labelCells.record;
    if (r)
      out.push({
        detector: 'Labelers over their whole record',
        floor: `${rows(r.rows, 'random flips by one account')}, for an account's typical ${num(r.accountRows)} rows`,
      });
  }
  if (f.localLabels) {
    out.push({
      detector: 'Targeted flips',
      floor: rows(f.localLabels.rows, `relabelled rows in one pocket (of ${f.localLabels.k + 1} neighbours)`),
    });
  }
  if (f.drift) {
    out.push({
      detector: 'Drift and conditioning',
      floor:
        f.drift.shiftSe === null
          ? 'no steady shift crosses within the batch'
          : `a steady shift of ${f.drift.shiftSe} standard errors in every one of ${f.drift.windows} windows (${num(f.drift.series)} series watched)`,
    });
  }
  for (const a of f.contributors ?? []) {
    out.push({
      detector: `Accounts (${a.role})`,
      floor: `${rows(a.suspectRows, 'suspect rows')}; ${rows(a.disagreeRows, 'contradicted labels')} (one account of the typical ${num(a.accountRows)} rows)`,
    });
  }
  return out;
}
