/**
 * Python 3.11+ pickles enum members as getattr(EnumClass, "NAME") (transformers' training_args.bin): a constant
 * lookup on an allowed class is judged by the allowlist like the class itself; getattr used any other way
 * still blocks.
 */
import { describe, expect, it } from 'vitest';
import { analyzePickle } from '../../../src/artifacts/pickle/api.js';
import { defaultPolicy } from '../../../src/artifacts/pickle/policy.js';
import { atLeast } from '../../../src/core/severity.js';
import { bytes } from '../helpers/pickles.js';

const str = (s: string) => bytes(0x58, [s.length, 0, 0, 0], s);
const GETATTR = 'c__builtin__\ngetattr\n';
const ENUM = 'ctransformers.trainer_utils\nIntervalStrategy\n';
const analyse = (b: Uint8Array) => analyzePickle(b, { policy: defaultPolicy(), location: { file: 't.pkl' } });
const blocking = (b: Uint8Array) =>
  analyse(b)
    .findings.filter((f) => atLeast(f.severity, 'high'))
    .map((f) => `${f.rule} ${String(f.evidence?.name ?? '')}`);

describe('getattr with a constant attribute name', () => {
  it('passes an enum member of an allowed class, as Python 3.11 pickles it', () => {
    const p = bytes(0x80, 2, GETATTR, ENUM, str('STEPS'), 0x86, 0x52, 0x2e);
    expect(blocking(p)).toEqual([]);
    expect(analyse(p).complete).toBe(true);
  });

  it('blocks when the attribute it reaches is then called (it must be allowed by its own name)', () => {
    const p = bytes(0x80, 2, GETATTR, ENUM, str('from_json'), 0x86, 0x52, 0x29, 0x52, 0x2e);
    expect(blocking(p)).toContain(
      'pickle/unknown-global transformers.trainer_utils.IntervalStrategy.from_json',
    );
  });

  it('blocks getattr on a class outside the allowlist, and getattr on a computed object', () => {
    const onPopen = bytes(0x80, 2, GETATTR, 'csubprocess\nPopen\n', str('communicate'), 0x86, 0x52, 0x2e);
    expect(blocking(onPopen)).toContain('pickle/dangerous-global builtins.getattr');
    const computed = bytes(
      0x80,
      2,
      GETATTR,
      'c__builtin__\n__import__\n',
      str('os'),
      0x85,
      0x52,
      str('system'),
      0x86,
      0x52,
      0x2e,
    );
    expect(blocking(computed)).toContain('pickle/dangerous-global builtins.getattr');
    const privateName = bytes(0x80, 2, GETATTR, ENUM, str('__init__'), 0x86, 0x52, 0x2e);
    expect(blocking(privateName)).toContain('pickle/dangerous-global builtins.getattr');
  });
});
