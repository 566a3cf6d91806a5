import { describe, expect, it } from 'vitest';
import { makeFinding } from '../../src/core/rule.js';
import { atLeast, maxSeverity } from '../../src/core/severity.js';
import { verdictOf } from '../../src/core/verdict.js';

const meta = {
  id: 'test/rule',
  title: 'Test',
  severity: 'medium' as const,
  rationale: 'r',
  atlas: 'AML.T0011.000',
};

describe('verdict', () => {
  it('blocks when a finding reaches the threshold and passes otherwise', () => {
    const medium = makeFinding(meta, 'm');
    expect(verdictOf([medium], 'high')).toBe('pass');
    expect(verdictOf([medium], 'medium')).toBe('block');
    expect(verdictOf([makeFinding(meta, 'c', { severity: 'critical' })], 'high')).toBe('block');
    expect(verdictOf([], 'info')).toBe('pass');
  });
  it('orders severities', () => {
    expect(atLeast('critical', 'high')).toBe(true);
    expect(atLeast('low', 'medium')).toBe(false);
    expect(maxSeverity(['low', 'critical', 'info'])).toBe('critical');
  });
  it('carries the rule metadata into findings', () => {
    const f = makeFinding(meta, 'msg', { location: { file: 'a.pkl', offset: 3 } });
    expect(f).toEqual({
      rule: 'test/rule',
      severity: 'medium',
      message: 'msg',
      atlas: 'AML.T0011.000',
      location: { file: 'a.pkl', offset: 3 },
    });
  });
});
