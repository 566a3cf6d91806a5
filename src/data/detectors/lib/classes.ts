/**
 * A batch that holds one class only (a day of fraud reports, or an attacker's rows all labelled the target
 * class) is ordinary in production. Its labels carry no information within the batch: every pattern, account
 * and window is "100% that class" because the batch was selected by label. So the tests that compare label
 * rates compare instead how the batch's rows sit among the trusted rows of that class, and the few tests that
 * need labels to vary within the batch say so and stand aside (Detector.cannotRun).
 */
import type { AuditContext, Dataset } from '../types.js';

const KEY = 'batch:one-class';

/** The batch's only class (its label code), or -1 when the batch holds two or more. */
export function oneClassOf(ctx: Pick<AuditContext, 'incoming' | 'shared'>): number {
  const hit = ctx.shared[KEY] as number | undefined;
  if (hit !== undefined) return hit;
  const y = ctx.incoming.labels;
  let out = y.length > 0 ? y[0] : -1;
  for (let i = 1; i < y.length; i++) {
    if (y[i] !== out) {
      out = -1;
      break;
    }
  }
  ctx.shared[KEY] = out;
  return out;
}

/** Trusted rows of class y. */
export function trustedRowsOf(ctx: Pick<AuditContext, 'trusted'>, y: number): number {
  let n = 0;
  for (let i = 0; i < ctx.trusted.n; i++) if (ctx.trusted.labels[i] === y) n++;
  return n;
}

/**
 * When the batch's only class never occurs in the trusted set, no detector has anything to compare its rows
 * with (audit/unseen-label quarantines them all): the reason every other detector gives for standing aside.
 */
export function unseenClassReason(ctx: AuditContext): string | undefined {
  const y = oneClassOf(ctx);
  if (y < 0 || trustedRowsOf(ctx, y) > 0) return undefined;
  return `the batch's only label "${ctx.classes[y]}" never occurs in the trusted set, so there is nothing to compare its rows with`;
}

/** The rows of a Dataset whose index `keep` holds, as a Dataset of their own (columns copied). */
export function subsetDataset(ds: Dataset, keep: (i: number) => boolean): Dataset {
  const rows: number[] = [];
  for (let i = 0; i < ds.n; i++) if (keep(i)) rows.push(i);
  const pick = <T extends { [k: number]: number; length: number }>(a: T, make: new (n: number) => T): T => {
    const out = new make(rows.length);
    rows.forEach((r, k) => {
      out[k] = a[r];
    });
    return out;
  };
  const cat = (c: { codes: Int32Array; values: string[] }) => ({
    codes: pick(c.codes, Int32Array),
    values: c.values,
  });
  const out: Dataset = {
    n: rows.length,
    ids: rows.map((r) => ds.ids[r]),
    labels: pick(ds.labels, Int32Array),
    numeric: new Map([...ds.numeric].map(([k, v]) => [k, pick(v, Float64Array)])),
    categorical: new Map([...ds.categorical].map(([k, v]) => [k, cat(v)])),
  };
  if (ds.text) out.text = rows.map((r) => ds.text![r]);
  if (ds.source) out.source = cat(ds.source);
  if (ds.labeler) out.labeler = cat(ds.labeler);
  if (ds.time) out.time = pick(ds.time, Float64Array);
  if (ds.embeddings) {
    const { data, dim } = ds.embeddings;
    const e = new Float32Array(rows.length * dim);
    rows.forEach((r, k) => {
      e.set(data.subarray(r * dim, (r + 1) * dim), k * dim);
    });
    out.embeddings = { data: e, dim };
  }
  return out;
}
