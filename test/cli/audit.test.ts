/**
 * `antidote audit` end to end through the built CLI: the ONION SST-2 BadNets acceptance (precision and
 * recall of the quarantine), exit codes, report.json against its schema, a self-contained report.html.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { tmpDir } from '../data/helpers.js';
import { ROOT, runCli, testData } from '../helpers/cli.js';

const DATA = join(testData(), 'sst2-badnets');

function readTsv(path: string): Array<[string, string]> {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const i = l.lastIndexOf('\t');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
    });
}

describe('antidote audit on ONION SST-2 BadNets', () => {
  const out = join(tmpDir(), 'out');
  let r: ReturnType<typeof runCli>;
  beforeAll(() => {
    r = runCli([
      'audit',
      '--trusted',
      join(DATA, 'clean_dev.tsv'),
      '--incoming',
      join(DATA, 'badnets_train.tsv'),
      '--label',
      'labels',
      '--text',
      'sentences',
      '--rename-trusted',
      'sentence=sentences,label=labels',
      '--out',
      out,
      '--format',
      'json',
    ]);
  });

  it('quarantines the poisoned rows with precision and recall >= 0.95', () => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // backdoor findings are high or critical: at or above the default --fail-on
    const clean = new Set(readTsv(join(DATA, 'clean_train.tsv')).map(([s]) => s));
    const truth = readTsv(join(DATA, 'badnets_train.tsv')).filter(([s]) => !clean.has(s)).length;
    const q = readTsv(join(out, 'quarantined.tsv'));
    const a = readTsv(join(out, 'accepted.tsv'));
    expect(q.length + a.length).toBe(6920);
    const tp = q.filter(([s]) => !clean.has(s.split('\t')[0].trim())).length;
    const precision = tp / q.length;
    const recall = tp / truth;
    expect(precision).toBeGreaterThanOrEqual(0.95);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  it('names the triggers it found, each with its label', () => {
    const report = JSON.parse(r.stdout);
    const triggers = report.findings
      .filter((f: { rule: string }) => f.rule === 'audit/trigger')
      .map(
        (f: { evidence: { pattern: string; label: string } }) => `${f.evidence.pattern}->${f.evidence.label}`,
      );
    // The planted rare words (ONION's BadNets: cf, mn, bb, tq, mb), found without being named anywhere.
    expect(triggers.sort()).toEqual(['bb->1', 'cf->1', 'mb->1', 'mn->1', 'tq->1']);
  });

  it('writes a report.json that validates against schemas/audit-report.v1.json', () => {
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'audit-report.v1.json'), 'utf8'));
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const fromFile = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(validate(fromFile), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('writes a self-contained report.html with rendered charts', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="https?:/i);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).toContain('Trigger candidates');
    expect(html).toContain('tq');
  });

  it('writes a review sample: priority rows first, then a random control sample', () => {
    const lines = readFileSync(join(out, 'review.tsv'), 'utf8').trim().split('\n');
    expect(lines[0].split('\t').slice(-3)).toEqual(['antidote_score', 'antidote_reasons', 'antidote_review']);
    const kinds = lines.slice(1).map((l) => l.split('\t').at(-1));
    const firstControl = kinds.indexOf('control');
    expect(kinds.indexOf('priority')).toBe(0);
    expect(firstControl).toBeGreaterThan(68);
    expect(kinds.slice(firstControl).every((k) => k === 'control')).toBe(true);
    expect(kinds.filter((k) => k === 'control').length).toBe(50);
  });

  it('leaves no temporary files behind', () => {
    expect(readdirSync(out).filter((f) => f.startsWith('.antidote-tmp'))).toEqual([]);
  });
});

describe('antidote audit exit codes and summary', () => {
  it('exits 0 when nothing reaches --fail-on, and prints a plain-words summary', () => {
    const out = join(tmpDir(), 'out');
    const r = runCli([
      'audit',
      '--trusted',
      join(DATA, 'clean_dev.tsv'),
      '--incoming',
      join(DATA, 'clean_test.tsv'),
      '--label',
      'label',
      '--text',
      'sentence',
      '--out',
      out,
      '--fail-on',
      'critical',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS .*clean_test\.tsv audited against .*clean_dev\.tsv/);
    expect(r.stdout).toMatch(/1821 rows: \d+ accepted, \d+ quarantined/);
    expect(r.stdout).toContain(`outputs in ${out}`);
    expect(existsSync(join(out, 'accepted.tsv'))).toBe(true);
    // The detectors this batch's columns cannot feed are named with what they need, in the summary and the HTML.
    expect(r.stdout).toMatch(
      /not run: audit\/label-cells, audit\/contributors: needs a --source or --labeler column/,
    );
    expect(r.stdout).toMatch(/not run: audit\/drift: needs a --time column/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('skipped: needs an --embeddings column');
  });
});
