/** Third-party data committed for the tests carries its licence and source beside it. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers/cli.js';

const text = (...p: string[]) => readFileSync(join(FIXTURES, ...p), 'utf8');

describe('committed third-party fixtures', () => {
  it('each dataset names its source and licence', () => {
    const names = readdirSync(join(FIXTURES, 'data'));
    expect(names.sort()).toEqual([
      'adult',
      'digits',
      'german-credit',
      'seattle-weather',
      'sms-spam',
      'spambase',
      'sst2-badnets',
    ]);
    for (const n of names) {
      expect(text('data', n, 'SOURCE.md'), n).toMatch(/CC BY 4\.0|MIT|[Pp]ublic domain/);
      expect(
        readdirSync(join(FIXTURES, 'data', n)).some((f) => f.endsWith('.gz')),
        n,
      ).toBe(true);
    }
    expect(text('data', 'sst2-badnets', 'LICENSE')).toMatch(/MIT License/);
  });

  it("each source table of the guard's benchmark models names its source and licence", () => {
    const names = readdirSync(join(FIXTURES, 'guard', 'data'));
    expect(names.sort()).toEqual([
      'attrition',
      'credit-data',
      'fortunes',
      'mlc-churn',
      'spamassassin',
      'stackoverflow',
      'wa-churn',
    ]);
    for (const n of names) {
      expect(text('guard', 'data', n, 'SOURCE.md'), n).toMatch(/MIT|BSD|PDDL|CC0/);
      expect(
        readdirSync(join(FIXTURES, 'guard', 'data', n)).some((f) => f.endsWith('.gz')),
        n,
      ).toBe(true);
    }
    expect(text('guard', 'data', 'spamassassin', 'LICENSE')).toMatch(/Apache License/);
    expect(text('guard', 'data', 'fortunes', 'COPYRIGHT')).toMatch(/Regents of the University of California/);
  });

  it('the picklescan corpus keeps its MIT licence and its README of expected verdicts', () => {
    expect(text('corpora', 'picklescan', 'LICENSE')).toMatch(/MIT License/);
    expect(text('corpora', 'README.md')).toMatch(/Expected verdicts/);
  });

  it('the model-signing vectors keep the Apache-2.0 licence of sigstore/model-transparency', () => {
    expect(text('vectors', 'model-transparency', 'LICENSE')).toMatch(/Apache License\s+Version 2\.0/);
    expect(existsSync(join(FIXTURES, 'vectors', 'model-transparency', 'README.md'))).toBe(true);
  });
});
