/**
 * The guard profile: everything `antidote guard proxy|replay` needs to watch one promoted model, fitted once by
 * `antidote guard fit` on the trusted set. Stable interface (imported by the proxy and replay commands):
 *
 *   GuardProfile          the document (format "antidote-guard-profile", version 1), checked with ProfileSchema
 *   readProfile(path, {model digest?})  parse + validate; a bad, foreign or other-model profile throws a
 *                         one-line AntidoteError (exit 2)
 *   serializeProfile(p) / writeProfile(path, p)  JSON text; written to a temporary name and renamed
 *   OutputDistribution    n, classShares[k] (share of predicted classes), histograms[k][bins] (counts of each
 *                         class's probability in `bins` equal-width bins over [0, 1]); computed by
 *                         outputDistribution() in ./distribution.ts, the same function the proxy uses per window
 *   SliceRule             a machine-readable gate slice (./slices.ts: sliceMatches(rule, batch, row))
 *   KnownTrigger          a trigger named by an audit or gate report (./triggers.ts: triggerPresent)
 *   thresholds.checks     per instance check id: the calibrated threshold and the false-alarm rate it was set to
 *   occlusion             guard/occlusion's settings, the trusted values it substitutes and its reference model
 *                         (absent in profiles fitted before the check existed: the check then says to fit again)
 *
 * Numeric arrays that can be large (class precision matrices, reference activations) are stored as base64 of
 * little-endian Float32 (`f32`), decoded with decodeF32().
 */
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AntidoteError, describeFsError, inputError } from '../core/errors.js';
import { parseJsonBounded } from '../core/json-depth.js';
import { readRegularFile } from '../core/paths.js';

export const PROFILE_FORMAT = 'antidote-guard-profile';
export const PROFILE_VERSION = 1;

/**
 * Share of the false-alarm rate the calibrated checks may spend together: each threshold holds its share only with
 * 90% confidence and production traffic is never exactly the trusted set, so a margin keeps the measured rate of
 * the checks combined under the rate asked for. Each trigger guard/learned-trigger learns may flag at most the
 * rest of the rate, measured on the held trusted rows.
 */
export const FPR_MARGIN = 0.8;
/** A profile holds reference activations and a perturbation pool; 256 MiB is far above any real one. */
export const MAX_PROFILE_BYTES = 256 * 1024 * 1024;

/** Ids of the per-instance checks; each is a module in src/guard/checks/. */
export const CHECK_IDS = [
  'guard/known-trigger',
  'guard/activation',
  'guard/strip',
  'guard/occlusion',
  'guard/learned-trigger',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const name = z.string().min(1).max(1024);

export const SliceRuleSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('eq'), column: name, value: z.string().max(4096) }),
  z.strictObject({ op: z.literal('missing'), column: name }),
  z.strictObject({ op: z.literal('range'), column: name, lo: finite.nullable(), hi: finite.nullable() }),
  z.strictObject({ op: z.literal('contains'), column: name, token: z.string().min(1).max(256) }),
]);
export type SliceRule = z.infer<typeof SliceRuleSchema>;

export const OutputDistributionSchema = z.strictObject({
  n: z.number().int().min(0),
  classShares: z.array(finite),
  histograms: z.array(z.array(z.number().int().min(0))),
});
export type OutputDistribution = z.infer<typeof OutputDistributionSchema>;

export const SliceDistributionSchema = z.strictObject({
  text: z.string().max(4096),
  rule: SliceRuleSchema,
  distribution: OutputDistributionSchema,
});
export type SliceDistribution = z.infer<typeof SliceDistributionSchema>;

const BinSchema = z.strictObject({ lo: finite, hi: finite.optional() });

export const KnownTriggerSchema = z.strictObject({
  /** Column the trigger lives in: a text column (token or phrase) or a tabular column (value). */
  column: name,
  kind: z.enum(['token', 'value']),
  /** A token or phrase (lower-case, single spaces) or a value. */
  value: z.string().min(1).max(4096),
  /** A numeric bin [lo, hi) the value stands for (the audit's `age in [37, 45)`; `value` is its lower edge). */
  bin: BinSchema.optional(),
  /** Further column = value conditions of a tabular conjunction trigger. */
  also: z
    .array(z.strictObject({ column: name, value: z.string().max(4096), bin: BinSchema.optional() }))
    .optional(),
  /** audit or gate report; `learned`: confirmed at run time by guard/learned-trigger (never in a profile file). */
  origin: z.enum(['audit', 'gate', 'learned']),
  /** The class the report said the trigger pushes toward, when it said. */
  target: z.string().optional(),
  /** Share of trusted rows that already contain it; a trigger above the false-alarm rate is disabled. */
  trustedRate: finite,
  disabled: z.string().optional(),
});
export type KnownTrigger = z.infer<typeof KnownTriggerSchema>;

