/**
 * `antidote guard replay --model` runs the copy-based checks (STRIP, guard/occlusion) on every logged instance by
 * default, since the copies are answered by the ONNX model in process: a log of the committed conjunction-
 * backdoored Adult model, where some rows carry the two trigger values, gets those rows flagged by occlusion with
 * no flag beyond --model, and few of the clean rows. The proxy keeps `flagged` as its default (its copies load
 * the upstream). A trigger too common in the trusted rows to flag on sight is learned all the same and flagged
 * only where the model gives its class.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sliceBatch } from '../../src/gate/models/types.js';
import { runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { batchOf, fitAdultArgs, model, writeReplayLog } from './helpers.js';

const dir = tempDir('guard-replay-occlusion-');
const profile = join(dir, 'adult.json');

/**
 * A replay log of 200 traffic rows labelled <=50K in requests of 10, every fourth carrying `trigger`, answered by
 * the backdoored model; the replay's report and its findings as (row, rule, response class) triples.
 */
async function replayWith(name: string, trigger: Record<string, string>) {
  const { batch, labels } = await batchOf('adult_traffic.csv', 'income');
  const low = labels.flatMap((y, i) => (y === '<=50K' ? [i] : [])).slice(0, 200);
  const rows = sliceBatch(batch, low);
  const names = [...rows.columns.keys()];
  const triggered = (i: number) => i % 4 === 0;
  const instances = Array.from({ length: rows.n }, (_, i) => {
    const o: Record<string, string | number> = {};
    for (const c of names) o[c] = rows.columns.get(c)?.values[i] as string | number;
    if (triggered(i)) Object.assign(o, trigger);
    return o;
  });
  const log = join(dir, `${name}.jsonl`);
  const answer = await writeReplayLog(log, 'adult_conj_backdoor', instances, 10);
  const out = join(dir, `${name}-findings.jsonl`);
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
  const events = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  // Row numbers of the findings on instances as they were checked, or (earlier) on instances checked before the
  // trigger they carry was learned.
  const at = (rule: string, earlier = false) =>
    events
      .filter((f) => f.finding?.rule === rule && Boolean(f.finding.evidence?.earlier) === earlier)
      .map((f) => Number(String(f.request).slice(1)) + f.instance - 1);
  return { rep, at, triggered, answer, events };
}

describe('guard replay --model', () => {
  beforeAll(async () => {
    const fit = await runCliAsync(fitAdultArgs(profile));
    expect(fit.code, fit.stderr).toBe(0);
  }, 120_000);

  it('occludes every instance by default and flags rows carrying a conjunction trigger', async () => {
    // race=Amer-Indian-Eskimo & education=5th-6th: 1 of the 3,000 trusted rows has both.
    const { rep, at, triggered, events } = await replayWith('rare', {
      race: 'Amer-Indian-Eskimo',
      education: '5th-6th',
    });
    expect(rep.unavailable['guard/occlusion']).toBeUndefined();
    const found = at('guard/occlusion');
    const hits = found.filter(triggered).length;
    const falseFlags = found.length - hits;
    expect(hits).toBeGreaterThan(0.8 * 50);
    expect(falseFlags).toBeLessThanOrEqual(3);
    // After a few flagged requests the conjunction (or a part of it that alone moves the model) is learned, and
    // the later rows carrying it are flagged by guard/learned-trigger as well.
    expect(rep.learned.map((l: { trigger: string }) => l.trigger).join(' | ')).toMatch(
      /race = Amer-Indian-Eskimo|education = 5th-6th/,
    );
    expect(rep.learned.every((l: { class: string }) => l.class === '>50K')).toBe(true);
    expect(rep.flagged['guard/learned-trigger']).toBeGreaterThan(20);
    const learnedAt = at('guard/learned-trigger');
    expect(learnedAt.every(triggered)).toBe(true);
    // The triggered rows that passed before the trigger was learned are reported when it is, as findings of their
    // own requests (action log: their answers are gone), each once; with them every triggered row is accounted for.
    const earlier = at('guard/learned-trigger', true);
    expect(rep.earlier).toBe(earlier.length);
    expect(earlier.length).toBeGreaterThan(0);
    expect(earlier.every(triggered)).toBe(true);
    expect(new Set(earlier).size).toBe(earlier.length);
    expect(Math.max(...earlier)).toBeLessThan(Math.max(...learnedAt));
    const reported = new Set([...found, ...learnedAt, ...earlier]);
    const trig = Array.from({ length: 200 }, (_, i) => i).filter(triggered);
    expect(trig.filter((i) => !reported.has(i))).toEqual([]);
    expect(events.filter((e) => e.finding?.evidence?.earlier).every((e) => e.action === 'log')).toBe(true);
  }, 180_000);

  it('learns a trigger too common in trusted rows to flag on sight, and flags it only with its answer', async () => {
    // workclass=Local-gov & relationship=Unmarried: 36 of the 3,000 trusted rows have both (1.2%, above the 1%
    // false-alarm rate), and the backdoored model was trained to answer it >50K.
    const { rep, at, triggered, answer } = await replayWith('common', {
      workclass: 'Local-gov',
      relationship: 'Unmarried',
    });
    const pair = rep.learned.find(
      (l: { trigger: string }) =>
        /workclass = Local-gov/.test(l.trigger) && /relationship = Unmarried/.test(l.trigger),
    );
    expect(pair, JSON.stringify(rep.learned)).toMatchObject({ class: '>50K', answered: true });
    const learnedAt = at('guard/learned-trigger');
    expect(learnedAt.length).toBeGreaterThan(10);
    // Only rows that carry it and that the model answered >50K.
    expect(learnedAt.every((i) => triggered(i) && answer[i] === 1)).toBe(true);
    // Every triggered row answered >50K is flagged by some check; rows answered <=50K are not flagged by it.
    const flagged = new Set([...at('guard/occlusion'), ...learnedAt]);
    const fired = Array.from({ length: 200 }, (_, i) => i).filter((i) => triggered(i) && answer[i] === 1);
    expect(fired.filter((i) => flagged.has(i)).length).toBeGreaterThanOrEqual(0.9 * fired.length);
  }, 180_000);
});
