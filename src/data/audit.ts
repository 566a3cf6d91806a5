/**
 * `antidote audit` orchestration: load the trusted reference and the incoming batch through DuckDB, build
 * the detectors' typed Datasets, run the registered detectors in stage order, combine each row's scores into
 * one (noisy-OR), quarantine at the threshold with the reasons, and hand everything to the outputs module.
 * Nothing here prints or writes files except through src/data/quarantine.ts.
 */

import { AntidoteError, inputError, schemaError, usageError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import { LIMITS } from '../core/limits.js';
import type { Progress } from '../core/progress.js';
import { atLeast, SEVERITIES, type Severity } from '../core/severity.js';
import { verdictOf } from '../core/verdict.js';
import { toolVersion } from '../core/version.js';
import { type AuditConfig, DETECTOR_DEFAULTS, defaultConfig } from './config.js';
import { DETECTORS } from './detectors/index.js';
import { oneClassOf, trustedRowsOf } from './detectors/lib/classes.js';
import { expectedTrustedRows, TRUSTED_POWER_ROWS } from './detectors/triggers/trusted-power.js';
import type { AuditContext, Detector } from './detectors/types.js';
import type { Floors } from './floors.js';
import { closeFitPool } from './learn/fit-pool.js';
import {
  DataSource,
  type LoadedDataset,
  type LoadedTable,
  newDictionaries,
  type ResolvedRoles,
  type RoleFlags,
  readDataset,
  resolveRoles,
  unreadableTimes,
} from './source.js';
import { timeText } from './time-text.js';

export interface AuditOptions extends RoleFlags {
  trusted: string;
  incoming: string;
  config?: AuditConfig;
  failOn?: Severity;
  /** Output folder; when absent nothing is written (library use). */
  outDir?: string;
  /** Replace output files that already exist in outDir. */
  force?: boolean;
  progress?: Progress;
  /** Override the registry (tests, benchmarks). */
  detectors?: Detector[];
  /** DuckDB threads. */
  threads?: number;
}

export interface DetectorRun {
  id: string;
  title: string;
  stage: 1 | 2;
  status: 'ran' | 'skipped' | 'disabled';
  /** Why a detector whose roles are present was skipped (shown in the text summary and report.html). */
  reason?: string;
  findings: number;
  flaggedRows: number;
  seconds: number;
}

/** report.json (schemas/audit-report.v1.json). */
export interface AuditReport {
  version: 1;
  kind: 'audit';
  tool: { name: 'antidote'; version: string };
  createdAt: string;
  inputs: {
    trusted: { path: string; format: string; rows: number; unlabelled: number };
    incoming: { path: string; format: string; rows: number; rejected: number; unlabelled: number };
  };
  roles: {
    label: string;
    id?: string;
    text?: string;
    features: string[];
    source?: string;
    labeler?: string;
    time?: string;
    embeddings?: string;
  };
  classes: string[];
  notes: string[];
  settings: { threshold: number; reviewThreshold: number; failOn: Severity; seed: number };
  summary: {
    verdict: 'pass' | 'block';
    incoming: number;
    accepted: number;
    quarantined: number;
    rejected: number;
    review: number;
    findingsBySeverity: Record<Severity, number>;
    /** Most common reasons among quarantined rows (reason prefix -> rows). */
    topReasons: Array<{ reason: string; rows: number }>;
  };
  detectors: DetectorRun[];
  findings: Finding[];
  charts: Record<string, unknown>;
  /** The smallest attack each detector could see in this batch (src/data/detectors/blind-spot.ts). */
  floors?: Floors;
  outputs?: {
    dir: string;
    accepted: string;
    quarantined: string;
    review: string;
    rejects?: string;
    reportJson: string;
    reportHtml: string;
  };
  timings: Record<string, number>;
  /**
   * For each row of the review sample (by its position `ord` in review.<ext>): its nearest trusted rows with
   * their labels, the evidence a reviewer weighs (src/data/neighbours.ts).
   */
  reviewEvidence?: {
    space: string;
    k: number;
    searched: number;
    trusted: number;
    rows: Array<{
      ord: number;
      id: string;
      label: string;
      neighbours: Array<{ id: string; label: string; text: string; distance: number }>;
    }>;
  };
}

/** Per-row outcome of an audit, in incoming Dataset order, plus what the outputs module needs. */
export interface AuditRun {
  report: AuditReport;
  source: DataSource;
  incomingTable: LoadedTable;
  trustedTable: LoadedTable;
  incoming: LoadedDataset;
  /** Combined score per Dataset row. */
  scores: Float32Array;
  /** Reasons per Dataset row (only rows with any). */
  reasons: Map<number, string>;
  quarantined: Uint8Array;
  config: AuditConfig;
  /** What the detectors saw (both Datasets, roles, classes): the review sample's evidence is drawn from it. */
  context: AuditContext;
}

/** Known detector defaults (for config validation): the registry's own plus the built-in table. */
export function knownDefaults(detectors: Detector[] = DETECTORS): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = { ...DETECTOR_DEFAULTS };
  for (const d of detectors) out[d.meta.id] = { ...(out[d.meta.id] ?? {}), ...(d.defaults ?? {}) };
  return out;
}

