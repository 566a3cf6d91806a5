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

export const RowOutcomeSchema = z.strictObject({
  id: text(256).min(1),
  decision: z.enum(['quarantined', 'accepted']),
  /** The audit's combined score; absent for accepted rows outside the review sample (not written out). */
  score: z.number().min(0).max(1).optional(),
  reasons: z.array(text(4000)).max(64),
  review: z.enum(['priority', 'control']).nullable().optional(),
  /** The row's own columns as strings (for the review queue and export-trusted); may be empty. */
  fields: z.record(text(256), text(100_000)).optional(),
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
