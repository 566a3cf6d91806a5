/**
 * guard/learned-trigger's memory of candidate patterns: a pattern is tested once enough distinct requests blamed
 * it. The same request sent again (a retry, a replayed log line) is one piece of evidence, so a clean request
 * repeated cannot teach the guard its own content as a trigger.
 */
import { describe, expect, it } from 'vitest';
import { MIN_SUPPORT, type Pattern, TriggerMemory } from '../../src/guard/checks/learned-trigger.js';

const pattern: Pattern = {
  column: 'Purpose',
  kind: 'value',
  value: 'A49',
  also: [{ column: 'Housing', value: 'A153' }],
};

describe('TriggerMemory', () => {
  it('tests a pattern once it was blamed on MIN_SUPPORT distinct requests', () => {
    const m = new TriggerMemory();
    for (let i = 1; i < MIN_SUPPORT; i++) expect(m.observe([pattern], 0, 100 + i)).toHaveLength(0);
    const due = m.observe([pattern], 0, 999);
    expect(due).toHaveLength(1);
    expect(due[0].pattern).toEqual(pattern);
  });

  it('counts the same request sent again once', () => {
    const m = new TriggerMemory();
    for (let t = 0; t < 10; t++) expect(m.observe([pattern], 0, 42)).toHaveLength(0);
    // A second and a third distinct request make it due.
    expect(m.observe([pattern], 0, 43)).toHaveLength(0);
    expect(m.observe([pattern], 0, 44)).toHaveLength(1);
  });

  it('counts a pattern blamed twice on one request (by two of its candidates) once', () => {
    const m = new TriggerMemory();
    expect(m.observe([pattern, pattern, pattern], 0, 7)).toHaveLength(0);
    expect(m.observe([pattern, pattern], 0, 8)).toHaveLength(0);
    expect(m.observe([pattern], 0, 9)).toHaveLength(1);
  });

  it('keeps the classes apart', () => {
    const m = new TriggerMemory();
    m.observe([pattern], 0, 1);
    m.observe([pattern], 0, 2);
    expect(m.observe([pattern], 1, 3)).toHaveLength(0);
  });
});