const f32 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

export const LayerProfileSchema = z.strictObject({
  /** Tensor name in the ONNX graph (exposed as an extra output at run time). */
  name,
  dim: z.number().int().min(1),
  /** Per class: rows seen, mean vector and the inverse of its Ledoit-Wolf shrunk covariance (f32, dim × dim). */
  classes: z.array(
    z.strictObject({
      count: z.number().int().min(0),
      mean: z.array(finite),
      precision: f32,
      shrinkage: finite,
    }),
  ),
  /** Per-dimension scale used for nearest-neighbour distances (standard deviations of the fit rows). */
  scale: z.array(finite),
  /** Reference activations of the fit rows (f32, rows × dim, already divided by `scale`) and their class. */
  reference: z.strictObject({
    rows: z.number().int().min(0),
    vectors: f32,
    classes: z.array(z.number().int()),
  }),
  /** Divisors turning each distance into a comparable score (their 99th percentile on calibration rows). */
  norm: z.strictObject({ mahalanobis: finite, knn: finite, disagreement: finite }),
  /**
   * Sequence layers: the distinct position vectors (per-word vectors) of the fit rows (f32, rows × d, at most
   * 20,000, seeded sample beyond) and the divisor of the distance to the nearest one.
   */
  positions: z
    .strictObject({ d: z.number().int().min(1), rows: z.number().int().min(1), vectors: f32, norm: finite })
    .optional(),
});
export type LayerProfile = z.infer<typeof LayerProfileSchema>;

export const ThresholdSchema = z.strictObject({
  threshold: finite,
  /** The false-alarm rate this check was calibrated to (the profile's rate split across calibrated checks). */
  fpr: finite,
  calibrationRows: z.number().int().min(0),
  /** Share of calibration rows above the threshold. */
  observedFpr: finite,
  /** Per predicted class (index), when the check is calibrated class by class; `threshold` is then their maximum. */
  perClass: z.array(finite).optional(),
  /**
   * The false-alarm rate to expect on traffic like the trusted set: `fpr` where the calibration rows could hold it
   * or the tail of their scores was fitted to reach it (`extrapolated`), 1 / (rows + 1) of a class where they were
   * too few even for that and the threshold sits just above the largest score.
   */
  expectedFpr: finite.optional(),
  /**
   * Some threshold lies beyond the largest calibration score, read from a generalized Pareto tail fitted to the
   * top scores (tail.ts): its rate is an estimate the calibration rows could not measure.
   */
  extrapolated: z.boolean().optional(),
  /**
   * Per predicted class, just above the largest calibration score, where some class's threshold was extrapolated
   * beyond it: what a score must pass to be unlike every trusted row, which is enough to nominate a pattern for
   * guard/learned-trigger's own test, not to flag.
   */
  perClassSeen: z.array(finite).optional(),
  /** Calibration rows per predicted class, when calibrated class by class. */
  classRows: z.array(z.number().int().min(0)).optional(),
});
export type Threshold = z.infer<typeof ThresholdSchema>;

const cell = z.union([z.string().max(100_000), finite, z.null()]);