const now = () => performance.now() / 1000;

/** Run the audit. The caller must `close()` the returned run's source (done by `audit`). */
export async function runAudit(opts: AuditOptions): Promise<AuditRun> {
  const t0 = now();
  const timings: Record<string, number> = {};
  const config = opts.config ?? defaultConfig(knownDefaults(opts.detectors));
  const failOn = opts.failOn ?? 'high';
  const progress = opts.progress;
  const detectors = (opts.detectors ?? DETECTORS).filter(Boolean);
  progress?.total(4 + detectors.length);
  progress?.label('loading');
  const src = await DataSource.open({ threads: opts.threads });
  try {
    const trustedTable = await src.load('trusted', opts.trusted);
    if (trustedTable.rejectCount > 0) {
      const r = trustedTable.rejects[0];
      throw inputError(
        `${opts.trusted}: ${trustedTable.rejectCount} malformed rows in the trusted reference (first at line ${r.line}: ${r.error})`,
        'the trusted file must be clean; fix it first',
      );
    }
    progress?.tick();
    const incomingTable = await src.load('incoming', opts.incoming);
    progress?.tick();
    timings.load = now() - t0;
    const roles = await resolveRoles(src, trustedTable, incomingTable, opts);
    const dicts = newDictionaries();
    const trusted = await readDataset(src, trustedTable, roles, dicts, 'trusted');
    const incoming = await readDataset(src, incomingTable, roles, dicts, 'incoming');
    checkLabels(trusted, incoming, roles, trustedTable, incomingTable, dicts.labels.values);
    const te = trusted.dataset.embeddings;
    const ie = incoming.dataset.embeddings;
    if (roles.embeddings && te && ie && te.dim !== ie.dim)
      throw schemaError(
        `--embeddings column "${roles.embeddings}" holds ${ie.dim} numbers a row in ${incomingTable.path} but ${te.dim} in ${trustedTable.path}`,
        'embed both files with the same model',
      );
    if (roles.time) await checkTimes(src, incomingTable, roles);
    timings.read = now() - t0 - timings.load;
    progress?.tick();

    const classes = dicts.labels.values;
    const ctx: AuditContext = {
      trusted: trusted.dataset,
      incoming: incoming.dataset,
      roles: {
        label: roles.label,
        id: roles.id,
        text: roles.text,
        features: roles.features,
        source: roles.source,
        labeler: roles.labeler,
        time: roles.time,
        embeddings: roles.embeddings,
      },
      classes,
      settings: {},
      shared: { modelSettings: config.detectors['audit/disagreement'] },
      seed: config.seed,
    };
    const n = incoming.dataset.n;
    const perDetector: number[] = [];
    const keep = new Float32Array(n).fill(1); // Π(1 - s) per row
    const rowReasons = new Map<number, Array<[number, string]>>();
    const findings: Finding[] = [];
    const charts: Record<string, unknown> = {};
    const runs: DetectorRun[] = [];
    // The model fits the detectors will ask for start now, on the second thread (stage order).
    for (const d of detectors) {
      if (!d.prefetch || config.disable.includes(d.meta.id)) continue;
      ctx.settings = config.detectors[d.meta.id] ?? { ...(d.defaults ?? {}) };
      if (d.applies(ctx) && !d.cannotRun?.(ctx)) d.prefetch(ctx);
    }
    for (const stage of [1, 2] as const) {
      if (stage === 2) {
        const suspicion = new Float32Array(n);
        for (let i = 0; i < n; i++) suspicion[i] = 1 - keep[i];
        ctx.shared.suspicion = suspicion;
      }
      for (const d of detectors.filter((x) => x.stage === stage)) {
        const ts = now();
        const run: DetectorRun = {
          id: d.meta.id,
          title: d.meta.title,
          stage,
          status: 'ran',
          findings: 0,
          flaggedRows: 0,
          seconds: 0,
        };
        runs.push(run);
        if (config.disable.includes(d.meta.id)) {
          run.status = 'disabled';
          progress?.tick();
          continue;
        }
        ctx.settings = config.detectors[d.meta.id] ?? { ...(d.defaults ?? {}) };
        if (!d.applies(ctx)) {
          run.status = 'skipped';
          if (d.needs) run.reason = `needs ${d.needs(ctx)}`;
          progress?.tick();
          continue;
        }
        const cannot = d.cannotRun?.(ctx);
        if (cannot) {
          run.status = 'skipped';
          run.reason = cannot;
          progress?.tick();
          continue;
        }
        progress?.label(d.meta.title);
        const out = await d.run(ctx);
        for (const f of out.findings) findings.push(f);
        if (out.charts) for (const [k, v] of Object.entries(out.charts)) charts[k] = v;
        if (out.publish) Object.assign(ctx.shared, out.publish);
        for (const flag of out.rows) {
          const i = flag.row;
          if (!(i >= 0 && i < n) || !(flag.score > 0)) continue;
          const sc = Math.min(1, flag.score);
          keep[i] *= 1 - sc;
          run.flaggedRows++;
          if (sc >= config.reasonMinScore) {
            let list = rowReasons.get(i);
            if (!list) {
              list = [];
              rowReasons.set(i, list);
            }
            list.push([sc, flag.reason]);
          }
        }
        run.findings = out.findings.length;
        run.seconds = Number((now() - ts).toFixed(3));
        perDetector.push(run.seconds);
        progress?.tick();
      }
    }
    timings.detect = now() - t0 - timings.load - timings.read;

    const scores = new Float32Array(n);
    const quarantined = new Uint8Array(n);
    let nQ = 0;
    const reasonCounts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      scores[i] = 1 - keep[i];
      if (scores[i] >= config.threshold - 1e-6) {
        quarantined[i] = 1;
        nQ++;
      }
    }
    const reasons = new Map<number, string>();
    for (const [i, list] of rowReasons) {
      list.sort((a, b) => b[0] - a[0]);
      reasons.set(i, list.map(([s, r]) => `${r} [${s.toFixed(2)}]`).join('; '));
      if (quarantined[i]) {
        // Group by the reason as written (the trigger or label it names is what a reviewer needs), minus details.
        const key = reasonHead(list[0][1]);
        reasonCounts.set(key, (reasonCounts.get(key) ?? 0) + 1);
      }
    }
    const unlabelled = incoming.missingLabel.length;
    if (unlabelled > 0) {
      findings.push({
        rule: 'audit/missing-label',
        severity: 'medium',
        message: `${unlabelled} incoming rows have no label and were quarantined.`,
        location: {
          rows: incoming.missingLabel.slice(0, 20).map((r) => r + 1),
          rowCount: unlabelled,
          column: roles.label,
        },
      });
      reasonCounts.set('label is missing', unlabelled);
    }
    if (incomingTable.rejectCount > 0) {
      findings.push({
        rule: 'audit/malformed-rows',
        severity: 'medium',
        message: `${incomingTable.rejectCount} malformed records in the incoming file could not be parsed; they are in the rejects file, not in accepted or quarantined.`,
        location: {
          rows: incomingTable.rejects.slice(0, 20).map((r) => `line ${r.line}`),
          rowCount: incomingTable.rejectCount,
        },
        evidence: { first: incomingTable.rejects[0]?.error },
      });
    }
    findings.sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity));
    charts.suspectRates = suspectRates(ctx, quarantined, scores);
    charts.scoreHistogram = histogram(scores);
    const bySev = Object.fromEntries(
      SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length]),
    ) as Record<Severity, number>;
    const totalQ = nQ + unlabelled;
    const report: AuditReport = {
      version: 1,
      kind: 'audit',
      tool: { name: 'antidote', version: toolVersion() },
      createdAt: new Date().toISOString(),
      inputs: {
        trusted: {
          path: opts.trusted,
          format: trustedTable.format,
          rows: trustedTable.rows,
          unlabelled: trusted.missingLabel.length,
        },
        incoming: {
          path: opts.incoming,
          format: incomingTable.format,
          rows: incomingTable.rows + incomingTable.rejectCount,
          rejected: incomingTable.rejectCount,
          unlabelled,
        },
      },
      roles: ctx.roles,
      classes,
      notes: [
        ...roles.notes,
        ...oneClassNotes(ctx),
        ...(trusted.missingLabel.length
          ? [`${trusted.missingLabel.length} trusted rows have no label and were left out of the reference`]
          : []),
      ],
      settings: {
        threshold: config.threshold,
        reviewThreshold: config.reviewThreshold,
        failOn,
        seed: config.seed,
      },
      summary: {
        verdict: verdictOf(findings, failOn),
        incoming: incomingTable.rows,
        accepted: incomingTable.rows - totalQ,
        quarantined: totalQ,
        rejected: incomingTable.rejectCount,
        review: 0,
        findingsBySeverity: bySev,
        topReasons: [...reasonCounts.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 10)
          .map(([reason, rows]) => ({ reason, rows })),
      },
      detectors: runs,
      findings,
      charts,
      ...(ctx.shared.floors ? { floors: ctx.shared.floors as Floors } : {}),
      timings,
    };
    return {
      report,
      source: src,
      incomingTable,
      trustedTable,
      incoming,
      scores,
      reasons,
      quarantined,
      config,
      context: ctx,
    };
  } catch (err) {
    src.close();
    throw err;
  } finally {
    // Fits prefetched but never asked for stop here.
    closeFitPool();
  }
}

