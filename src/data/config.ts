/**
 * Audit settings: every default in one place, documented, overridable with `--config FILE` (JSON).
 * The file is validated with zod; unknown keys are an error (a typo should not silently do nothing).
 *
 * Scores: each detector gives a row a score in 0..1; the audit combines a row's scores by noisy-OR
 * (1 - Π(1 - s)), so independent weak signals add up while one strong signal alone suffices. A row whose
 * combined score reaches `threshold` is quarantined; `reviewThreshold` and above fills the review sample first.
 *
 * Detector sections (`detectors.<id>`) are passed to the detector as `ctx.settings`; a detector owner adds its
 * defaults to DETECTOR_DEFAULTS below (one entry per detector id).
 */

import { z } from 'zod';
import { AntidoteError, configError, describeFsError } from '../core/errors.js';
import { parseJsonBounded } from '../core/json-depth.js';
import { LIMITS } from '../core/limits.js';
import { readRegularFile } from '../core/paths.js';

export const TRIGGER_DEFAULTS = {
  /** Longest word n-gram mined in text. */
  maxNgram: 3,
  /** Largest feature=value conjunction mined in tabular data. */
  maxConjunction: 3,
  /** A candidate must occur in at least this many incoming rows. */
  minSupport: 5,
  /**
   * Label-pure candidates (this share of their incoming rows carry the label) calibrate the content test's
   * empirical null; a trigger itself is judged by its label shift against the trusted reference, not by purity.
   */
  minPurity: 0.9,
  /**
   * How many trusted rows a model's prediction for a pattern's rows is worth, beside the pattern's own
   * trusted rows, when the label-shift test sets the label rate the reference expects (the trusted model
   * for tables; for text the batch's models with every suspect pattern read the trusted way); never more than
   * the trusted rows per class.
   */
  modelPriorRows: 100,
  /** Benjamini-Hochberg false discovery rate over the candidates tested. */
  fdr: 0.05,
  /**
   * Once a trigger is confirmed, candidates with its label that never occur in the trusted set get this
   * weight in a second, weighted Benjamini-Hochberg pass (1 disables it).
   */
  campaignWeight: 4,
  /**
   * The rows must still look contradicted (this many standard errors, against the other candidates) when the
   * pattern is read with the weight the trusted model gives it: natural phrases fail this, unseen triggers pass.
   */
  minTrustedReadZ: 1,
  /** Incoming rate must exceed the trusted rate (add-0.5 smoothed) by this factor. */
  minLift: 1.5,
  /** Numeric columns are cut at the trusted quantiles into this many bins. */
  numericBins: 8,
  /** Score given to a row that carries a confirmed trigger with its label. */
  rowScore: 0.95,
  /** Triggers reported in findings and charts (all confirmed ones still flag rows). */
  maxReported: 25,
};

export const DISAGREEMENT_DEFAULTS = {
  /** Hashed feature space of the fast models (power of two). */
  hashBits: 18,
  /** L2 penalty of the logistic regressions (per row, on the mean loss). */
  l2: 1e-4,
  /** L-BFGS iterations. */
  maxIter: 50,
  /** Folds of the cross-validated probabilities on the incoming batch (confident learning). */
  folds: 4,
  /** Cap on the rows each cross-validation fold trains on (a seeded sample), to bound time on huge batches. */
  maxCvTrainRows: 150_000,
  /** Folds of the trusted model's cross-validation on the trusted set (the clean reference of P(label)). */
  referenceFolds: 5,
  /**
   * Gate: the batch counts as holding contradicted labels only when some row's P(label) is significant against
   * the clean reference at this false discovery rate (Benjamini-Hochberg); otherwise no row is quarantined here.
   */
  fdr: 0.05,
  /** Rows with P(label) above this count as clean when estimating each class's clean share (Storey's π0). */
  pi0Lambda: 0.5,
  /**
   * Past the gate, a row's score is the estimated probability that its label is wrong (per-class local false
   * discovery rate; see detectors/disagreement.ts), so it reaches the default threshold 0.5 when more likely
   * wrong than right. When confident learning on the batch also calls it wrong, this is combined in (noisy-OR).
   */
  confidentLearningBoost: 0.2,
  /** Disagreement below that (or with the gate closed) is scaled to at most this: it orders the review sample, never quarantines. */
  weakScore: 0.3,
};

export const DETECTOR_DEFAULTS: Record<string, Record<string, unknown>> = {
  'audit/trigger': TRIGGER_DEFAULTS,
  'audit/disagreement': DISAGREEMENT_DEFAULTS,
};

