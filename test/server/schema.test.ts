/** The fast row check of run posts says yes and no exactly where the documented zod schema does. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRows, parseRunPost, RowOutcomeSchema } from '../../src/server/schema.js';

const good = {
  id: 'r1',
  decision: 'quarantined',
  score: 0.9,
  reasons: ['trigger "zq" [0.95]'],
  review: 'priority',
  fields: { sentence: '<b>hi</b>', label: '1' },
  neighbours: [{ id: '12', label: '0', text: 'a dull film', distance: 0.4 }],
};

/** Values a client might send in any field: right types, wrong types, edge lengths and numbers. */
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, 0, -0.1, 0.5, 1, 1.5, Number.NaN, '', 'x', 'accepted', 'quarantined'),
  fc.constantFrom('priority', 'control', 'other', 'x'.repeat(257), [], ['a'], [1], {}, { a: 'b' }, { a: 1 }),
  fc.constantFrom([{ id: '1', label: '0', text: 't', distance: 0.1 }], [{ id: '1', label: '0', text: 't' }]),
  fc.constantFrom([{ id: '1', label: '0', text: 't', distance: -1 }], Array(9).fill(good.neighbours[0])),
  fc.string({ maxLength: 5 }),
  fc.double(),
);

describe('checkRows agrees with RowOutcomeSchema', () => {
  it('on a good row and on rows with one field replaced, removed or added', () => {
    expect(checkRows([good])).toBeUndefined();
    expect(RowOutcomeSchema.safeParse(good).success).toBe(true);
    fc.assert(
      fc.property(
        fc.constantFrom('id', 'decision', 'score', 'reasons', 'review', 'fields', 'neighbours', 'path'),
        anyValue,
        fc.boolean(),
        (key, value, remove) => {
          const row: Record<string, unknown> = { ...good };
          if (remove) delete row[key];
          else row[key] = value;
          // JSON has no undefined: a key set to undefined is a key not sent.
          const sent = JSON.parse(JSON.stringify(row));
          const zodOk = RowOutcomeSchema.safeParse(sent).success;
          const fastOk = checkRows([sent]) === undefined;
          expect(fastOk, JSON.stringify(sent)).toBe(zodOk);
        },
      ),
      { numRuns: 600, seed: 42 },
    );
  });

  it('names the first bad row and field in one line', () => {
    const r = parseRunPost({
      kind: 'audit',
      report: {},
      rows: [good, { ...good, neighbours: [{ ...good.neighbours[0], html: '<script>' }] }],
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBe('rows.1.neighbours.0.unrecognized key "html"');
    const path = parseRunPost({ kind: 'audit', report: {}, reportPath: '/etc/passwd' });
    expect(!path.ok && path.error).toMatch(/reportPath|unrecognized/i);
  });
});
