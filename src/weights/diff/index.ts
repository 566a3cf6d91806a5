/**
 * `antidote diff`: a candidate model against the base it claims to come from. Weights are compared tensor
 * by tensor (tensors.ts, compare.ts) and the change classified (classify.ts); for folders, the tokenizer,
 * chat template and configuration are compared too (folders.ts). When the candidate is a PEFT adapter, the
 * adapter's own updates are scored instead (adapter forensics) and checked against the base's shapes.
 */

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pushAll } from '../../core/arrays.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { notCompared, shapeChanged, tensorsAdded, tensorsRemoved } from '../rules.js';
import { type OpenOptions, openModel, type TensorStore } from '../store.js';
import { classify, type DiffSummary, unjudgedWeight } from './classify.js';
import type { TensorDelta } from './compare.js';
import { diffFolders } from './folders.js';
import { diffTensors, type TensorDiff } from './tensors.js';

export interface ModelSide {
  path: string;
  format: TensorStore['format'];
  files: string[];
  tensors: number;
}

export interface DiffReport {
  version: 1;
  kind: 'diff';
  mode: 'weights' | 'adapter';
  base: ModelSide;
  candidate: ModelSide;
  summary?: DiffSummary;
  tensors: TensorDelta[];
  added: TensorDiff['added'];
  removed: TensorDiff['removed'];
  reshaped: TensorDiff['reshaped'];
  tied: string[];
  adapter?: import('../adapter/score.js').AdapterAssessment;
  findings: Finding[];
  /** Wall time of the comparison, in milliseconds. */
  elapsedMs: number;
}

const side = (path: string, s: TensorStore): ModelSide => ({
  path,
  format: s.format,
  files: s.files,
  tensors: s.tensors.length,
});

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function isAdapter(p: string): Promise<boolean> {
  return (
    (await isDir(p)) &&
    stat(join(p, 'adapter_config.json')).then(
      () => true,
      () => false,
    )
  );
}

function structureFindings(d: TensorDiff): Finding[] {
  const out: Finding[] = [];
  if (d.reshaped.length)
    out.push(
      makeFinding(
        shapeChanged,
        `${d.reshaped.length} tensor${d.reshaped.length > 1 ? 's have' : ' has'} another shape than in the base (${d.reshaped
          .slice(0, 3)
          .map((r) => `${r.candidate} [${r.baseShape}] -> [${r.candidateShape}]`)
          .join('; ')}); they were not compared.`,
        { location: { tensor: d.reshaped[0].candidate }, evidence: { reshaped: d.reshaped.slice(0, 50) } },
      ),
    );
  if (d.added.length)
    out.push(
      makeFinding(
        tensorsAdded,
        `The candidate has ${d.added.length} tensor${d.added.length > 1 ? 's' : ''} the base lacks (${d.added
          .slice(0, 5)
          .map((t) => t.name)
          .join(', ')}).`,
        {
          location: { tensor: d.added[0].name },
          evidence: { added: d.added.slice(0, 50).map((t) => ({ name: t.name, shape: t.shape })) },
        },
      ),
    );
  if (d.removed.length)
    out.push(
      makeFinding(
        tensorsRemoved,
        `${d.removed.length} tensor${d.removed.length > 1 ? 's' : ''} of the base ${d.removed.length > 1 ? 'are' : 'is'} missing from the candidate (${d.removed
          .slice(0, 5)
          .map((t) => t.name)
          .join(', ')}).`,
        {
          location: { tensor: d.removed[0].name },
          evidence: { removed: d.removed.slice(0, 50).map((t) => t.name) },
        },
      ),
    );
  const nc = d.deltas.filter((t) => t.status === 'not-compared');
  // Weights the reader cannot decode (FP8, i-quants) are what a model computes with: a verdict that cannot see
  // them fails closed. Integer and boolean buffers (position ids, masks) are only listed.
  const weights = nc.filter(unjudgedWeight);
  if (nc.length)
    out.push(
      makeFinding(
        notCompared,
        `${nc.length} tensor${nc.length > 1 ? 's were' : ' was'} not compared (${nc
          .slice(0, 3)
          .map((t) => `${t.candidate}: ${t.reason}`)
          .join(
            '; ',
          )}); the verdict does not cover them${weights.length ? `, ${weights.length} of them weights in a format this reader does not decode, so the candidate is not judged: compare a copy in a float dtype (F32, F16, BF16) or a format listed in the README` : ''}.`,
        {
          severity: weights.length ? 'high' : 'medium',
          location: { tensor: nc[0].candidate },
          evidence: { tensors: nc.slice(0, 50).map((t) => t.candidate), weights: weights.length },
        },
      ),
    );
  return out;
}

export interface DiffOptions extends OpenOptions {
  onProgress?: (done: number, total: number) => void;
}

export async function diffModels(
  basePath: string,
  candPath: string,
  opts: DiffOptions = {},
): Promise<DiffReport> {
  const t0 = performance.now();
  const base = await openModel(basePath, opts);
  let cand: TensorStore | undefined;
  try {
    cand = await openModel(candPath, opts);
    if (await isAdapter(candPath)) {
      const { assessAdapter } = await import('../adapter/score.js');
      const adapter = await assessAdapter(candPath, cand, { store: base, path: basePath });
      return {
        version: 1,
        kind: 'diff',
        mode: 'adapter',
        base: side(basePath, base),
        candidate: side(candPath, cand),
        tensors: [],
        added: [],
        removed: [],
        reshaped: [],
        tied: [],
        adapter,
        findings: adapter.findings,
        elapsedMs: performance.now() - t0,
      };
    }
    const d = await diffTensors(base, cand, opts.onProgress, { base: basePath, cand: candPath });
    const { summary, findings } = classify(d.deltas);
    pushAll(findings, structureFindings(d));
    if ((await isDir(basePath)) && (await isDir(candPath)))
      pushAll(findings, await diffFolders(basePath, candPath));
    return {
      version: 1,
      kind: 'diff',
      mode: 'weights',
      base: side(basePath, base),
      candidate: side(candPath, cand),
      summary,
      tensors: d.deltas,
      added: d.added,
      removed: d.removed,
      reshaped: d.reshaped,
      tied: d.tied,
      findings,
      elapsedMs: performance.now() - t0,
    };
  } finally {
    await base.close();
    await cand?.close();
  }
}
