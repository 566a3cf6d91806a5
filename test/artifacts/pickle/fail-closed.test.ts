import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzePickle } from '../../../src/artifacts/pickle/api.js';
import { analyze, blocks, FIXTURES, fixture, policy } from './helpers.js';
import { op, pk } from './ops.js';

const benign = readdirSync(join(FIXTURES, 'benign')).filter((f) => f.endsWith('.pkl'));

describe('fail closed', () => {
  it('every truncation of a real pickle blocks, never passes', () => {
    let cases = 0;
    for (const f of benign) {
      const bytes = fixture('benign', f);
      const step = Math.max(1, Math.floor(bytes.length / 60));
      for (let n = 0; n < bytes.length; n += step) {
        const r = analyze(bytes.subarray(0, n));
        expect(r.complete, `${f} cut at ${n}`).toBe(false);
        expect(blocks(r), `${f} cut at ${n}`).toBe(true);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(1000);
  });

  it('bit flips in real pickles never throw, and a result that does not block parsed to STOP', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 1500; i++) {
      const src = fixture('benign', benign[i % benign.length]);
      const b = src.slice();
      for (let k = 0; k < 1 + (rnd() % 3); k++) b[rnd() % b.length] ^= 1 << (rnd() % 8);
      const r = analyzePickle(b, { policy, location: {} });
      if (!blocks(r)) expect(r.complete).toBe(true);
    }
  });

  it('pickles nested deeper than the limit block', () => {
    let inner = pk(op.PROTO(2), op.NONE, op.STOP);
    for (let i = 0; i < 12; i++)
      inner = pk(op.PROTO(3), op.global('pickle', 'loads'), op.bytes(inner), op.TUPLE1, op.REDUCE, op.STOP);
    const r = analyze(inner);
    expect(r.findings.some((f) => f.rule === 'pickle/limit' && /nested more than/.test(f.message))).toBe(
      true,
    );
  });

  it('a payload handed to a loader many times through the memo is analysed once', () => {
    const inner = pk(op.PROTO(4), op.str('os'), op.str('system'), op.STACK_GLOBAL, op.STOP);
    const calls = Array.from({ length: 5000 }, () => [
      ...op.get(1),
      ...op.get(0),
      ...op.TUPLE1,
      ...op.REDUCE,
      ...op.POP,
    ]);
    const outer = pk(
      op.PROTO(3),
      op.bytes(inner),
      op.put(0),
      op.POP,
      op.global('pickle', 'loads'),
      op.put(1),
      op.POP,
      ...calls,
      op.NONE,
      op.STOP,
    );
    const t = performance.now();
    const r = analyze(outer);
    expect(performance.now() - t).toBeLessThan(5000);
    expect(r.findings.filter((f) => f.message.startsWith('os.system'))).toHaveLength(1);
  });

  it('a stream over the opcode limit blocks with pickle/limit', () => {
    const r = analyze(pk(...Array.from({ length: 100 }, () => op.NONE), op.STOP), {
      limits: { maxOpcodes: 50 },
    });
    expect(r.findings.map((f) => f.rule)).toContain('pickle/limit');
    expect(blocks(r)).toBe(true);
  });
});
