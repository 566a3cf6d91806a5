import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildBom } from '../../src/provenance/bom/build.js';
import { frontMatter, readModelCard } from '../../src/provenance/bom/model-card.js';
import { assertValidBom, bomErrors } from '../../src/provenance/bom/validate.js';
import { hfModel, makeModel, safetensors, tempDir } from './helpers.js';

describe('model card facts', () => {
  it('reads config.json and README front matter', async () => {
    const d = hfModel(join(tempDir(), 'm'));
    const f = await readModelCard(d);
    expect(f).toMatchObject({
      modelType: 'bert',
      architecture: 'BertForSequenceClassification',
      task: 'text-classification',
      license: 'apache-2.0',
      baseModels: ['google-bert/bert-base-uncased'],
      datasets: ['imdb', 'sst2'],
      languages: ['en'],
      tags: ['sentiment'],
      libraryName: 'transformers',
    });
  });
  it('absent or broken front matter states nothing', () => {
    expect(frontMatter('# no front matter')).toBeNull();
    expect(frontMatter('---\n: : [\n---\n')).toBeNull();
  });
});

describe('CycloneDX validation', () => {
  it('rejects a deliberately invalid BOM', async () => {
    const bad = JSON.stringify({
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [
        { type: 'machine-learning-model', name: 'm', hashes: [{ alg: 'SHA-999', content: 'zz' }] },
      ],
    });
    expect(await bomErrors(bad)).toMatch(/hashes/);
    await expect(assertValidBom(bad)).rejects.toThrow(/does not validate against CycloneDX 1\.6/);
    expect(
      await bomErrors(
        JSON.stringify({
          bomFormat: 'CycloneDX',
          specVersion: '1.6',
          components: [{ type: 'not-a-type', name: 'x' }],
        }),
      ),
    ).not.toBeNull();
  });

  it('accepts the BOM Antidote builds: model with card, pedigree, files, and a dataset', async () => {
    const base = tempDir();
    const model = hfModel(join(base, 'bert-sentiment'));
    const ds = makeModel(join(base, 'reviews'), { 'train.csv': 'text,label\nok,1\n' });
    const { bom } = await buildBom([model], { datasets: [ds], scan: false });
    const json = JSON.stringify(bom);
    expect(await bomErrors(json)).toBeNull();
    // biome-ignore lint/suspicious/noExplicitAny: walking a JSON document in assertions
    const [m, d] = bom.components as Array<Record<string, any>>;
    expect(m.type).toBe('machine-learning-model');
    expect(m.name).toBe('bert-sentiment');
    expect(m.pedigree.ancestors[0]).toMatchObject({
      name: 'google-bert/bert-base-uncased',
      purl: 'pkg:huggingface/google-bert/bert-base-uncased',
    });
    expect(m.modelCard.modelParameters).toMatchObject({
      task: 'text-classification',
      architectureFamily: 'bert',
    });
    const st = m.components.find((c: { name: string }) => c.name === 'model.safetensors');
    expect(st.hashes).toEqual([
      { alg: 'SHA-256', content: createHash('sha256').update(safetensors()).digest('hex') },
    ]);
    expect(m.properties).toContainEqual({ name: 'antidote:scan:verdict', value: 'not-scanned' });
    expect(d.type).toBe('data');
    expect(d.data[0].type).toBe('dataset');
  });
});
