/**
 * The guard's look-back: when a trigger is learned, the instances checked before it that carry it and that no
 * check flagged are found, each once, within a bounded memory, and a trigger flagged only with its answer finds
 * only instances given that answer.
 */
import { describe, expect, it } from 'vitest';
import type { Learned } from '../../src/guard/checks/learned-trigger.js';
import { LookBack } from '../../src/guard/watch/lookback.js';

const batch = (a: string[], b: string[]) => ({
  n: a.length,
  columns: new Map([
    ['a', { kind: 'string' as const, values: a }],
    ['b', { kind: 'string' as const, values: b }],
  ]),
  ids: a.map((_, i) => String(i)),
});

const pair = (answered?: true): Learned => ({
  trigger: {
    column: 'a',
    kind: 'value',
    value: 'x',
    also: [{ column: 'b', value: 'y' }],
    origin: 'learned',
    trustedRate: 0,
  },
  support: 3,
  cls: 1,
  modelWith: 0.9,
  referenceWith: 0.2,
  ...(answered ? { answered } : {}),
});

describe('LookBack', () => {
  it('finds the unflagged earlier carriers of a new trigger, each once', () => {
    const lb = new LookBack<string>();
    lb.add(batch(['x', 'x', 'z'], ['y', 'q', 'y']), 'r1', [0, 1, 0], () => false);
    lb.add(batch(['x', 'x'], ['y', 'y']), 'r2', [1, 0], (i) => i === 0);
    const found = lb.carriers([pair()]);
    expect(found.map((f) => [f.tag, f.index])).toEqual([
      ['r1', 0],
      ['r2', 1],
    ]);
    expect(lb.carriers([pair()])).toEqual([]);
  });

  it('keeps only instances the model answered with the class for a trigger flagged with its answer', () => {
    const lb = new LookBack<string>();
    lb.add(batch(['x', 'x', 'x'], ['y', 'y', 'y']), 'r1', [0, 1, 1], () => false);
    expect(lb.carriers([pair(true)]).map((f) => f.index)).toEqual([1, 2]);
  });

  it('forgets the oldest requests beyond its size', () => {
    const lb = new LookBack<string>(4);
    for (let r = 0; r < 5; r++) lb.add(batch(['x', 'x'], ['y', 'y']), `r${r}`, [1, 1], () => false);
    expect(lb.instances).toBe(4);
    expect(lb.carriers([pair()]).map((f) => f.tag)).toEqual(['r3', 'r3', 'r4', 'r4']);
  });
});
