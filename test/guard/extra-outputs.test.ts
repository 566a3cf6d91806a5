/**
 * Exposing an intermediate tensor as an extra graph output must not change what the model answers: the edited
 * graph gives the same probabilities as the untouched file run by the gate's own loader, every byte outside the
 * graph field is kept, and the exposed tensor is really the layer (the next Gemm recomputed from it matches).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { loadActivationModel } from '../../src/guard/activation-model.js';
import { defaultLayer, layerNames, readGraph, withExtraOutputs } from '../../src/guard/onnx-graph.js';
import { ADULT_NUMERIC, adultSplit, batchOf as gateBatchOf } from '../gate/helpers/data.js';
import { FIXTURES } from '../helpers/cli.js';
import { batchOf, model } from './helpers.js';

describe('extra graph outputs', () => {
  it('finds the layers and picks the input of the last Gemm by default', () => {
    const g = readGraph(new Uint8Array(readFileSync(model('adult_conj_backdoor'))));
    expect(defaultLayer(g)).toBe('hidden');
    expect(layerNames(g)).toContain('features');
    expect(g.outputs).toEqual(['probabilities']);
  });

  it('appends outputs to the graph and leaves every other byte of the model as it was', () => {
    const bytes = new Uint8Array(readFileSync(model('sst2_rare_backdoor')));
    const edited = withExtraOutputs(bytes, ['hidden', 'pooled']);
    const g = readGraph(edited);
    expect(g.outputs).toEqual(['probabilities', 'hidden', 'pooled']);
    expect(g.nodes.length).toBe(readGraph(bytes).nodes.length);
    expect(g.initializers).toEqual(readGraph(bytes).initializers);
    expect(edited.length).toBeGreaterThan(bytes.length);
  });

  for (const [name, file, label] of [
    ['sst2_rare_backdoor', 'sst2_traffic.csv', 'label'],
    ['adult_conj_backdoor', 'adult_traffic.csv', 'income'],
  ] as const)
    it(`${name}: same probabilities with and without the extra outputs`, async () => {
      const { batch } = await batchOf(file, label, 500);
      const original = await loadOnnxModel(model(name), { classes: 2 });
      const edited = await loadActivationModel(model(name), { classes: 2, layers: ['hidden'] });
      const want = await original.score(batch);
      const run = await edited.run(batch);
      expect(Array.from(run.probs)).toEqual(Array.from(want));
      expect(await edited.verify(batch)).toBe(0);
      expect(run.dims).toEqual([32]);
      // hidden is post-ReLU: never negative, and not all zero.
      const h = run.layers[0];
      expect(Math.min(...h)).toBeGreaterThanOrEqual(0);
      expect(h.some((x) => x > 0)).toBe(true);
      await original.close();
      await edited.close();
    }, 60_000);

  it('reads the layer of a model exported for a fixed batch of one row, as of the same model with a free batch', async () => {
    const rows = adultSplit().trusted;
    const batch = gateBatchOf({ header: rows.header, rows: rows.rows.slice(0, 101) }, ADULT_NUMERIC);
    const at = (b: string) => join(FIXTURES, 'gate', `adult_mlp_batch${b}.onnx`);
    const opts = { classes: 2, layers: ['hidden'], features: ADULT_NUMERIC };
    const free = await (await loadActivationModel(at('any'), opts)).run(batch);
    const one = await loadActivationModel(at('1'), opts);
    const run = await one.run(batch);
    expect(run.dims).toEqual([4]);
    expect(Array.from(run.layers[0])).toEqual(Array.from(free.layers[0]));
    expect(Array.from(run.probs)).toEqual(Array.from(free.probs));
    expect(await one.verify(batch)).toBe(0);
    await one.close();
  });
});
