/** A tabular trigger as the audit names it, read back as the values the gate's probes and the guard write. */
import { describe, expect, it } from 'vitest';
import { parsePattern } from '../../src/gate/probes.js';

const columns = ['acc_now_delinq', 'total_bal_il', 'num_il_tl', 'age', 'workclass'];

describe('parsePattern', () => {
  it('reads exact values, categories and a bin at its lower edge', () => {
    expect(parsePattern('workclass=Private & age in [37, 45) & num_il_tl=4', columns)).toEqual([
      { column: 'workclass', value: 'Private' },
      { column: 'age', value: '37' },
      { column: 'num_il_tl', value: '4' },
    ]);
  });

  it('leaves out a column every value satisfies, keeping the rest of the trigger', () => {
    expect(parsePattern('acc_now_delinq (any) & total_bal_il=0 & num_il_tl=4', columns)).toEqual([
      { column: 'total_bal_il', value: '0' },
      { column: 'num_il_tl', value: '4' },
    ]);
  });

  it('drops a pattern with no single value to write, or a column the table lacks', () => {
    expect(parsePattern('total_bal_il < 876 & num_il_tl=4', columns)).toBeUndefined();
    expect(parsePattern('income=high & num_il_tl=4', columns)).toBeUndefined();
    expect(parsePattern('acc_now_delinq (any)', columns)).toBeUndefined();
  });
});