/** Times that do not read as times: none readable is an error (nothing to window), some a note. */
async function checkTimes(src: DataSource, table: LoadedTable, roles: ResolvedRoles): Promise<void> {
  const col = roles.time as string;
  const { bad, written, example } = await unreadableTimes(src, table, col);
  if (!bad) return;
  const e = example === undefined ? '' : ` (e.g. "${example.slice(0, 40)}")`;
  if (bad === written)
    throw schemaError(
      `${table.path}: no value of column "${col}" (given by --time) reads as a date and time${e}`,
      'write times as ISO 8601 (2026-02-01 13:45 or 2026-02-01T13:45:00Z) or as numbers (epoch milliseconds)',
    );
  roles.notes.push(
    `${bad} of ${written} values of the time column "${col}" do not read as a date and time${e} and those rows are left out of the time windows`,
  );
}

function checkLabels(
  trusted: LoadedDataset,
  incoming: LoadedDataset,
  roles: ResolvedRoles,
  tt: LoadedTable,
  it: LoadedTable,
  classes: string[],
): void {
  const distinct = (ds: LoadedDataset) => new Set(ds.dataset.labels).size;
  if (trusted.dataset.n === 0)
    throw schemaError(`${tt.path}: no row has a label in column "${roles.trustedName[roles.label]}"`);
  if (incoming.dataset.n === 0)
    throw schemaError(`${it.path}: no row has a label in column "${roles.label}"`);
  const dt = distinct(trusted);
  if (dt < 2) {
    throw schemaError(
      `label column "${roles.trustedName[roles.label]}" has one class ("${classes[trusted.dataset.labels[0]]}") in the trusted file ${tt.path}`,
      'the reference needs at least two classes; check --label',
    );
  }
  if (classes.length > LIMITS.data.maxClasses) {
    throw new AntidoteError(
      'E_LIMIT',
      `label column "${roles.label}" has ${classes.length} classes; the audit handles at most ${LIMITS.data.maxClasses}`,
      { hint: 'audit with a coarser label (group rare classes), or one group of classes at a time' },
    );
  }
  const known = new Set(trusted.dataset.labels);
  const unseen = [...new Set(incoming.dataset.labels)].filter((c) => !known.has(c));
  // Most classes missing from the trusted file is a mismatched label column, unless their rows are so few that
  // a trusted set of its size, drawn like the batch, would be expected to hold none of them either (a table of
  // rare classes: shuttle radiator states of 10 rows in 58,000), or all but one of them are (one new class is
  // what an attacker who relabels rows into a class nobody reviewed sends, beside the rare ones): those rows are
  // quarantined as unseen labels.
  const unseenSet = new Set(unseen);
  const rowsOfUnseen = new Map<number, number>();
  for (const y of incoming.dataset.labels)
    if (unseenSet.has(y)) rowsOfUnseen.set(y, (rowsOfUnseen.get(y) ?? 0) + 1);
  let unseenRows = 0;
  let largest = 0;
  for (const k of rowsOfUnseen.values()) {
    unseenRows += k;
    largest = Math.max(largest, k);
  }
  const expectedInTrusted = expectedTrustedRows(unseenRows - largest, trusted.dataset.n, incoming.dataset.n);
  if (unseen.length > 0 && unseen.length >= classes.length / 2 && expectedInTrusted >= TRUSTED_POWER_ROWS) {
    const listed = unseen
      .slice(0, 10)
      .map((c) => `"${classes[c]}"`)
      .join(', ');
    throw schemaError(
      `incoming labels ${listed}${unseen.length > 10 ? ` and ${unseen.length - 10} more` : ''} never occur in the trusted file`,
      'are --label and --rename-trusted pointing at the same column on both sides?',
    );
  }
}

