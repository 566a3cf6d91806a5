/**
 * `antidote gate` as a library: load the trusted set, open both models, score them, run the checks
 * (trusted holdout, slices, output shift, live versus trusted, trigger probes) and decide. Pure analysis:
 * nothing is printed or written here (see render.ts, report-html.ts and sign.ts for outputs).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ATLAS } from '../core/atlas.js';
import { describeFsError, schemaError, usageError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import { makeFinding, type RuleMeta } from '../core/rule.js';
import { toolVersion } from '../core/version.js';
import { DEFAULT_SETTINGS, type GateContext, type GateSettings } from './context.js';
import { decide, type GateReport, type ModelInfo } from './decision.js';
import { evaluatePair } from './evaluate.js';
import { checkHoldout } from './holdout.js';
import { checkLive } from './live.js';
import { openModel } from './models/index.js';
import { type GateModel, type InputBatch, ModelError } from './models/types.js';
import { allPredicates } from './predicates.js';
import {
  autoTriggers,
  runProbes,
  type Trigger,
  textColumnsOf,
  triggersFromAudit,
  triggersFromFile,
} from './probes.js';
import { readTable } from './read.js';
import { checkShift } from './shift.js';
import { checkDeclaredSlices, discoverSlices } from './slices.js';
import { classesOf, featureColumns, type GateTable, shapeTable } from './table.js';

export const unavailableMeta: RuleMeta = {
  id: 'gate/model-unavailable',
  title: 'A model could not be evaluated',
  severity: 'critical',
  atlas: ATLAS.erodeIntegrity,
  rationale:
    'The gate fails closed: a model it cannot run or whose answers are malformed (endpoint down, timeouts, wrong shapes, NaN, missing predictions) is never promoted.',
};

export interface GateOptions {
  trusted: string;
  label: string;
  id?: string;
  /** A MODEL string (path or URL) or an already-open model (in-process adapters). */
  incumbent: string | GateModel;
  candidate: string | GateModel;
  live?: string;
  slices?: string[];
  /**
   * `auto` (the default) or a file of triggers; `false` skips the probes (stated as a caveat). With the
   * default, models that cannot be run (predictions files) skip the probes with that reason instead of failing.
   */
  probe?: string | false;
  audit?: string;
  features?: string[];
  settings?: Partial<GateSettings>;
  http?: {
    timeoutMs?: number;
    retries?: number;
    concurrency?: number;
    batchSize?: number;
    backoffMs?: number;
  };
}

export async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (err) {
    throw describeFsError(path, err);
  }
  return `sha256:${h.digest('hex')}`;
}

function mergeSettings(s: Partial<GateSettings> = {}): GateSettings {
  const d = DEFAULT_SETTINGS;
  return {
    seed: s.seed ?? d.seed,
    replicates: s.replicates ?? d.replicates,
    confidence: s.confidence ?? d.confidence,
    margins: { ...d.margins, ...s.margins },
    slices: { ...d.slices, ...s.slices },
    shift: { ...d.shift, ...s.shift },
    probes: { ...d.probes, ...s.probes },
  };
}

function batchOf(t: GateTable): InputBatch {
  return { n: t.n, columns: t.columns, ids: t.ids };
}

function info(m: GateModel | undefined, spec: string | GateModel): ModelInfo {
  if (m) return { kind: m.kind, source: m.source, digest: m.digest };
  return { kind: 'unknown', source: typeof spec === 'string' ? spec : spec.source, digest: '' };
}

