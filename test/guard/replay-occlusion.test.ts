/**
 * `antidote guard replay --model` runs the copy-based checks (STRIP, guard/occlusion) on every logged instance by
 * default, since the copies are answered by the ONNX model in process: a log of the committed conjunction-
 * backdoored Adult model, where some rows carry the two trigger values, gets those rows flagged by occlusion with
 * no flag beyond --model, and few of the clean rows. The proxy keeps `flagged` as its default (its copies load
 * the upstream).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { sliceBatch } from '../../src/gate/models/types.js';
import type { Column } from '../../src/gate/table.js';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { batchOf, fitAdultArgs, model } from './helpers.js';

const dir = tempDir('guard-replay-occlusion-');

describe('guard replay --model', () => {
  it('occludes every instance by default and flags rows carrying a conjunction trigger', async () => {
    const profile = join(dir, 'adult.json');
    const fit = await runCliAsync(fitAdultArgs(profile));
    expect(fit.code, fit.stderr).toBe(0);

    const { batch, labels } = await batchOf('adult_traffic.csv', 'income');
    const low = labels.flatMap((y, i) => (y === '<=50K' ? [i] : [])).slice(0, 200);
    const rows = sliceBatch(batch, low);
    const names = [...rows.columns.keys()];
    // Every fourth row carries race=Amer-Indian-Eskimo & education=5th-6th.
    const triggered = (i: number) => i % 4 === 0;
    const instances = Array.from({ length: rows.n }, (_, i) => {
      const o: Record<string, string | number> = {};
      for (const name of names) o[name] = rows.columns.get(name)?.values[i] as string | number;
      if (triggered(i)) Object.assign(o, { race: 'Amer-Indian-Eskimo', education: '5th-6th' });
      return o;
    });
    const onnx = await loadOnnxModel(model('adult_conj_backdoor'), { classes: 2 });
    const lines: string[] = [];
    for (let i = 0; i < instances.length; i += 10) {
      const part = instances.slice(i, i + 10);
      const cols = new Map<string, Column>(
        names.map((name) => {
          const first = part[0][name];
          return typeof first === 'number'
            ? [name, { kind: 'number' as const, values: Float64Array.from(part, (o) => Number(o[name])) }]
            : [name, { kind: 'string' as const, values: part.map((o) => String(o[name])) }];
        }),
      );
      const p = await onnx.score({ n: part.length, columns: cols, ids: part.map((_, j) => String(i + j)) });
      lines.push(
        JSON.stringify({
          id: `r${i}`,
          request: { instances: part },
          response: { predictions: part.map((_, j) => [p[2 * j], p[2 * j + 1]]) },
        }),
      );
    }
    await onnx.close();
    const log = join(dir, 'log.jsonl');
    writeFileSync(log, `${lines.join('\n')}\n`);
    const out = join(dir, 'findings.jsonl');
    const r = await runCliAsync([
      'guard',
      'replay',
      '--profile',
      profile,
      '--model',
      model('adult_conj_backdoor'),
      log,
      '-o',
      out,
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep).toMatchObject({ requests: 20, instances: 200, badLines: { count: 0 } });
    expect(rep.unavailable['guard/occlusion']).toBeUndefined();
    // Instance numbers of the occlusion findings (1-based within their request).
    const { readFileSync } = await import('node:fs');
    const found = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((f) => f.finding?.rule === 'guard/occlusion');
    const at = found.map((f) => Number(String(f.request).slice(1)) + f.instance - 1);
    const hits = at.filter(triggered).length;
    const falseFlags = at.length - hits;
    expect(hits).toBeGreaterThan(0.8 * 50);
    expect(falseFlags).toBeLessThanOrEqual(3);
    // After a few flagged requests the conjunction (or a part of it that alone moves the model) is learned, and
    // the later rows carrying it are flagged by guard/learned-trigger as well.
    expect(rep.learned.map((l: { trigger: string }) => l.trigger).join(' | ')).toMatch(
      /race = Amer-Indian-Eskimo|education = 5th-6th/,
    );
    expect(rep.learned.every((l: { class: string }) => l.class === '>50K')).toBe(true);
    expect(rep.flagged['guard/learned-trigger']).toBeGreaterThan(20);
    const learnedAt = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((f) => f.finding?.rule === 'guard/learned-trigger')
      .map((f) => Number(String(f.request).slice(1)) + f.instance - 1);
    expect(learnedAt.every(triggered)).toBe(true);
  }, 180_000);
});
