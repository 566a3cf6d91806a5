/** Open a MODEL argument: an http(s) URL, an .onnx file, or a predictions file (.csv, .tsv, .parquet, .jsonl). */
import { usageError } from '../../core/errors.js';
import { httpModel } from './http.js';
import { loadOnnxModel } from './onnx.js';
import { loadPredictions } from './predictions.js';
import type { GateModel } from './types.js';

export * from './types.js';

export interface OpenOptions {
  classes: string[];
  /** Columns an endpoint receives (all but label and id, or --features). */
  columns: string[];
  /** Feed a single 2-D float input from these columns (ONNX). */
  features?: string[];
  id?: string;
  http?: {
    timeoutMs?: number;
    deadlineMs?: number;
    retries?: number;
    concurrency?: number;
    batchSize?: number;
    backoffMs?: number;
  };
}

export async function openModel(spec: string, opts: OpenOptions): Promise<GateModel> {
  if (/^https?:\/\//i.test(spec))
    return httpModel(spec, { classes: opts.classes.length, columns: opts.columns, ...opts.http });
  const lower = spec.toLowerCase();
  if (lower.endsWith('.onnx') || lower.endsWith('.ort'))
    return loadOnnxModel(spec, { classes: opts.classes.length, features: opts.features });
  if (/\.(csv|tsv|parquet|jsonl|ndjson|json)$/.test(lower)) {
    if (!opts.id)
      throw usageError(
        `${spec} is a predictions file, which needs --id to match its rows`,
        'add --id COLUMN, the id column of the trusted set and of the predictions file',
      );
    return loadPredictions(spec, { id: opts.id, classes: opts.classes });
  }
  throw usageError(
    `cannot tell what kind of model ${spec} is`,
    'give an .onnx file, an http(s):// endpoint or a predictions .csv/.parquet',
  );
}