/** guard/occlusion (checks/occlusion.ts): how instances are occluded and the reference fitted on trusted labels. */
export const OcclusionProfileSchema = z.strictObject({
  /** Longest run of words removed from a text column at once. */
  maxSpan: z.number().int().min(1).max(64),
  /** A removed run holds at most this share of the text's words (at least one word). */
  maxShare: z.number().gt(0).max(1),
  /** Trusted values substituted for each value of a non-text column. */
  replacements: z.number().int().min(1).max(64),
  /** Copies of one instance at most (long texts: the spans' start positions are thinned out). */
  maxCopies: z.number().int().min(1).max(100_000),
  /** Non-text columns: trusted values to substitute (a seeded sample of fit rows, repeats kept). */
  values: z.record(name, z.array(cell)),
  /** Logistic regression on hashed words and bigrams (text) and one-hot values or bins, trusted labels. */
  reference: z.strictObject({
    hashBits: z.number().int().min(8).max(24),
    /** Cut points of each numeric column's bins. */
    edges: z.record(name, z.array(finite)),
    /** Hashed features with a weight (f32 of integers), their weights (f32, buckets × outputs), the biases. */
    buckets: f32,
    weights: f32,
    bias: z.array(finite).min(1),
    trainedRows: z.number().int().min(1),
  }),
  /**
   * Held trusted rows the deciding part of an instance is written into (checks/transplant.ts), the promoted
   * model's probabilities of each (row-major, rows × classes), and how many of them one candidate part is tried on.
   * Absent in profiles fitted before the transplant step: the check then asks for a new fit.
   */
  hosts: z
    .strictObject({
      rows: z.number().int().min(1),
      columns: z.record(name, z.array(cell)),
      probs: z.array(finite),
      perCandidate: z.number().int().min(1).max(1024),
    })
    .optional(),
});
export type OcclusionProfile = z.infer<typeof OcclusionProfileSchema>;

export const ProfileSchema = z.strictObject({
  format: z.literal(PROFILE_FORMAT),
  version: z.literal(PROFILE_VERSION),
  tool: z.strictObject({ name: z.string(), version: z.string() }),
  createdAt: z.string(),
  model: z.strictObject({
    kind: z.enum(['onnx', 'http']),
    source: z.string(),
    /** sha256:<hex> of the ONNX file; for an endpoint, of its URL. */
    digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    /** Columns feeding a single 2-D float input, when the model takes one. */
    features: z.array(name).optional(),
  }),
  /** Feature columns sent to the model (label and id excluded), with their type. */
  inputs: z.array(z.strictObject({ name, type: z.enum(['number', 'string']), text: z.boolean() })),
  label: name,
  classes: z.array(z.string()).min(2),
  trusted: z.strictObject({
    path: z.string(),
    digest: z.string(),
    rows: z.number().int().min(0),
    fitRows: z.number().int().min(0),
    calibrationRows: z.number().int().min(0),
  }),
  outputs: z.strictObject({
    bins: z.number().int().min(2).max(1000),
    overall: OutputDistributionSchema,
    slices: z.array(SliceDistributionSchema),
  }),
  triggers: z.array(KnownTriggerSchema),
  activation: z
    .strictObject({
      layers: z.array(LayerProfileSchema).min(1),
      k: z.number().int().min(1),
      /** The extra outputs were checked not to change the model's probabilities on these rows. */
      verified: z.strictObject({ rows: z.number().int().min(1), maxAbsDiff: finite }),
    })
    .optional(),
  strip: z
    .strictObject({
      perturbations: z.number().int().min(2).max(1000),
      /** Share of an instance's words (text) or features (tabular) replaced from a pool row. */
      mix: z.number().min(0).max(1),
      /** Held trusted rows perturbations draw from (feature columns only). */
      pool: z.record(name, z.array(cell)),
      poolRows: z.number().int().min(1),
      /** The model's predicted class of each pool row (copies of an instance mix in rows of other classes). */
      poolClasses: z.array(z.number().int().min(0)),
    })
    .optional(),
  occlusion: OcclusionProfileSchema.optional(),
  thresholds: z.strictObject({
    fpr: finite,
    checks: z.partialRecord(z.enum(CHECK_IDS), ThresholdSchema),
  }),
  /** Checks that could not be fitted, with the reason (e.g. activation on an HTTP-only model). */
  skipped: z.partialRecord(z.enum(CHECK_IDS), z.string()),
});
export type GuardProfile = z.infer<typeof ProfileSchema>;

export function encodeF32(values: ArrayLike<number>): string {
  const a = Float32Array.from(values as ArrayLike<number>);
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function decodeF32(b64: string, expected?: number, what = 'array'): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % 4 !== 0) throw inputError(`guard profile: ${what} is not a float32 array`);
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  if (expected !== undefined && out.length !== expected)
    throw inputError(`guard profile: ${what} has ${out.length} values, expected ${expected}`);
  return out;
}

export function serializeProfile(p: GuardProfile): string {
  return `${JSON.stringify(p)}\n`;
}

/** Write a profile atomically (the caller has checked the output path and --force). */
export async function writeProfile(path: string, p: GuardProfile): Promise<void> {
  await writeFileAtomic(path, serializeProfile(ProfileSchema.parse(p)));
}

