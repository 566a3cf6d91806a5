/**
 * `--post URL` for audit, gate, scan and demo: after a command has written its report, send it to an
 * `antidote serve` server (token from ANTIDOTE_TOKEN). An audit also sends its row outcomes, read back from
 * the files it wrote: every quarantined and review-sample row with its columns, and the accepted rows with
 * only their id, label, source and labeler (enough for rates per account and labeler across batches).
 * Also used by `antidote serve import` to turn existing report folders into the same posts.
 */
import { createReadStream } from 'node:fs';
import { Option } from 'commander';
import { crypto } from '../core/builtins.js';
import { AntidoteError } from '../core/errors.js';

export const TOKEN_ENV = 'ANTIDOTE_TOKEN';

export function postOption(): Option {
  return new Option(
    '--post <url>',
    `after writing the report, record the run on an antidote server (token in $${TOKEN_ENV})`,
  );
}

type Obj = Record<string, unknown>;
export interface RowPost {
  id: string;
  decision: 'quarantined' | 'accepted';
  score?: number;
  reasons: string[];
  review?: 'priority' | 'control' | null;
  fields?: Record<string, string>;
  neighbours?: NeighbourPost[];
}
export interface NeighbourPost {
  id: string;
  label: string;
  text: string;
  distance: number;
}
export interface RunPayload {
  kind: 'audit' | 'gate' | 'scan' | 'guard';
  report: Obj;
  rows?: RowPost[];
  inputs?: Array<{ name: string; digest: string }>;
  model?: string;
  batch?: string;
}

async function fileDigest(path: string): Promise<string | undefined> {
  try {
    const h = crypto().createHash('sha256');
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
    return `sha256:${h.digest('hex')}`;
  } catch {
    return undefined;
  }
}

const EXTRA = new Set(['antidote_score', 'antidote_reasons', 'antidote_review']);

async function rowsOf(path: string): Promise<Array<Record<string, string>>> {
  const { readTable } = await import('../gate/read.js');
  let t: Awaited<ReturnType<typeof readTable>>;
  try {
    t = await readTable(path, { maxRows: Number.MAX_SAFE_INTEGER });
  } catch (err) {
    // An output with no rows (nothing quarantined) is a header alone: the reader refuses it as an input.
    if (/header but no rows/.test(String((err as Error)?.message))) return [];
    throw err;
  }
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < t.n; i++) {
    const r: Record<string, string> = {};
    for (const name of t.names) {
      const c = t.columns.get(name);
      if (!c) continue;
      const v = c.values[i];
      r[name] = typeof v === 'number' ? (Number.isNaN(v) ? '' : String(v)) : (v ?? '');
    }
    out.push(r);
  }
  return out;
}

/** The audit's rows, identified by the id column or else by a digest of their content. */
export async function auditRows(report: Obj): Promise<RowPost[]> {
  const outputs = (report.outputs ?? {}) as Obj;
  const roles = (report.roles ?? {}) as Obj;
  const idCol = typeof roles.id === 'string' ? roles.id : undefined;
  const keep = ['label', 'source', 'labeler', 'id']
    .map((k) => roles[k])
    .filter((v): v is string => typeof v === 'string');
  const seen = new Map<string, number>();
  const idOf = (fields: Record<string, string>) => {
    if (idCol && fields[idCol]) return fields[idCol];
    const h = crypto()
      .createHash('sha256')
      .update(JSON.stringify(Object.entries(fields).sort()))
      .digest('hex')
      .slice(0, 20);
    const k = (seen.get(h) ?? 0) + 1;
    seen.set(h, k);
    return k === 1 ? `h:${h}` : `h:${h}~${k}`;
  };
  const own = (r: Record<string, string>) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => !EXTRA.has(k)));
  const reasonsOf = (s: string | undefined) =>
    (s ?? '')
      .split('; ')
      .map((x) => x.trim())
      .filter(Boolean);
  const byId = new Map<string, RowPost>();
  const file = (k: string) => (typeof outputs[k] === 'string' ? (outputs[k] as string) : undefined);
  const q = file('quarantined');
  if (q)
    for (const r of await rowsOf(q)) {
      const fields = own(r);
      const id = idOf(fields);
      byId.set(id, {
        id,
        decision: 'quarantined',
        score: clamp(Number(r.antidote_score)),
        reasons: reasonsOf(r.antidote_reasons),
        review: null,
        fields,
      });
    }
  seen.clear();
  const reviewFile = file('review');
  const reviewIds = new Set<string>();
  const evidence = neighboursByOrd(report);
  if (reviewFile)
    for (const [ord, r] of (await rowsOf(reviewFile)).entries()) {
      const fields = own(r);
      const id = idOf(fields);
      reviewIds.add(id);
      const kind = r.antidote_review === 'control' ? 'control' : 'priority';
      const prev = byId.get(id);
      const neighbours = evidence.get(ord);
      byId.set(id, {
        id,
        decision: prev?.decision ?? 'accepted',
        score: clamp(Number(r.antidote_score)),
        reasons: reasonsOf(r.antidote_reasons),
        review: kind,
        fields,
        ...(neighbours ? { neighbours } : {}),
      });
    }
  seen.clear();
  const acc = file('accepted');
  if (acc)
    for (const r of await rowsOf(acc)) {
      const id = idOf(r);
      if (byId.has(id)) continue;
      byId.set(id, {
        id,
        decision: 'accepted',
        reasons: [],
        review: null,
        fields: Object.fromEntries(keep.filter((k) => k in r).map((k) => [k, r[k]])),
      });
    }
  return [...byId.values()];
}

