/**
 * A posted run, checked and turned into the store's records: the run itself (id = digest of its report, so
 * posting the same report twice records it once), its findings, and by kind the model versions, the gate
 * decision and the output distributions (gate) or the row outcomes (audit). Pure: no database here.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { z } from 'zod';
import { type RowOutcome, type RunKind, type RunPost, reportSchema } from './schema.js';

export interface RunRecord {
  id: string;
  kind: RunKind;
  createdAt: string;
  toolVersion: string | null;
  verdict: string;
  title: string;
  batch: string | null;
  model: string | null;
  inputs: Array<{ name: string; digest: string }>;
  summary: Record<string, unknown>;
  report: Record<string, unknown>;
}

export interface FindingRecord {
  idx: number;
  rule: string;
  severity: string;
  message: string;
  location: string | null;
  evidence: string | null;
}

export interface DistributionRecord {
  digest: string;
  role: 'incumbent' | 'candidate';
  scope: 'overall' | 'slice' | 'region';
  slice: string;
  rows: number;
  counts: number[];
}

export interface GateRecord {
  model: string;
  incumbent: { digest: string; label: string };
  candidate: { digest: string; label: string };
  decision: string;
  psi: number | null;
  ks: number | null;
  region: string | null;
  reasons: string[];
  distributions: DistributionRecord[];
}

/** One time window of an audited batch against the trusted baseline (from the drift detector's charts). */
export interface DriftWindowRecord {
  idx: number;
  start: string | null;
  end: string | null;
  /** Share of each label in the window, and in the trusted set. */
  labelRates: Record<string, number | null>;
  trustedRates: Record<string, number | null>;
  /** The largest feature PSI against the trusted distribution in the window, and its feature. */
  maxPsi: number | null;
  psiFeature: string | null;
}

export interface Ingest {
  run: RunRecord;
  findings: FindingRecord[];
  drift: DriftWindowRecord[];
  gate?: GateRecord;
  rows: RowOutcome[];
  roles: { label?: string; source?: string; labeler?: string };
}

export class IngestError extends Error {}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Stable JSON (sorted keys) so the same report always has the same digest. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Obj;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function runId(kind: string, report: unknown, rows: RowOutcome[] | undefined): string {
  const h = createHash('sha256');
  h.update(kind);
  h.update('\0');
  h.update(canonical(report));
  h.update('\0');
  // The report (its time, inputs' digests, counts) names the run; of the rows, their ids, decisions and sample
  // tell a different posting of it apart. Their columns come from the files the report names, and serialising
  // 10,000 of them again for the digest was a sixth of the cost of a post.
  const parts: string[] = [];
  for (const r of rows ?? []) parts.push(`${r.id}\t${r.decision}\t${r.review ?? ''}\t${r.score ?? ''}`);
  h.update(parts.join('\n'));
  return h.digest('hex').slice(0, 32);
}

