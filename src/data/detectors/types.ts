/**
 * Contract between the audit pipeline (src/data/audit.ts) and one detector module
 * (src/data/detectors/<name>.ts). Adding a detector = one module + one line in detectors/index.ts.
 * Detectors are pure analyses: they never print and never touch the file system.
 *
 * The audit loads both tables through DuckDB and hands detectors column-oriented, typed views.
 * Row numbers index the incoming batch in file order (0..n-1). Two more parts of the contract:
 *   - `Detector.defaults` (optional): the detector's documented default settings. The audit validates
 *     `--config` sections against it (unknown keys are an error) and passes the merged object as
 *     `ctx.settings` (the detector's own section, not keyed by id).
 *   - Trusted and incoming `Categorical`s of the same column share one `values` dictionary (same code =
 *     same value on both sides). Rows whose label is empty are not in the Dataset (they are quarantined).
 */
import type { Finding } from '../../core/finding.js';
import type { RuleMeta } from '../../core/rule.js';

export interface AuditRoles {
  label: string;
  id?: string;
  text?: string;
  features: string[];
  source?: string;
  labeler?: string;
  time?: string;
  embeddings?: string;
}

/** A categorical column: dictionary codes (-1 = missing) and the dictionary. */
export interface Categorical {
  codes: Int32Array;
  values: string[];
}

/** One table (trusted reference or incoming batch), column-oriented. */
export interface Dataset {
  n: number;
  /** Row ids: the --id column as strings, or the 1-based row number. */
  ids: string[];
  /** Label codes into `AuditContext.classes` (shared by trusted and incoming). */
  labels: Int32Array;
  /** Raw text of the --text column (when given). */
  text?: string[];
  /** Numeric features; NaN = missing. */
  numeric: Map<string, Float64Array>;
  /** Categorical features (strings, booleans, low-cardinality). */
  categorical: Map<string, Categorical>;
  source?: Categorical;
  labeler?: Categorical;
  /** --time as epoch milliseconds (NaN = missing). */
  time?: Float64Array;
  /** --embeddings: n × dim, row-major. */
  embeddings?: { data: Float32Array; dim: number };
}

/** What every detector can read. `shared` is filled in stage order (see Detector.stage). */
export interface AuditContext {
  trusted: Dataset;
  incoming: Dataset;
  roles: AuditRoles;
  /** Class names; label codes index into this. */
  classes: string[];
  /** Settings for the running detector: its own section (its `defaults` merged with --config), not keyed by id. */
  settings: Record<string, unknown>;
  shared: {
    /** P(class | x) from a model fit on the trusted set, incoming rows × classes (stage 1). */
    trustedProba?: Float32Array;
    /**
     * P(class | x) from the reference labels are judged by (stage 1, disagreement): the trusted model, or the
     * cross-fitted model of the trusted rows and the batch when it predicts the trusted labels better
     * (learn/reference.ts). Incoming rows × classes.
     */
    referenceProba?: Float32Array;
    /** 1 for incoming rows that carry a confirmed trigger with its label (stage 1, before disagreement). */
    triggerRows?: Uint8Array;
    /**
     * The shared models' settings (hashBits, l2, maxIter, folds, maxCvTrainRows): the disagreement section of
     * the config, whichever detector fits the models first.
     */
    modelSettings?: Partial<{
      hashBits: number;
      l2: number;
      maxIter: number;
      folds: number;
      maxCvTrainRows: number;
    }>;
    /** Per-row suspicion so far (max of earlier detectors' scores), for aggregating detectors (stage 2). */
    suspicion?: Float32Array;
    /** Free-form values a detector publishes for later ones. */
    [key: string]: unknown;
  };
  /** Deterministic seed for any sampling. */
  seed: number;
}

export interface RowFlag {
  /** Incoming row number. */
  row: number;
  /** 0..1: how strongly this detector suspects the row. */
  score: number;
  /** Short reason shown in `antidote_reasons`, e.g. `trigger "cf" (label 1)`. */
  reason: string;
}

export interface DetectorOutput {
  findings: Finding[];
  rows: RowFlag[];
  /** Data for report.html charts (small, JSON-serialisable), keyed by chart name. */
  charts?: Record<string, unknown>;
  /** Values published for later stages (merged into ctx.shared). */
  publish?: Record<string, unknown>;
}

export interface Detector {
  meta: RuleMeta;
  /** Documented default settings (validated against --config; merged result passed as ctx.settings). */
  defaults?: Record<string, unknown>;
  /** 1: independent detectors (triggers, disagreement, drift, duplicates, representations); 2: aggregators (contributors). */
  stage: 1 | 2;
  /** True when the detector can run with the roles given (e.g. representations needs embeddings). */
  applies(ctx: AuditContext): boolean;
  /** What `applies` found missing, in plain words (shown as the reason: "needs a --time column"). */
  needs?(ctx: AuditContext): string;
  /**
   * Why the detector cannot judge this batch although its roles are there (e.g. a test that needs labels to
   * vary within the batch, given a batch of one class); the audit then skips it and shows the reason.
   */
  cannotRun?(ctx: AuditContext): string | undefined;
  /**
   * Start, before any detector runs, the model fits this detector will ask for (learn/context.ts): they run on
   * the second thread while the first reads and counts. Only time changes, never a result.
   */
  prefetch?(ctx: AuditContext): void;
  run(ctx: AuditContext): DetectorOutput | Promise<DetectorOutput>;
}