export interface ReadOptions {
  /** When the model is given too: its digest must be the profile's. */
  modelDigest?: string;
  /** Flag name for messages (default --profile). */
  flag?: string;
}

/** Read and validate a profile. Every problem is one line (exit 2): not JSON, not a profile, wrong model. */
export async function readProfile(path: string, opts: ReadOptions = {}): Promise<GuardProfile> {
  const flag = opts.flag ?? '--profile';
  let text: string;
  try {
    text = (await readRegularFile(path, MAX_PROFILE_BYTES, flag)).toString('utf8');
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw describeFsError(path, err);
  }
  let doc: unknown;
  try {
    doc = parseJsonBounded(text);
  } catch {
    throw inputError(`${flag} ${path} is not valid JSON`, 'give the file written by `antidote guard fit`');
  }
  return parseProfile(doc, path, opts);
}

export function parseProfile(doc: unknown, path: string, opts: ReadOptions = {}): GuardProfile {
  const flag = opts.flag ?? '--profile';
  const rec = doc as Record<string, unknown> | null;
  if (!rec || typeof rec !== 'object' || rec.format !== PROFILE_FORMAT)
    throw inputError(
      `${flag} ${path} is not a guard profile`,
      'give the file written by `antidote guard fit`',
    );
  if (rec.version !== PROFILE_VERSION)
    throw inputError(
      `${flag} ${path} is a guard profile of version ${String(rec.version)}; this antidote reads version ${PROFILE_VERSION}`,
      'fit the profile again with this version',
    );
  const parsed = ProfileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw inputError(
      `${flag} ${path} is not a valid guard profile: ${issue.path.join('.') || '(top)'} ${issue.message}`,
      'fit the profile again with `antidote guard fit`',
    );
  }
  const p = parsed.data;
  const k = p.classes.length;
  const bad = (what: string) =>
    inputError(`${flag} ${path} is not a valid guard profile: ${what}`, 'fit it again');
  const checkDist = (d: OutputDistribution, what: string) => {
    if (d.classShares.length !== k || d.histograms.length !== k)
      throw bad(`${what} does not have ${k} classes`);
    for (const h of d.histograms)
      if (h.length !== p.outputs.bins) throw bad(`${what} histogram is not ${p.outputs.bins} bins`);
  };
  checkDist(p.outputs.overall, 'outputs.overall');
  for (const s of p.outputs.slices) checkDist(s.distribution, `slice "${s.text}"`);
  for (const l of p.activation?.layers ?? []) {
    if (l.classes.length !== k) throw bad(`layer ${l.name} does not have ${k} classes`);
    if (l.scale.length !== l.dim) throw bad(`layer ${l.name} scale is not ${l.dim} values`);
    for (const c of l.classes)
      if (c.count > 0 && c.mean.length !== l.dim) throw bad(`layer ${l.name} mean is not ${l.dim} values`);
    if (l.reference.classes.length !== l.reference.rows) throw bad(`layer ${l.name} reference classes`);
  }
  if (p.strip && p.strip.poolClasses.length !== p.strip.poolRows)
    throw bad('strip.poolClasses is not one class per pool row');
  if (p.occlusion) {
    const ref = p.occlusion.reference;
    if (ref.bias.length !== (k === 2 ? 1 : k)) throw bad(`occlusion reference does not have ${k} classes`);
    if (p.thresholds.checks['guard/occlusion'] === undefined) throw bad('guard/occlusion has no threshold');
    const h = p.occlusion.hosts;
    if (h && h.probs.length !== h.rows * k)
      throw bad(`occlusion hosts do not have ${k} probabilities per row`);
    if (h && Object.values(h.columns).some((c) => c.length !== h.rows))
      throw bad('occlusion hosts do not have one value per row in every column');
  } else if (p.thresholds.checks['guard/occlusion'])
    throw bad('guard/occlusion has a threshold but no occlusion section');
  for (const [id, t] of Object.entries(p.thresholds.checks))
    if (t?.perClass && t.perClass.length !== k) throw bad(`thresholds of ${id} are not one per class`);
  if (opts.modelDigest && opts.modelDigest !== p.model.digest)
    throw inputError(
      `${flag} ${path} was fitted for another model (${p.model.digest.slice(0, 19)}…, this one is ${opts.modelDigest.slice(0, 19)}…)`,
      'fit a profile for this model with `antidote guard fit`',
    );
  return p;
}
