/**
 * A predict request's instances as the scorer's column batch. TF Serving / KServe v1 row format only:
 * `{"instances": [{"column": value, ...}, ...]}`, or rows of numbers when the profile's model takes one float
 * input (its `features` give the order). Anything else is refused before it reaches the model: an instance the
 * guard cannot read is an instance it cannot check.
 */

import type { InputBatch } from '../../gate/models/types.js';
import type { Column } from '../../gate/table.js';
import type { WatchProfile } from './types.js';

export class RequestError extends Error {}

export function instancesOf(body: unknown, maxInstances: number): unknown[] {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new RequestError('the request body is not a JSON object');
  const inst = (body as { instances?: unknown }).instances;
  if (!Array.isArray(inst)) {
    if ('inputs' in (body as object))
      throw new RequestError(
        'the columnar "inputs" format is not supported by the guard; send "instances" (row format)',
      );
    throw new RequestError('the request has no "instances" array');
  }
  if (inst.length === 0) throw new RequestError('"instances" is empty');
  if (inst.length > maxInstances)
    throw new RequestError(
      `${inst.length} instances in one request; the guard accepts at most ${maxInstances}`,
    );
  return inst;
}

export function toBatch(profile: WatchProfile, instances: unknown[], requestId: string): InputBatch {
  const n = instances.length;
  const features = profile.model.features;
  const columns = new Map<string, Column>();
  const pos = new Map<string, number>();
  for (const [i, f] of (features ?? []).entries()) pos.set(f, i);
  for (const c of profile.inputs) {
    if (c.type === 'number') columns.set(c.name, { kind: 'number', values: new Float64Array(n) });
    else columns.set(c.name, { kind: 'string', values: new Array<string>(n) });
  }
  for (let i = 0; i < n; i++) {
    const x = instances[i];
    let get: (name: string) => unknown;
    if (Array.isArray(x)) {
      if (!features)
        throw new RequestError(`instance ${i + 1} is an array but the model takes named columns`);
      if (x.length !== features.length)
        throw new RequestError(
          `instance ${i + 1} has ${x.length} values; the model takes ${features.length}`,
        );
      get = (name) => {
        const p = pos.get(name);
        return p === undefined ? undefined : x[p];
      };
    } else if (x && typeof x === 'object') get = (name) => (x as Record<string, unknown>)[name];
    else throw new RequestError(`instance ${i + 1} is neither an object nor an array`);
    for (const c of profile.inputs) {
      const col = columns.get(c.name) as Column;
      const v = get(c.name);
      if (v !== null && v !== undefined && typeof v !== 'number' && typeof v !== 'string')
        throw new RequestError(`instance ${i + 1}: "${c.name}" is neither a number nor a string`);
      if (col.kind === 'number')
        col.values[i] = v === null || v === undefined || v === '' ? Number.NaN : Number(v);
      else col.values[i] = v === null || v === undefined ? '' : String(v);
    }
  }
  return { n, columns, ids: Array.from({ length: n }, (_, i) => `${requestId}:${i}`) };
}

/** Row accessor for slice matching. */
export function rowOf(batch: InputBatch, i: number): (name: string) => string | number | undefined {
  return (name) => {
    const c = batch.columns.get(name);
    return c ? c.values[i] : undefined;
  };
}