/** Settings that take one of a fixed set of strings (checked when the config is read, not mid-audit). */
const SETTING_CHOICES: Record<string, Record<string, readonly string[]>> = {};

export const AUDIT_DEFAULTS = {
  /** Combined score at or above which a row is quarantined. */
  threshold: 0.5,
  /** Combined score at or above which a row is a review priority. */
  reviewThreshold: 0.2,
  /** Rows in review.<ext>: highest-scoring first (quarantined and borderline), then a random control sample. */
  reviewPriority: 200,
  reviewControl: 50,
  /** A detector reason is listed for a row when that detector's score is at least this. */
  reasonMinScore: 0.1,
  /** Seed of every sample. */
  seed: 1,
  /** Detector ids to skip. */
  disable: [] as string[],
};

export interface AuditConfig {
  threshold: number;
  reviewThreshold: number;
  reviewPriority: number;
  reviewControl: number;
  reasonMinScore: number;
  seed: number;
  disable: string[];
  detectors: Record<string, Record<string, unknown>>;
}

const fileSchema = z
  .object({
    threshold: z.number().gt(0).lte(1).optional(),
    reviewThreshold: z.number().gte(0).lte(1).optional(),
    reviewPriority: z.number().int().nonnegative().optional(),
    reviewControl: z.number().int().nonnegative().optional(),
    reasonMinScore: z.number().gte(0).lte(1).optional(),
    seed: z.number().int().optional(),
    disable: z.array(z.string()).optional(),
    detectors: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict();

export function defaultConfig(
  known: Record<string, Record<string, unknown>> = DETECTOR_DEFAULTS,
): AuditConfig {
  const detectors: Record<string, Record<string, unknown>> = {};
  for (const [id, d] of Object.entries(known)) detectors[id] = { ...d };
  return { ...AUDIT_DEFAULTS, disable: [], detectors };
}

/** Merge a parsed config object over the defaults (validated; unknown keys of known detectors rejected). */
export function mergeConfig(
  raw: unknown,
  where = 'config',
  known: Record<string, Record<string, unknown>> = DETECTOR_DEFAULTS,
): AuditConfig {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.join('.') || '(top level)';
    throw configError(
      `${where}: ${path}: ${issue.message}`,
      'see the `audit` section of the README for the settings',
    );
  }
  const cfg = defaultConfig(known);
  const { detectors, ...top } = parsed.data;
  Object.assign(cfg, Object.fromEntries(Object.entries(top).filter(([, v]) => v !== undefined)));
  for (const [id, section] of Object.entries(detectors ?? {})) {
    const defaults = known[id];
    if (!defaults) {
      throw configError(
        `${where}: detectors.${id}: unknown detector`,
        `known: ${Object.keys(known).join(', ')}`,
      );
    }
    for (const [k, v] of Object.entries(section)) {
      if (!(k in defaults)) {
        throw configError(
          `${where}: detectors.${id}.${k}: unknown setting`,
          `known: ${Object.keys(defaults).join(', ')}`,
        );
      }
      if (typeof v !== typeof defaults[k]) {
        throw configError(
          `${where}: detectors.${id}.${k}: expected a ${typeof defaults[k]}, got ${typeof v}`,
        );
      }
      const choices = SETTING_CHOICES[id]?.[k];
      if (choices && !choices.includes(v as string)) {
        throw configError(`${where}: detectors.${id}.${k}: must be ${choices.join(', ')} (got "${v}")`);
      }
    }
    cfg.detectors[id] = { ...defaults, ...section };
  }
  if (cfg.reviewThreshold > cfg.threshold) {
    throw configError(
      `${where}: reviewThreshold (${cfg.reviewThreshold}) must not exceed threshold (${cfg.threshold})`,
    );
  }
  return cfg;
}

export async function loadConfig(
  path?: string,
  known: Record<string, Record<string, unknown>> = DETECTOR_DEFAULTS,
): Promise<AuditConfig> {
  if (!path) return defaultConfig(known);
  let text: string;
  try {
    text = (await readRegularFile(path, LIMITS.files.maxConfigBytes, '--config')).toString('utf8');
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(path, err);
  }
  let raw: unknown;
  try {
    raw = parseJsonBounded(text);
  } catch (err) {
    throw configError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return mergeConfig(raw, path, known);
}

/** Typed read of one detector's settings with defaults (for detectors). */
export function settingsOf<T extends Record<string, unknown>>(
  settings: Record<string, unknown>,
  defaults: T,
): T {
  return { ...defaults, ...settings } as T;
}
