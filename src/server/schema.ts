/**
 * What a client may post, as zod schemas: the envelope of a run (strict: an unknown key such as a file path
 * is refused) and the report itself, checked against the versioned JSON Schemas in schemas/ (turned into zod
 * by zod's own converter, so the API accepts exactly what `antidote audit|gate|scan --format json` promises).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const RUN_KINDS = ['audit', 'gate', 'scan', 'guard'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

const schemaCache = new Map<RunKind, z.ZodType>();

/** The report schema of a kind, read once from the package's schemas/ folder. */
export function reportSchema(kind: RunKind): z.ZodType {
  let s = schemaCache.get(kind);
  if (!s) {
    const url = new URL(`../../schemas/${kind}-report.v1.json`, import.meta.url);
    s = z.fromJSONSchema(JSON.parse(readFileSync(url, 'utf8')));
    schemaCache.set(kind, s);
  }
  return s;
}

const text = (max: number) => z.string().max(max);

/** Most trusted neighbours kept per review row, and the longest text kept of each. */
export const MAX_NEIGHBOURS = 8;
export const MAX_NEIGHBOUR_TEXT = 1000;

export const NeighbourSchema = z.strictObject({
  id: text(256),
  label: text(256),
  /** The trusted row's text, or its feature values as `column=value` pairs. */
  text: text(MAX_NEIGHBOUR_TEXT),
  /** Distance in the audit's neighbour space (0 = the same row). */
  distance: z.number().min(0).max(1e6),
});
export type Neighbour = z.infer<typeof NeighbourSchema>;

export const RowOutcomeSchema = z.strictObject({
  id: text(256).min(1),
  decision: z.enum(['quarantined', 'accepted']),
  /** The audit's combined score; absent for accepted rows outside the review sample (not written out). */
  score: z.number().min(0).max(1).optional(),
  reasons: z.array(text(4000)).max(64),
  review: z.enum(['priority', 'control']).nullable().optional(),
  /** The row's own columns as strings (for the review queue and export-trusted); may be empty. */
  fields: z.record(text(256), text(100_000)).optional(),
  /** Review rows: the nearest trusted rows, with their labels (evidence for the reviewer; from the audit report). */
  neighbours: z.array(NeighbourSchema).max(MAX_NEIGHBOURS).optional(),
});
export type RowOutcome = z.infer<typeof RowOutcomeSchema>;

export const InputDigestSchema = z.strictObject({
  name: text(256),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});

export const RunPostSchema = z.strictObject({
  kind: z.enum(RUN_KINDS),
  report: z.record(z.string(), z.unknown()),
  rows: z.array(RowOutcomeSchema).max(250_000).optional(),
  inputs: z.array(InputDigestSchema).max(64).optional(),
  /** Name of the model a gate run concerns (default: from the candidate's source). */
  model: text(200).min(1).optional(),
  /** Name of an audited batch (default: the incoming file's name). */
  batch: text(200).min(1).optional(),
});
export type RunPost = z.infer<typeof RunPostSchema>;

/**
 * RunPostSchema with the rows checked by checkRows instead of zod: the same rules (a test holds the two to
 * agreement), at a fraction of the cost on 10,000 rows, the bulk of every audit post.
 */
const RunEnvelopeSchema = RunPostSchema.extend({ rows: z.array(z.unknown()).max(250_000).optional() });

export function parseRunPost(body: unknown): { ok: true; post: RunPost } | { ok: false; error: string } {
  const env = RunEnvelopeSchema.safeParse(body);
  if (!env.success) return { ok: false, error: describeIssues(env.error) };
  if (env.data.rows === undefined) return { ok: true, post: env.data as RunPost };
  const bad = checkRows(env.data.rows);
  if (bad) return { ok: false, error: bad };
  return { ok: true, post: env.data as RunPost };
}

const ROW_KEYS = new Set(['id', 'decision', 'score', 'reasons', 'review', 'fields', 'neighbours']);
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number, min = 0) => typeof v === 'string' && v.length >= min && v.length <= max;