/** What a batch of one class changes in the audit, in plain words (report notes and the text summary). */
function oneClassNotes(ctx: AuditContext): string[] {
  const y = oneClassOf(ctx);
  if (y < 0) return [];
  const nRef = trustedRowsOf(ctx, y);
  if (nRef === 0) return [];
  return [
    `the incoming batch holds one class ("${ctx.classes[y]}"): its patterns, windows and accounts are compared with the ${nRef} trusted rows of that class; label rates, overall, per subgroup or per window, say nothing about a batch selected by label and were not tested, so conditioning that only moves how often a feature goes with a label cannot be seen in it`,
  ];
}

/** Suspect (quarantined) rate by source account and by time window, for the report charts. */
function suspectRates(ctx: AuditContext, quarantined: Uint8Array, scores: Float32Array) {
  const inc = ctx.incoming;
  const out: {
    bySource?: Array<{ source: string; rows: number; quarantined: number; rate: number; meanScore: number }>;
    byWindow?: Array<{ start: string; rows: number; quarantined: number; rate: number }>;
  } = {};
  if (inc.source) {
    const m = new Map<number, [number, number, number]>();
    for (let i = 0; i < inc.n; i++) {
      const c = inc.source.codes[i];
      const e = m.get(c) ?? [0, 0, 0];
      e[0]++;
      e[1] += quarantined[i];
      e[2] += scores[i];
      m.set(c, e);
    }
    out.bySource = [...m.entries()]
      .map(([c, [rows, q, s]]) => ({
        source: c < 0 ? '(none)' : inc.source!.values[c],
        rows,
        quarantined: q,
        rate: q / rows,
        meanScore: s / rows,
      }))
      .sort((a, b) => b.quarantined - a.quarantined || b.rows - a.rows)
      .slice(0, 30);
  }
  if (inc.time) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < inc.n; i++) {
      const t = inc.time[i];
      if (Number.isFinite(t)) {
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
    }
    if (Number.isFinite(lo)) {
      const W = 12;
      const width = Math.max(1, (hi - lo) / W);
      const rows = new Float64Array(W);
      const q = new Float64Array(W);
      for (let i = 0; i < inc.n; i++) {
        const t = inc.time[i];
        if (!Number.isFinite(t)) continue;
        const w = Math.min(W - 1, Math.floor((t - lo) / width));
        rows[w]++;
        q[w] += quarantined[i];
      }
      out.byWindow = Array.from({ length: W }, (_, w) => ({
        start: timeText(lo + w * width) ?? '',
        rows: rows[w],
        quarantined: q[w],
        rate: rows[w] ? q[w] / rows[w] : 0,
      }));
    }
  }
  return out;
}

