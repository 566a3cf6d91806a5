/**
 * SARIF output validates against the SARIF 2.1.0 JSON schema (the copy shipped in @microsoft/jest-sarif)
 * and meets GitHub code scanning's extra requirements (rule ids, a location with a line, levels,
 * security-severity as a number string).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ruleCatalog } from '../../src/artifacts/rules.js';
import { scanPaths } from '../../src/artifacts/scan.js';
import { renderScanSarif } from '../../src/report/sarif.js';
import { CORPUS, FIXTURES } from '../helpers/cli.js';

const require = createRequire(import.meta.url);

function sarifValidator() {
  const pkg = require.resolve('@microsoft/jest-sarif/package.json');
  const schema = JSON.parse(
    readFileSync(join(pkg, '..', 'lib', 'schemas', 'sarif-2.1.0-rtm.5.json'), 'utf8'),
  );
  // The schema is draft-04; Ajv 8 reads it once the draft-04 `id`/`$schema` keywords are renamed.
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  // unicodeRegExp off: one pattern in the published schema (language) is not a valid unicode-mode regex.
  const ajv = new Ajv.default({
    allErrors: true,
    strict: false,
    validateSchema: false,
    unicodeRegExp: false,
  });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

describe('SARIF output', () => {
  it('is valid SARIF 2.1.0 and acceptable to GitHub code scanning', async () => {
    const report = await scanPaths([join(CORPUS, 'data'), join(FIXTURES, 'real')], {
      failOn: 'high',
      allow: [],
    });
    const sarif = JSON.parse(renderScanSarif(report, await ruleCatalog()));
    const validate = sarifValidator();
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);

    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(run.results.length).toBeGreaterThan(50);
    for (const res of run.results) {
      expect(ids[res.ruleIndex]).toBe(res.ruleId);
      expect(['error', 'warning', 'note', 'none']).toContain(res.level);
      expect(res.message.text.length).toBeGreaterThan(0);
      const loc = res.locations[0].physicalLocation;
      // relative to the working directory (the repository root for GitHub), or an absolute file:// URI
      expect(loc.artifactLocation.uri).toMatch(/^(file:\/\/\/|[^/])/);
      expect(loc.region.startLine).toBeGreaterThanOrEqual(1);
    }
    for (const r of run.tool.driver.rules) {
      expect(Number.isFinite(Number(r.properties['security-severity']))).toBe(true);
      expect(r.shortDescription.text.length).toBeGreaterThan(0);
      // every rule that fired is described by the catalogue, not just named
      expect(r.fullDescription.text, r.id).not.toBe(r.id);
    }
  });

  it('an empty report is still a valid log', () => {
    const sarif = JSON.parse(
      renderScanSarif({ version: 1, tool: { name: 'antidote', version: '0.0.0' }, results: [] }),
    );
    expect(sarifValidator()(sarif)).toBe(true);
  });
});

describe('SARIF locations', () => {
  it('uses paths relative to the working directory for files inside it', () => {
    const rel = join('test', 'fixtures', 'real', 'plain protocol.pkl');
    const sarif = JSON.parse(
      renderScanSarif({
        version: 1,
        tool: { name: 'antidote', version: '0.0.0' },
        results: [
          {
            path: rel,
            format: 'pickle',
            verdict: 'block',
            findings: [{ rule: 'pickle/x', severity: 'high', message: 'm' }],
          },
        ],
      }),
    );
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(
      'test/fixtures/real/plain%20protocol.pkl',
    );
  });
});
