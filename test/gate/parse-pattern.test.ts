/** A tabular trigger as the audit names it, read back as the values the gate's probes and the guard write. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InputBatch } from '../../src/gate/models/types.js';
import { parsePattern } from '../../src/gate/probes.js';
import { triggerPresent, triggersFromAuditReport } from '../../src/guard/triggers.js';

const columns = ['acc_now_delinq', 'total_bal_il', 'num_il_tl', 'age', 'workclass'];

describe('parsePattern', () => {
  it('reads exact values, categories and a bin at its lower edge, with the bin', () => {
    expect(parsePattern('workclass=Private & age in [37, 45) & num_il_tl >= 4', columns)).toEqual([
      { column: 'workclass', value: 'Private' },
      { column: 'age', value: '37', bin: { lo: 37, hi: 45 } },
      { column: 'num_il_tl', value: '4', bin: { lo: 4 } },
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

describe('a known trigger from an audit report, in the guard', () => {
  it("matches every request in its numeric bin, not only the bin's lower edge", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'antidote-bin-'));
    const path = join(dir, 'report.json');
    const evidence = { pattern: 'workclass=Private & age in [37, 45)', kind: 'tabular', label: 'high' };
    writeFileSync(
      path,
      JSON.stringify({ findings: [{ rule: 'audit/trigger', severity: 'critical', message: '', evidence }] }),
    );
    const [t] = await triggersFromAuditReport(path, [
      { name: 'age', text: false },
      { name: 'workclass', text: false },
    ]);
    rmSync(dir, { recursive: true, force: true });
    const ages = [37, 40, 44.5, 45, 36];
    const batch: InputBatch = {
      n: ages.length,
      ids: ages.map((_a, i) => String(i)),
      columns: new Map([
        ['age', { kind: 'number', values: Float64Array.from(ages) }],
        ['workclass', { kind: 'string', values: ages.map(() => 'Private') }],
      ]),
    } as InputBatch;
    expect(ages.map((_a, i) => triggerPresent(t, batch, i))).toEqual([true, true, true, false, false]);
  });
});