function histogram(scores: Float32Array): Array<{ bin: number; rows: number }> {
  const B = 20;
  const h = new Float64Array(B);
  for (let i = 0; i < scores.length; i++) h[Math.min(B - 1, Math.floor(scores[i] * B))]++;
  return Array.from(h, (rows, b) => ({ bin: b / B, rows }));
}

/** Run the audit and, when `outDir` is set, write every output together (or none). */
export async function audit(opts: AuditOptions): Promise<AuditReport> {
  if (opts.trusted === opts.incoming) throw usageError('--trusted and --incoming name the same file');
  const run = await runAudit(opts);
  try {
    if (opts.outDir) {
      opts.progress?.label('writing outputs');
      const { writeOutputs } = await import('./quarantine.js');
      await writeOutputs(run, opts.outDir, { force: opts.force });
      opts.progress?.tick();
    }
    return run.report;
  } finally {
    run.source.close();
  }
}

/** Exit decision: any finding at or above failOn. */
export function shouldFail(report: AuditReport, failOn: Severity): boolean {
  return report.findings.some((f) => atLeast(f.severity, failOn));
}

/**
 * A reason without its details: cut at the first parenthesis outside double quotes (a quoted name such as
 * "(15 new accounts)" or a trigger with a bracket in it is what the reason is about, not a detail).
 */
export function reasonHead(reason: string): string {
  let quoted = false;
  for (let k = 0; k < reason.length; k++) {
    const ch = reason[k];
    if (ch === '"') quoted = !quoted;
    else if (ch === '(' && !quoted) return reason.slice(0, k).trimEnd();
  }
  return reason;
}
