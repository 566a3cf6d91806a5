/** The review sample's evidence: each row's nearest trusted rows, with their labels, found exactly and bounded. */
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/detectors/types.js';
import { trustedNeighbours } from '../../src/data/neighbours.js';

function dataset(rows: Array<{ x: number; c: string; y: number; text?: string }>, prefix: string): Dataset {
  const values = ['red', 'blue'];
  return {
    n: rows.length,
    ids: rows.map((_, i) => `${prefix}${i + 1}`),
    labels: Int32Array.from(rows.map((r) => r.y)),
    numeric: new Map([['x', Float64Array.from(rows.map((r) => r.x))]]),
    categorical: new Map([['c', { codes: Int32Array.from(rows.map((r) => values.indexOf(r.c))), values }]]),
    ...(rows[0]?.text !== undefined ? { text: rows.map((r) => r.text ?? '') } : {}),
  };
}

// Trusted: label "ok" (0) for x < 50, "fraud" (1) from 50 on; red and blue alike.
const trustedRows = Array.from({ length: 400 }, (_, i) => ({
  x: i / 4,
  c: i % 2 ? 'red' : 'blue',
  y: i / 4 < 50 ? 0 : 1,
}));
const ctx = (incoming: Dataset, trusted = dataset(trustedRows, 't')) => ({
  trusted,
  incoming,
  roles: { label: 'y', features: ['x', 'c'] },
  classes: ['ok', 'fraud'],
});

describe('trustedNeighbours', () => {
  it('finds the nearest trusted rows of each query, nearest first, with their labels and values', () => {
    // A row flipped to "ok" deep in the fraud region, and one in the ok region.
    const incoming = dataset(
      [
        { x: 80, c: 'red', y: 0 },
        { x: 10, c: 'blue', y: 0 },
      ],
      'i',
    );
    const ev = trustedNeighbours(ctx(incoming), [0, 1], { k: 4 });
    expect(ev?.space).toBe('features');
    expect(ev?.searched).toBe(400);
    const flipped = ev?.rows.get(0) ?? [];
    expect(flipped).toHaveLength(4);
    expect(flipped.every((n) => n.label === 'fraud')).toBe(true);
    // x = 80 is blue in the trusted set: the nearest red rows are a quarter away.
    expect(flipped[0].text).toMatch(/^x=(79.75|80.25), c=red$/);
    const ds = flipped.map((n) => n.distance);
    expect(ds).toEqual([...ds].sort((a, b) => a - b));
    expect(ev?.rows.get(1)?.every((n) => n.label === 'ok')).toBe(true);
  });

  it('searches a fixed stride of the trusted rows when the budget demands, and says so', () => {
    const incoming = dataset([{ x: 80, c: 'red', y: 0 }], 'i');
    const ev = trustedNeighbours(ctx(incoming), [0], { k: 3, budget: 200 });
    expect(ev?.searched).toBe(100);
    expect(ev?.trusted).toBe(400);
    expect(ev?.rows.get(0)?.every((n) => n.label === 'fraud')).toBe(true);
  });

  it('matches text by its rarer words, not by "the"', () => {
    const trusted = dataset(
      [
        { x: 1, c: 'red', y: 0, text: 'the the the the film' },
        { x: 1, c: 'red', y: 1, text: 'a dreadful boring mess' },
        { x: 1, c: 'red', y: 0, text: 'the cast is the best' },
        { x: 1, c: 'red', y: 0, text: 'the story and the music' },
      ],
      't',
    );
    const incoming = dataset([{ x: 1, c: 'red', y: 0, text: 'the dreadful mess of the year' }], 'i');
    const ev = trustedNeighbours({ ...ctx(incoming, trusted), roles: { label: 'y', features: [] } }, [0], {
      k: 2,
    });
    expect(ev?.space).toBe('text');
    expect(ev?.rows.get(0)?.[0]).toMatchObject({ id: 't2', label: 'fraud', text: 'a dreadful boring mess' });
  });

  it('returns nothing for no query or nothing to compare', () => {
    const incoming = dataset([{ x: 1, c: 'red', y: 0 }], 'i');
    expect(trustedNeighbours(ctx(incoming), [])).toBeUndefined();
    expect(trustedNeighbours({ ...ctx(incoming), roles: { label: 'y', features: [] } }, [0])).toBeUndefined();
  });
});