export async function runGate(opts: GateOptions): Promise<GateReport> {
  const started = Date.now();
  const settings = mergeSettings(opts.settings);
  const raw = await readTable(opts.trusted);
  const classes = classesOf(raw, opts.label);
  if (classes.length < 2)
    throw schemaError(`${opts.trusted}: the label column "${opts.label}" has fewer than two classes`);
  const trusted = shapeTable(opts.trusted, raw, { label: opts.label, id: opts.id }, classes);
  const features = featureColumns(trusted, { label: opts.label, id: opts.id, features: opts.features });
  for (const s of opts.slices ?? [])
    if (!trusted.columns.has(s))
      throw usageError(`--slices names "${s}", which ${opts.trusted} does not have`);
  const explicitProbe = typeof opts.probe === 'string' && opts.probe !== 'auto';
  let probe: string | undefined = opts.probe === false ? undefined : (opts.probe ?? 'auto');
  let probeSkipped = opts.probe === false ? 'probes turned off with --no-probe' : '';
  const trustedDigest = await fileDigest(opts.trusted);
  const labelled = trusted.labels.reduce((a, c) => a + (c >= 0 ? 1 : 0), 0);

  const findings: Finding[] = [];
  const checks: GateReport['checks'] = [];
  const report: GateReport = {
    version: 1,
    tool: { name: 'antidote', version: toolVersion() },
    createdAt: new Date().toISOString(),
    decision: 'block',
    reasons: [],
    caveats: [],
    trusted: { path: opts.trusted, digest: trustedDigest, rows: trusted.n, labelled, classes },
    models: { incumbent: info(undefined, opts.incumbent), candidate: info(undefined, opts.candidate) },
    checks,
    findings,
    settings,
    durationMs: 0,
  };
  const finish = (): GateReport => {
    const d = decide(findings, checks);
    report.decision = d.decision;
    report.reasons = d.reasons;
    report.caveats = d.caveats;
    report.durationMs = Date.now() - started;
    return report;
  };
  const unavailable = (role: string, err: ModelError) => {
    findings.push(
      makeFinding(unavailableMeta, `The ${role} model cannot be evaluated: ${err.oneLine()}.`, {
        evidence: { role, reason: err.message },
      }),
    );
  };

  // Models.
  const open = async (spec: string | GateModel, role: string): Promise<GateModel | undefined> => {
    if (typeof spec !== 'string') return spec;
    try {
      return await openModel(spec, {
        classes,
        columns: features,
        features: opts.features,
        id: opts.id,
        http: opts.http,
      });
    } catch (err) {
      if (err instanceof ModelError) {
        unavailable(role, err);
        return undefined;
      }
      throw err;
    }
  };
  const incumbent = await open(opts.incumbent, 'incumbent');
  const candidate = await open(opts.candidate, 'candidate');
  report.models = { incumbent: info(incumbent, opts.incumbent), candidate: info(candidate, opts.candidate) };
  if (probe && ((incumbent && !incumbent.runnable) || (candidate && !candidate.runnable))) {
    if (explicitProbe || (opts.probe === 'auto' && !opts.audit))
      throw usageError(
        '--probe needs models that can be run (ONNX or HTTP); a predictions file cannot be probed',
        'drop --probe or give runnable models',
      );
    probe = undefined;
    probeSkipped = 'a predictions file cannot be probed for triggers (give ONNX or HTTP models)';
  }
  try {
    if (!incumbent || !candidate) return finish();
    const scoreBoth = async (batch: InputBatch): Promise<[Float64Array, Float64Array] | undefined> => {
      const r = await Promise.allSettled([incumbent.score(batch), candidate.score(batch)]);
      let ok = true;
      r.forEach((x, i) => {
        if (x.status === 'rejected') {
          ok = false;
          if (x.reason instanceof ModelError) unavailable(i === 0 ? 'incumbent' : 'candidate', x.reason);
          else throw x.reason;
        }
      });
      return ok
        ? [
            (r[0] as PromiseFulfilledResult<Float64Array>).value,
            (r[1] as PromiseFulfilledResult<Float64Array>).value,
          ]
        : undefined;
    };
    const scored = await scoreBoth(batchOf(trusted));
    if (!scored) return finish();
    const ctx: GateContext = {
      trusted,
      classes,
      features,
      incumbent: scored[0],
      candidate: scored[1],
      settings,
    };

    const run = (name: string, f: Finding[], note?: string) => {
      findings.push(...f);
      checks.push({ name, ran: true, findings: f.length, ...(note ? { note } : {}) });
    };
    const holdout = checkHoldout(ctx);
    report.metrics = holdout.evaluation;
    run('trusted-holdout', holdout.findings);

    const preds = allPredicates(trusted, features, { minSize: settings.slices.minSize });
    const declared = opts.slices?.length ? checkDeclaredSlices(ctx, opts.slices) : undefined;
    const discovered = discoverSlices(ctx, preds);
    report.slices = { declared: declared?.slices ?? [], discovery: discovered.discovery };
    run(
      'slices',
      [...(declared?.findings ?? []), ...discovered.findings],
      `${discovered.discovery.evaluated} candidate slices searched`,
    );

    const shift = checkShift(ctx, preds, opts.slices);
    report.shift = shift.shift;
    run('output-shift', shift.findings);

    if (opts.live) {
      const lraw = await readTable(opts.live);
      const live = shapeTable(opts.live, lraw, { label: opts.label, id: opts.id }, classes);
      for (const f of features)
        if (!live.columns.has(f))
          throw schemaError(`${opts.live} has no column "${f}", which the models need`);
      report.live = { path: opts.live, digest: await fileDigest(opts.live), rows: live.n };
      const ls = await scoreBoth(batchOf(live));
      if (!ls) return finish();
      const liveEval = evaluatePair(live.labels, ls[0], ls[1], classes, {
        replicates: settings.replicates,
        confidence: settings.confidence,
        seed: settings.seed + 1,
      });
      report.liveMetrics = liveEval;
      run('live-vs-trusted', checkLive(ctx, holdout.evaluation, liveEval));
    } else checks.push({ name: 'live-vs-trusted', ran: false, note: 'no --live set given', findings: 0 });

    if (probe) {
      const textColumns = textColumnsOf(ctx);
      let triggers: Trigger[] = [];
      if (opts.audit) triggers.push(...(await triggersFromAudit(opts.audit, textColumns, features)));
      if (probe === 'auto') triggers.push(...autoTriggers(ctx, textColumns, settings.probes.maxTriggers));
      else triggers.push(...(await triggersFromFile(probe, textColumns, features)));
      const seen = new Set<string>();
      triggers = triggers
        .filter((x) => {
          const key = `${x.column}\u0000${x.kind}\u0000${x.value}\u0000${JSON.stringify(x.also ?? [])}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        })
        .slice(0, settings.probes.maxTriggers);
      try {
        const probes = await runProbes(ctx, { incumbent, candidate }, triggers, batchOf(trusted));
        report.probes = probes.summary;
        run('trigger-probes', probes.findings, `${triggers.length} candidate triggers`);
      } catch (err) {
        if (!(err instanceof ModelError)) throw err;
        unavailable('candidate or incumbent', err);
      }
    } else checks.push({ name: 'trigger-probes', ran: false, note: probeSkipped, findings: 0 });
    return finish();
  } finally {
    await Promise.allSettled([incumbent?.close(), candidate?.close()]);
  }
}
