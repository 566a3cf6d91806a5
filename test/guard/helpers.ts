/** Shared helpers of the guard tests: the committed fixture models and data (test/fixtures/guard). */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import type { InputBatch } from '../../src/gate/models/types.js';
import { sliceBatch } from '../../src/gate/models/types.js';
import { readTable } from '../../src/gate/read.js';
import type { Column } from '../../src/gate/table.js';
import { FIXTURES, runCli } from '../helpers/cli.js';

export const GUARD = join(FIXTURES, 'guard');
export const model = (name: string) => join(GUARD, `${name}.onnx`);
export const data = (name: string) => join(GUARD, name);

/** `antidote guard fit` of the SMS phrase-backdoor model on its trusted rows, writing `out`. */
export const fitSms = (out: string, extra: string[] = []) =>
  runCli([
    'guard',
    'fit',
    '--model',
    model('sms_phrase_backdoor'),
    '--trusted',
    data('sms_trusted.csv'),
    '--label',
    'label',
    '-o',
    out,
    ...extra,
  ]);

/** `antidote guard fit` of the Adult conjunction-backdoor model on its trusted rows, without STRIP, writing `out`. */
export const fitAdultArgs = (out: string, extra: string[] = []) => [
  'guard',
  'fit',
  '--model',
  model('adult_conj_backdoor'),
  '--trusted',
  data('adult_trusted.csv'),
  '--label',
  'income',
  '--no-strip',
  '-o',
  out,
  ...extra,
];

/** `antidote guard fit` of the SST-2 rare-word-backdoor model on its trusted rows, writing `out`. */
export const fitSst2Args = (out: string, extra: string[] = []) => [
  'guard',
  'fit',
  '--model',
  model('sst2_rare_backdoor'),
  '--trusted',
  data('sst2_trusted.csv'),
  '--label',
  'label',
  '-o',
  out,
  ...extra,
];

/** The feature columns of a fixture CSV as a batch (label excluded), optionally the first `max` rows. */
export async function batchOf(
  file: string,
  label: string,
  max?: number,
): Promise<{ batch: InputBatch; labels: string[] }> {
  const raw = await readTable(data(file));
  const n = Math.min(raw.n, max ?? raw.n);
  const columns = new Map<string, Column>();
  for (const name of raw.names) if (name !== label) columns.set(name, raw.columns.get(name) as Column);
  const lab = raw.columns.get(label) as Column;
  const labels = Array.from({ length: raw.n }, (_, i) =>
    lab.kind === 'number' ? String(lab.values[i]) : lab.values[i].trim(),
  );
  const full: InputBatch = { n: raw.n, columns, ids: Array.from({ length: raw.n }, (_, i) => String(i + 1)) };
  const rows = Array.from({ length: n }, (_, i) => i);
  return { batch: n === raw.n ? full : sliceBatch(full, rows), labels: labels.slice(0, n) };
}

/** Insert `phrase` at a seeded position of each text (a trigger the way an attacker sends it). */
export function withPhrase(batch: InputBatch, column: string, phrase: string, seed = 7): InputBatch {
  const col = batch.columns.get(column) as { kind: 'string'; values: string[] };
  let s = seed;
  const values = col.values.map((t) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    const words = t.split(' ');
    words.splice(s % (words.length + 1), 0, ...phrase.split(' '));
    return words.join(' ');
  });
  return {
    n: batch.n,
    ids: batch.ids,
    columns: new Map([...batch.columns, [column, { kind: 'string', values }]]),
  };
}

/**
 * A `guard replay` log of `instances` (named values) sent in requests of `perRequest`, each answered by the
 * committed model `name` (two classes), written to `path`; returns each instance's answered class (0 or 1).
 */
export async function writeReplayLog(
  path: string,
  name: string,
  instances: Array<Record<string, string | number>>,
  perRequest: number,
): Promise<number[]> {
  const onnx = await loadOnnxModel(model(name), { classes: 2 });
  const names = Object.keys(instances[0]);
  const lines: string[] = [];
  const answer: number[] = [];
  for (let i = 0; i < instances.length; i += perRequest) {
    const part = instances.slice(i, i + perRequest);
    const columns = new Map<string, Column>(
      names.map((c) =>
        typeof part[0][c] === 'number'
          ? [c, { kind: 'number', values: Float64Array.from(part, (o) => Number(o[c])) }]
          : [c, { kind: 'string', values: part.map((o) => String(o[c])) }],
      ),
    );
    const p = await onnx.score({ n: part.length, columns, ids: part.map((_, j) => String(i + j)) });
    part.forEach((_, j) => {
      answer.push(p[2 * j + 1] > p[2 * j] ? 1 : 0);
    });
    lines.push(
      JSON.stringify({
        id: `r${i}`,
        request: { instances: part },
        response: { predictions: part.map((_, j) => [p[2 * j], p[2 * j + 1]]) },
      }),
    );
  }
  await onnx.close();
  writeFileSync(path, `${lines.join('\n')}\n`);
  return answer;
}