/** "fraud-model-v12.onnx" -> "fraud-model": the name a gate's versions are grouped under by default. */
export function modelNameOf(source: string): string {
  let b = basename(source.replace(/[?#].*$/, ''));
  b = b.replace(/\.(onnx|csv|tsv|jsonl|json|parquet)$/i, '');
  b = b.replace(/[-_.]?v?\d+(\.\d+)*$/i, '');
  return b || source;
}

function findingsOf(report: Obj): FindingRecord[] {
  const list = Array.isArray(report.findings) ? report.findings : [];
  const out: FindingRecord[] = [];
  const add = (f: Obj) =>
    out.push({
      idx: out.length,
      rule: str(f.rule) ?? 'unknown',
      severity: str(f.severity) ?? 'info',
      message: str(f.message) ?? '',
      location: f.location === undefined ? null : JSON.stringify(f.location),
      evidence: f.evidence === undefined ? null : JSON.stringify(f.evidence),
    });
  for (const f of list) add(obj(f));
  // scan reports keep findings per file
  if (Array.isArray(report.results))
    for (const r of report.results)
      for (const f of (obj(r).findings as unknown[] | undefined) ?? []) add(obj(f));
  return out;
}

function gateRecord(report: Obj, model: string | undefined): GateRecord {
  const models = obj(report.models);
  const inc = obj(models.incumbent);
  const cand = obj(models.candidate);
  const incumbent = { digest: str(inc.digest) ?? 'unknown', label: str(inc.source) ?? 'incumbent' };
  const candidate = { digest: str(cand.digest) ?? 'unknown', label: str(cand.source) ?? 'candidate' };
  const shift = obj(report.shift);
  const hist = obj(shift.histogram);
  const distributions: DistributionRecord[] = [];
  const total = (c: unknown) => (Array.isArray(c) ? c.reduce((a: number, x) => a + (num(x) ?? 0), 0) : 0);
  const counts = (c: unknown) => (Array.isArray(c) ? c.map((x) => num(x) ?? 0) : []);
  if (Array.isArray(hist.incumbent) && Array.isArray(hist.candidate)) {
    for (const [role, c] of [
      ['incumbent', hist.incumbent],
      ['candidate', hist.candidate],
    ] as const)
      distributions.push({
        digest: role === 'incumbent' ? incumbent.digest : candidate.digest,
        role,
        scope: 'overall',
        slice: '',
        rows: total(c),
        counts: counts(c),
      });
  }
  for (const s of Array.isArray(hist.slices) ? hist.slices : []) {
    const o = obj(s);
    const slice = str(o.slice);
    if (!slice) continue;
    const scope = o.scope === 'region' ? 'region' : 'slice';
    for (const role of ['incumbent', 'candidate'] as const)
      distributions.push({
        digest: role === 'incumbent' ? incumbent.digest : candidate.digest,
        role,
        scope,
        slice,
        rows: num(o.rows) ?? total(o[role]),
        counts: counts(o[role]),
      });
  }
  const sr = obj(shift.shiftRegion);
  return {
    model: model ?? modelNameOf(candidate.label),
    incumbent,
    candidate,
    decision: str(report.decision) ?? 'block',
    psi: num(shift.psi),
    ks: num(shift.ks),
    region: str(sr.slice) ?? str(obj(shift.region).slice),
    reasons: Array.isArray(report.reasons) ? report.reasons.map(String) : [],
    distributions,
  };
}

const MAX_WINDOWS = 200;

/** The audit's per-window statistics against the trusted baseline (none without --time). */
function driftWindowsOf(report: Obj): DriftWindowRecord[] {
  const charts = obj(report.charts);
  const labels = Array.isArray(charts.labelRateByWindow) ? charts.labelRateByWindow.map(obj) : [];
  const psi = Array.isArray(charts.driftByFeature) ? charts.driftByFeature.map(obj) : [];
  const trusted = obj(charts.labelRateTrusted);
  const trustedRates: Record<string, number | null> = {};
  for (const [k, v] of Object.entries(trusted)) trustedRates[k] = num(v);
  const out: DriftWindowRecord[] = [];
  for (const w of labels.slice(0, MAX_WINDOWS)) {
    const idx = num(w.window);
    if (idx === null) continue;
    const labelRates: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(w))
      if (k !== 'window' && k !== 'start' && k !== 'end') labelRates[k] = num(v);
    let maxPsi: number | null = null;
    let psiFeature: string | null = null;
    for (const p of psi)
      if (
        num(p.window) === idx &&
        num(p.psi) !== null &&
        (maxPsi === null || (num(p.psi) as number) > maxPsi)
      ) {
        maxPsi = num(p.psi);
        psiFeature = str(p.feature);
      }
    out.push({ idx, start: str(w.start), end: str(w.end), labelRates, trustedRates, maxPsi, psiFeature });
  }
  return out;
}

function summaryOf(kind: RunKind, report: Obj): Obj {
  if (kind === 'audit') return obj(report.summary);
  if (kind === 'guard')
    return {
      window: report.window ?? null,
      instances: report.instances ?? null,
      findings: Array.isArray(report.findings) ? report.findings.length : 0,
    };
  if (kind === 'scan') {
    const results = Array.isArray(report.results) ? report.results.map(obj) : [];
    return {
      files: results.length,
      blocked: results.filter((r) => r.verdict === 'block').length,
      paths: results.slice(0, 20).map((r) => r.path),
    };
  }
  const metrics = obj(report.metrics);
  return {
    decision: report.decision,
    reasons: report.reasons,
    findings: Array.isArray(report.findings) ? report.findings.length : 0,
    accuracy: obj(metrics.candidate).accuracy ?? null,
  };
}

/** Check a post (its envelope already parsed by zod) and build its records; throws IngestError on a bad report. */
export function toRecords(post: RunPost): Ingest {
  const parsed = reportSchema(post.kind).safeParse(post.report);
  if (!parsed.success) {
    const issue = (parsed.error as z.ZodError).issues[0];
    throw new IngestError(
      `report is not a valid ${post.kind} report (schemas/${post.kind}-report.v1.json): ${issue ? `${issue.path.join('.') || 'report'}: ${issue.message}` : 'invalid'}`,
    );
  }
  const report = post.report as Obj;
  if (post.kind !== 'audit' && post.rows?.length)
    throw new IngestError(`rows are only accepted with an audit report (got ${post.kind})`);
  const tool = obj(report.tool);
  const createdAt = str(report.createdAt) ?? new Date().toISOString();
  let verdict = 'pass';
  let title: string = post.kind;
  let batch: string | null = null;
  let gate: GateRecord | undefined;
  const inputs = [...(post.inputs ?? [])];
  if (post.kind === 'audit') {
    const s = obj(report.summary);
    verdict = str(s.verdict) ?? 'pass';
    const incoming = str(obj(obj(report.inputs).incoming).path) ?? 'batch';
    batch = post.batch ?? basename(incoming);
    title = `audit of ${batch}`;
  } else if (post.kind === 'gate') {
    gate = gateRecord(report, post.model);
    verdict = gate.decision;
    title = `gate: ${gate.candidate.label} vs ${gate.incumbent.label}`;
    const trusted = obj(report.trusted);
    if (typeof trusted.digest === 'string' && !inputs.some((i) => i.name === 'trusted'))
      inputs.push({ name: 'trusted', digest: trusted.digest });
  } else if (post.kind === 'guard') {
    // One closed window of `antidote guard proxy`: flagged when it has findings.
    verdict = Array.isArray(report.findings) && report.findings.length ? 'flag' : 'pass';
    title = `guard window ${String(report.window)} (${String(report.instances)} instances)`;
  } else {
    const results = Array.isArray(report.results) ? report.results : [];
    verdict = results.some((r) => obj(r).verdict === 'block') ? 'block' : 'pass';
    title = `scan of ${results.length} file${results.length === 1 ? '' : 's'}`;
  }
  const roles = obj(report.roles);
  return {
    run: {
      id: runId(post.kind, report, post.rows),
      kind: post.kind,
      createdAt,
      toolVersion: str(tool.version),
      verdict,
      title,
      batch,
      model: gate?.model ?? null,
      inputs,
      summary: summaryOf(post.kind, report),
      report,
    },
    findings: findingsOf(report),
    drift: post.kind === 'audit' ? driftWindowsOf(report) : [],
    gate,
    rows: post.rows ?? [],
    roles: {
      label: str(roles.label) ?? undefined,
      source: str(roles.source) ?? undefined,
      labeler: str(roles.labeler) ?? undefined,
    },
  };
}