/** The report's trusted neighbours of each review row, by the row's position in the review file. */
function neighboursByOrd(report: Obj): Map<number, NeighbourPost[]> {
  const out = new Map<number, NeighbourPost[]>();
  const ev = report.reviewEvidence as { rows?: unknown } | undefined;
  if (!ev || !Array.isArray(ev.rows)) return out;
  for (const r of ev.rows as Array<{ ord?: unknown; neighbours?: unknown }>) {
    if (typeof r?.ord !== 'number' || !Array.isArray(r.neighbours)) continue;
    out.set(
      r.ord,
      (r.neighbours as NeighbourPost[]).slice(0, 8).map((n) => ({
        id: String(n.id).slice(0, 256),
        label: String(n.label).slice(0, 256),
        text: String(n.text).slice(0, 1000),
        distance: Math.max(0, Number(n.distance) || 0),
      })),
    );
  }
  return out;
}

function clamp(x: number): number | undefined {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : undefined;
}

/** The post for a report: its kind, rows (audit) and the digests of its input files. */
export async function buildPayload(kind: RunPayload['kind'], report: Obj): Promise<RunPayload> {
  const payload: RunPayload = { kind, report };
  if (kind === 'audit') {
    payload.rows = await auditRows(report);
    const inputs: Array<{ name: string; digest: string }> = [];
    for (const name of ['trusted', 'incoming']) {
      const p = ((report.inputs as Obj | undefined)?.[name] as Obj | undefined)?.path;
      const d = typeof p === 'string' ? await fileDigest(p) : undefined;
      if (d) inputs.push({ name, digest: d });
    }
    payload.inputs = inputs;
  }
  if (process.env.ANTIDOTE_MODEL && kind === 'gate') payload.model = process.env.ANTIDOTE_MODEL;
  return payload;
}

/**
 * The `/api/runs` address for `--post URL`, or a usage error. Commands call it before they start, so a missing
 * token or a malformed URL is said at once, not after a long scan or audit whose exit code it would replace.
 */
export function postTarget(url: string | undefined, token = process.env[TOKEN_ENV]): URL | undefined {
  if (url === undefined) return undefined;
  if (!token)
    throw new AntidoteError('E_USAGE', `--post needs a token in $${TOKEN_ENV}`, {
      hint: 'create one with `antidote serve token create --role admin`',
    });
  let target: URL;
  try {
    target = new URL('/api/runs', url);
  } catch {
    throw new AntidoteError(
      'E_USAGE',
      `--post must be a server URL such as http://127.0.0.1:8700 (got "${url}")`,
    );
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    throw new AntidoteError('E_USAGE', `--post must be an http(s) URL (got "${url}")`);
  return target;
}

/** POST a run to `url` (the server's base URL); returns the run id. */
export async function sendRun(
  url: string,
  payload: RunPayload,
  token = process.env[TOKEN_ENV],
): Promise<string> {
  const target = postTarget(url, token) as URL;
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
      // A server that never answers must not hold the pipeline for ever.
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw new AntidoteError('E_IO', `cannot post the report to ${target.origin}: ${(err as Error).message}`, {
      hint: 'the report was written; is the server running?',
      cause: err,
    });
  }
  const body = (await res.json().catch(() => ({}))) as { id?: string; error?: string };
  if (!res.ok || !body.id)
    throw new AntidoteError(
      'E_IO',
      `the server refused the report (HTTP ${res.status}): ${body.error ?? res.statusText}`,
      { hint: 'the report was written; check the token and its role (posting needs admin)' },
    );
  return body.id;
}

/** What the commands call after writing their report: nothing without --post. */
export async function postIfAsked(
  url: string | undefined,
  kind: RunPayload['kind'],
  report: unknown,
): Promise<void> {
  if (!url) return;
  // The report as its JSON file has it (typed arrays as arrays), whatever object the command holds.
  const plain = JSON.parse(
    JSON.stringify(report, (_k, v) =>
      ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v,
    ),
  ) as Obj;
  const id = await sendRun(url, await buildPayload(kind, plain));
  process.stderr.write(`antidote: run recorded on ${new URL(url).origin} as ${id}\n`);
}

/** `antidote demo --post URL`: the demo's audit and its two gate runs, grouped under one model name. */
export async function postDemo(
  url: string | undefined,
  outcome: { audit: { report: string }; gateRaw: { report: string }; gateAudited: { report: string } },
): Promise<void> {
  if (!url) return;
  const { readFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const runs: Array<[RunPayload['kind'], string]> = [
    ['audit', outcome.audit.report],
    ['gate', outcome.gateRaw.report],
    ['gate', outcome.gateAudited.report],
  ];
  for (const [kind, html] of runs) {
    const report = JSON.parse(await readFile(join(dirname(html), 'report.json'), 'utf8')) as Obj;
    const payload = await buildPayload(kind, report);
    if (kind === 'gate') payload.model = process.env.ANTIDOTE_MODEL ?? 'sst2-demo';
    const id = await sendRun(url, payload);
    process.stderr.write(`antidote: ${kind} run recorded on ${new URL(url).origin} as ${id}\n`);
  }
}