function checkNeighbour(n: unknown): string | undefined {
  if (!isObj(n)) return 'expected an object';
  for (const k of Object.keys(n))
    if (k !== 'id' && k !== 'label' && k !== 'text' && k !== 'distance') return `unrecognized key "${k}"`;
  if (!str(n.id, 256)) return 'id: expected a string of at most 256 characters';
  if (!str(n.label, 256)) return 'label: expected a string of at most 256 characters';
  if (!str(n.text, MAX_NEIGHBOUR_TEXT))
    return `text: expected a string of at most ${MAX_NEIGHBOUR_TEXT} characters`;
  const d = n.distance;
  if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 1e6)
    return 'distance: expected a number between 0 and 1000000';
  return undefined;
}

/** One row against RowOutcomeSchema's rules; the first problem as `field: message`, or undefined. */
function checkRow(r: unknown): string | undefined {
  if (!isObj(r)) return 'expected an object';
  for (const k of Object.keys(r)) if (!ROW_KEYS.has(k)) return `unrecognized key "${k}"`;
  if (!str(r.id, 256, 1)) return 'id: expected a string of 1 to 256 characters';
  if (r.decision !== 'quarantined' && r.decision !== 'accepted')
    return 'decision: expected "quarantined" or "accepted"';
  if (r.score !== undefined) {
    const x = r.score;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1)
      return 'score: expected a number between 0 and 1';
  }
  const reasons = r.reasons;
  if (!Array.isArray(reasons) || reasons.length > 64)
    return 'reasons: expected an array of at most 64 strings';
  for (let i = 0; i < reasons.length; i++)
    if (!str(reasons[i], 4000)) return `reasons.${i}: expected a string of at most 4000 characters`;
  if (r.review !== undefined && r.review !== null && r.review !== 'priority' && r.review !== 'control')
    return 'review: expected "priority", "control" or null';
  if (r.fields !== undefined) {
    if (!isObj(r.fields)) return 'fields: expected an object';
    for (const [k, v] of Object.entries(r.fields)) {
      if (k.length > 256) return 'fields: a column name is longer than 256 characters';
      if (!str(v, 100_000)) return `fields.${k}: expected a string of at most 100000 characters`;
    }
  }
  if (r.neighbours !== undefined) {
    const ns = r.neighbours;
    if (!Array.isArray(ns) || ns.length > MAX_NEIGHBOURS)
      return `neighbours: expected an array of at most ${MAX_NEIGHBOURS}`;
    for (let i = 0; i < ns.length; i++) {
      const bad = checkNeighbour(ns[i]);
      if (bad) return `neighbours.${i}.${bad}`;
    }
  }
  return undefined;
}

/** Every row against RowOutcomeSchema's rules: the first problem as `rows.N.field: message`, or undefined. */
export function checkRows(rows: unknown[]): string | undefined {
  for (let i = 0; i < rows.length; i++) {
    const bad = checkRow(rows[i]);
    if (bad)
      return `rows.${i}${bad.startsWith('expected') || bad.startsWith('unrecognized') ? ': ' : '.'}${bad}`;
  }
  return undefined;
}

export const ReviewPostSchema = z.strictObject({
  rowId: text(256).min(1),
  decision: z.enum(['confirm', 'clear']),
  /** For a confirmed poison: the label the row should have had (a correction for the trusted set). */
  correctedLabel: text(256).min(1).optional(),
  note: text(2000).optional(),
});
export type ReviewPost = z.infer<typeof ReviewPostSchema>;

export const BaselinePostSchema = z.strictObject({
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});

export const ROLES = ['viewer', 'reviewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A token to create: its role and who or what uses it. */
export const TokenPostSchema = z.strictObject({
  role: z.enum(ROLES),
  name: text(100).min(1),
});

/** Ids in paths are hex digests or names: never a path, never `..`. */
export const RUN_ID = /^[0-9a-f]{32}$/;
export const ROW_ID = /^[\w.:@+=-]{1,256}$/;
export const MODEL_NAME = /^[\w .:@+=()-]{1,200}$/;

/** A zod error as one line for a 400 response. */
export function describeIssues(err: z.ZodError): string {
  const first = err.issues[0];
  if (!first) return 'invalid input';
  const where = first.path.length ? first.path.join('.') : 'body';
  const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more)` : '';
  return `${where}: ${first.message}${more}`;
}
