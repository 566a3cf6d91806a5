/** Real `scan` output (corpus + benign fixtures, every format) validates against schemas/scan-report.v1.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/artifacts/scan.js';
import { renderScanJson } from '../../src/report/json.js';
import { CORPUS, FIXTURES, ROOT } from '../helpers/cli.js';

describe('scan JSON report', () => {
  it('matches its versioned JSON Schema on real output', async () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'scan-report.v1.json'), 'utf8'));
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    const report = await scanPaths([join(FIXTURES, 'real'), CORPUS], {
      failOn: 'high',
      allow: [],
    });
    const json = JSON.parse(renderScanJson(report));
    const ok = validate(json);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(json.results.length).toBeGreaterThan(100);
    expect(new Set(json.results.map((r: { verdict: string }) => r.verdict))).toEqual(
      new Set(['pass', 'block']),
    );
  });

  it('rejects output that breaks the contract', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'scan-report.v1.json'), 'utf8'));
    const validate = new Ajv2020.default({ strict: true, allowUnionTypes: true }).compile(schema);
    const good = {
      version: 1,
      tool: { name: 'antidote', version: '1.0.0' },
      results: [{ path: 'a', format: 'pickle', verdict: 'pass', findings: [] }],
    };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, version: 2 })).toBe(false);
    expect(validate({ ...good, results: [{ ...good.results[0], verdict: 'ok' }] })).toBe(false);
    expect(
      validate({
        ...good,
        results: [{ ...good.results[0], findings: [{ rule: 'x', severity: 'high', message: 'm' }] }],
      }),
    ).toBe(false);
  });
});
