import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { httpModel } from '../../src/gate/models/http.js';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { loadPredictions } from '../../src/gate/models/predictions.js';
import { type GateModel, ModelError } from '../../src/gate/models/types.js';
import { FIXTURES } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ADULT_NUMERIC, adultSplit, batchOf } from './helpers/data.js';
import { type Fault, serveModel } from './helpers/serve.js';

const F = join(FIXTURES, 'gate');
const tmp = tempDir('antidote-gate-models-');
const trusted = adultSplit().trusted;
const small = { header: trusted.header, rows: trusted.rows.slice(0, 300) };
const batch = batchOf(small, ADULT_NUMERIC);
const truth = small.rows.map((r) => (r[14] === '>50K' ? 1 : 0));

function accuracy(p: Float64Array): number {
  let ok = 0;
  truth.forEach((y, i) => {
    if ((p[2 * i + 1] > 0.5 ? 1 : 0) === y) ok++;
  });
  return ok / truth.length;
}

describe('ONNX models', () => {
  it('feeds one named input per column (strings, floats, int64) and reads probabilities', async () => {
    const m = await loadOnnxModel(join(F, 'adult_lr_incumbent.onnx'), { classes: 2 });
    const p = await m.score(batch);
    expect(p.length).toBe(600);
    for (let i = 0; i < 300; i++) expect(p[2 * i] + p[2 * i + 1]).toBeCloseTo(1, 5);
    expect(accuracy(p)).toBeGreaterThan(0.78);
    expect(m.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    await m.close();
  });

  it('feeds a single 2-D float input from --features in order (tree ensemble)', async () => {
    const m = await loadOnnxModel(join(F, 'adult_forest_incumbent.onnx'), {
      classes: 2,
      features: ADULT_NUMERIC,
    });
    const p = await m.score(batch);
    expect(accuracy(p)).toBeGreaterThan(0.75);
    // Feeding the columns in another order changes the answers: order matters and is honoured.
    const swapped = await loadOnnxModel(join(F, 'adult_forest_incumbent.onnx'), {
      classes: 2,
      features: [...ADULT_NUMERIC].reverse(),
    });
    const q = await swapped.score(batch);
    expect(Array.from(q)).not.toEqual(Array.from(p));
  });

  it('reads a model exported for a fixed batch size (1 or 8 rows) as the same model with a free one', async () => {
    const free = await loadOnnxModel(join(F, 'adult_mlp_batchany.onnx'), {
      classes: 2,
      features: ADULT_NUMERIC,
    });
    const want = Array.from(await free.score(batch));
    expect(new Set(want.map((p) => p.toFixed(3))).size).toBeGreaterThan(50);
    for (const b of [1, 8]) {
      const m = await loadOnnxModel(join(F, `adult_mlp_batch${b}.onnx`), {
        classes: 2,
        features: ADULT_NUMERIC,
      });
      // 300 rows: one run per row, or 37 windows of 8 and a last one of 4 padded to 8.
      expect(Array.from(await m.score(batch))).toEqual(want);
      await m.close();
    }
    await free.close();
  });

  it('refuses a model that answers logits, saying how to end it with a softmax', async () => {
    const m = await loadOnnxModel(join(F, 'adult_mlp_logits.onnx'), { classes: 2, features: ADULT_NUMERIC });
    const err = await m.score(batch).then(
      () => undefined,
      (e: unknown) => e as ModelError,
    );
    expect(err?.message).toMatch(/returned -?[\d.]+ for row \d+, outside \[0, 1\]/);
    expect(err?.hint).toMatch(/not logits: end the model with a softmax .*torch\.nn\.Softmax\(dim=1\)/);
    await m.close();
  });

  it('says how to feed a vector input when the data holds it as a list column (it said only "not a column")', async () => {
    const m = await loadOnnxModel(join(F, 'adult_forest_incumbent.onnx'), { classes: 2 });
    const lists = {
      n: 2,
      columns: new Map([
        ['embedding', { kind: 'string' as const, values: ['[0.1, -2, 3e-4]', '[1, 2, 3]'] }],
      ]),
      ids: ['1', '2'],
    };
    await expect(m.score(lists)).rejects.toThrow(/holds a list of numbers per row in "embedding"/);
    await m.close();
  });

  it('refuses a model whose operators are outside the standard domains, before running it', async () => {
    await expect(
      loadOnnxModel(join(F, 'custom_domain.onnx'), { classes: 2, features: ADULT_NUMERIC }),
    ).rejects.toThrow(/com\.example\.custom/);
  });

  it('names the missing input when a column the model needs is absent', async () => {
    const m = await loadOnnxModel(join(F, 'adult_lr_incumbent.onnx'), { classes: 2 });
    const cols = new Map(batch.columns);
    cols.delete('native_country');
    await expect(m.score({ ...batch, columns: cols })).rejects.toThrow(/native_country/);
  });

  it('refuses a file that is not ONNX', async () => {
    const bad = join(tmp, 'bad.onnx');
    writeFileSync(bad, 'not a model at all');
    await expect(loadOnnxModel(bad, { classes: 2 })).rejects.toBeInstanceOf(ModelError);
  });
});

describe('predictions files', () => {
  it('reads one score column or per-class columns by id, and fails on a missing id', async () => {
    const ids = batch.ids;
    writeFileSync(
      join(tmp, 'p1.csv'),
      `id,score\n${ids.map((id, i) => `${id},${i % 2 ? 0.9 : 0.1}`).join('\n')}\n`,
    );
    const m = await loadPredictions(join(tmp, 'p1.csv'), { id: 'id', classes: ['<=50K', '>50K'] });
    const p = await m.score(batch);
    expect(p[1]).toBeCloseTo(0.1);
    expect(p[3]).toBeCloseTo(0.9);
    expect(m.runnable).toBe(false);
    writeFileSync(
      join(tmp, 'p2.csv'),
      `id,prob_<=50K,prob_>50K\n${ids
        .slice(1)
        .map((id) => `${id},0.3,0.7`)
        .join('\n')}\n`,
    );
    const m2 = await loadPredictions(join(tmp, 'p2.csv'), { id: 'id', classes: ['<=50K', '>50K'] });
    await expect(m2.score(batch)).rejects.toThrow(/no prediction for id "1"/);
  });

  it('rejects scores outside [0, 1] and missing score columns', async () => {
    writeFileSync(join(tmp, 'p3.csv'), 'id,score\n1,1.7\n');
    const m = await loadPredictions(join(tmp, 'p3.csv'), { id: 'id', classes: ['a', 'b'] });
    await expect(m.score({ n: 1, columns: new Map(), ids: ['1'] })).rejects.toThrow(/outside \[0, 1\]/);
    writeFileSync(join(tmp, 'p4.csv'), 'id,whatever\n1,0.5\n');
    await expect(loadPredictions(join(tmp, 'p4.csv'), { id: 'id', classes: ['a', 'b'] })).rejects.toThrow(
      /neither a score column/,
    );
  });
});

describe('HTTP endpoints (KServe v1 JSON on 127.0.0.1)', () => {
  const servers: Array<{ close: () => Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });
  let onnx: GateModel;
  const serve = async (fault: Fault, extra = {}) => {
    onnx ??= await loadOnnxModel(join(F, 'adult_lr_incumbent.onnx'), { classes: 2 });
    const s = await serveModel(onnx, { fault, ...extra });
    servers.push(s);
    return s;
  };
  const fast = {
    classes: 2,
    columns: small.header.filter((h) => h !== 'income'),
    timeoutMs: 400,
    retries: 2,
    backoffMs: 10,
    batchSize: 64,
  };

  it('scores in batches with bounded concurrency and gives the same answers as the model in process', async () => {
    const s = await serve('none');
    const m = httpModel(s.url, { ...fast, timeoutMs: 10_000 });
    const p = await m.score(batch);
    const q = await onnx.score(batch);
    for (let i = 0; i < p.length; i++) expect(p[i]).toBeCloseTo(q[i], 5);
    expect(s.requests()).toBe(Math.ceil(300 / 64));
  });

  it('retries transient errors with backoff', async () => {
    const s = await serve('flaky', { flakyFailures: 2 });
    const m = httpModel(s.url, { ...fast, batchSize: 1000 });
    await m.score(batch);
    expect(s.requests()).toBe(3);
  });

  const cases: Array<[Fault, RegExp]> = [
    ['status500', /HTTP 500 \(after 3 tries\)/],
    ['status400', /HTTP 400/],
    ['hang', /timed out after 400 ms/],
    ['wrong-count', /returned 63 predictions for 64 inputs/],
    ['wrong-width', /3 probabilities per row but the labels have 2 classes/],
    ['nan', /invalid JSON|NaN/],
    ['out-of-range', /outside \[0, 1\]/],
    ['not-json', /invalid JSON/],
    ['no-predictions', /without a "predictions" array/],
  ];
  for (const [fault, reason] of cases) {
    it(`fails with a clear reason when the endpoint misbehaves: ${fault}`, async () => {
      const s = await serve(fault);
      const m = httpModel(s.url, fast);
      const err = await m.score(batch).catch((e) => e);
      expect(err).toBeInstanceOf(ModelError);
      expect(err.message).toMatch(reason);
    });
  }

  it('fails when nothing listens', async () => {
    const probe = await serveModel(undefined);
    const url = probe.url;
    await probe.close();
    const m = httpModel(url, { ...fast, retries: 1 });
    const err = await m.score(batch).catch((e) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err.message).toMatch(/did not answer: ECONNREFUSED/);
  });
});
