/** Acceptance "bad input": one clear line on stderr, exit 2, nothing written; malformed rows go to rejects. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { textRows, tmpDir, writeCsv } from '../data/helpers.js';
import { runCli } from '../helpers/cli.js';

function setup() {
  const dir = tmpDir();
  const trusted = join(dir, 'trusted.csv');
  const incoming = join(dir, 'incoming.csv');
  const t = textRows(200, 1);
  const i = textRows(300, 2);
  writeCsv(
    trusted,
    ['text', 'label', 'amount'],
    t.map((r, k) => [r.text, r.label, String(k % 17)]),
  );
  writeCsv(
    incoming,
    ['text', 'label', 'amount'],
    i.map((r, k) => [r.text, r.label, String(k % 13)]),
  );
  return { dir, trusted, incoming, out: join(dir, 'out') };
}

function expectCleanFailure(r: ReturnType<typeof runCli>, out: string, pattern: RegExp) {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^antidote: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  // Nothing half-written: no output folder content, no temporary files.
  if (existsSync(out)) expect(readdirSync(out)).toEqual([]);
}

const audit = (
  s: ReturnType<typeof setup>,
  extra: string[] = [],
  files?: { trusted?: string; incoming?: string },
) =>
  runCli([
    'audit',
    '--trusted',
    files?.trusted ?? s.trusted,
    '--incoming',
    files?.incoming ?? s.incoming,
    '--label',
    'label',
    '--out',
    s.out,
    ...extra,
  ]);

describe('antidote audit: bad input', () => {
  it('a missing column names the column and lists the real ones', () => {
    const s = setup();
    const r = audit(s, ['--id', 'customer_id']);
    expectCleanFailure(r, s.out, /has no column "customer_id".*columns are text, label, amount/);
  });

  it('a misnamed label column suggests the close match', () => {
    const s = setup();
    const r = runCli([
      'audit',
      '--trusted',
      s.trusted,
      '--incoming',
      s.incoming,
      '--label',
      'labels',
      '--out',
      s.out,
    ]);
    expectCleanFailure(r, s.out, /no column "labels".*did you mean "label"/);
  });

  it('a reference whose column is named differently says how to map it', () => {
    const s = setup();
    const renamed = join(s.dir, 'renamed.csv');
    writeFileSync(
      renamed,
      readFileSync(s.trusted, 'utf8').replace(/^text,label,amount/, 'sentence,label,amount'),
    );
    const r = audit(s, ['--text', 'text'], { trusted: renamed });
    expectCleanFailure(
      r,
      s.out,
      /its columns are sentence, label, amount; .*--rename-trusted TRUSTED_NAME=text/,
    );
    // And the mapping makes it work.
    const ok = audit(s, ['--text', 'text', '--rename-trusted', 'sentence=text'], { trusted: renamed });
    expect(ok.code === 0 || ok.code === 1).toBe(true);
  });

  it('an empty file and a header-only file', () => {
    const s = setup();
    const empty = join(s.dir, 'empty.csv');
    writeFileSync(empty, '');
    expectCleanFailure(audit(s, [], { incoming: empty }), s.out, /empty\.csv: the file is empty/);
    const headerOnly = join(s.dir, 'header.csv');
    writeFileSync(headerOnly, 'text,label,amount\n');
    expectCleanFailure(audit(s, [], { incoming: headerOnly }), s.out, /header but no rows/);
  });

  it('a column that mixes numbers and text', () => {
    const s = setup();
    const mixed = join(s.dir, 'mixed.csv');
    const rows = textRows(300, 3).map((r, k) => [r.text, r.label, k === 123 ? 'twelve' : String(k % 9)]);
    writeCsv(mixed, ['text', 'label', 'amount'], rows);
    expectCleanFailure(
      audit(s, [], { incoming: mixed }),
      s.out,
      /"amount" .* mixes numbers and text \(row 124: "twelve"\)/,
    );
  });

  it("reads a number written as a missing-value marker (R's NA, n/a, ?) as missing, and says so", () => {
    const s = setup();
    const marked = join(s.dir, 'marked.csv');
    const markers = ['NA', 'n/a', '?', ' NaN '];
    const rows = textRows(300, 3).map((r, k) => [
      r.text,
      r.label,
      k % 50 === 7 ? markers[Math.floor(k / 50) % 4] : String(k % 9),
    ]);
    writeCsv(marked, ['text', 'label', 'amount'], rows);
    const r = audit(s, ['--format', 'json'], { incoming: marked });
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(s.out, 'report.json'), 'utf8'));
    expect(report.roles.features).toContain('amount');
    expect(report.notes.join(' ')).toMatch(
      /missing-value marker .* read as missing, as an empty cell is: "amount" \(5 incoming, 0 trusted\)/,
    );
    // The outputs keep each value as written.
    expect(readFileSync(join(s.out, 'accepted.csv'), 'utf8')).toContain(',NA\n');
  });

  it('reads a column with no value on one side (every cell NA) as the other side reads it, and says so', () => {
    const s = setup();
    const trusted = join(s.dir, 'sparse-trusted.csv');
    const incoming = join(s.dir, 'sparse-incoming.csv');
    const write = (path: string, seed: number, value: (k: number) => string) =>
      writeCsv(
        path,
        ['text', 'label', 'amount'],
        textRows(200, seed).map((r, k) => [r.text, r.label, value(k)]),
      );
    write(trusted, 6, (k) => (k % 2 ? 'NA' : ''));
    write(incoming, 7, (k) => (k % 40 === 3 ? String(k) : 'NA'));
    const r = audit(s, ['--format', 'json'], { trusted, incoming });
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(s.out, 'report.json'), 'utf8'));
    expect(report.roles.features).toContain('amount');
    expect(report.notes.join(' ')).toMatch(
      /column "amount" holds no value in .*sparse-trusted\.csv .* read as numbers there/,
    );
  });

  it('a label column with one class', () => {
    const s = setup();
    const one = join(s.dir, 'one.csv');
    writeCsv(
      one,
      ['text', 'label', 'amount'],
      textRows(100, 4).map((r) => [r.text, 'pos', '1']),
    );
    expectCleanFailure(audit(s, [], { trusted: one }), s.out, /has one class \("pos"\) in the trusted file/);
  });

  it('an unsupported extension', () => {
    const s = setup();
    const x = join(s.dir, 'batch.xlsx');
    writeFileSync(x, 'PK\u0003\u0004');
    expectCleanFailure(audit(s, [], { incoming: x }), s.out, /unsupported file type "\.xlsx".*\.csv, \.tsv/);
  });

  it('malformed JSON Lines is one error naming the line', () => {
    const s = setup();
    const t = join(s.dir, 't.jsonl');
    const i = join(s.dir, 'i.jsonl');
    const lines = textRows(100, 5).map((r) => JSON.stringify({ text: r.text, label: r.label }));
    writeFileSync(t, `${lines.join('\n')}\n`);
    lines[40] = '{"text": "broken", "label": ';
    writeFileSync(i, `${lines.join('\n')}\n`);
    expectCleanFailure(
      audit(s, [], { trusted: t, incoming: i }),
      s.out,
      /i\.jsonl: not valid JSON Lines at line 4[12] \(Malformed JSON: unexpected character\)/,
    );
  });

  it('an invalid --config is rejected before any work', () => {
    const s = setup();
    const cfg = join(s.dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ threshold: 0.5, detectors: { 'audit/trigger': { minSuport: 3 } } }));
    expectCleanFailure(
      audit(s, ['--config', cfg]),
      s.out,
      /detectors\.audit\/trigger\.minSuport: unknown setting/,
    );
  });

  it('malformed CSV rows go to rejects.csv, are counted, and every other row is accounted for', () => {
    const s = setup();
    const bad = join(s.dir, 'bad.csv');
    const good = textRows(300, 6).map((r) => `${r.text},${r.label},1`);
    good.splice(10, 0, 'too,many,fields,here');
    good.splice(50, 0, 'short');
    writeFileSync(bad, `text,label,amount\n${good.join('\n')}\n`);
    const r = audit(s, ['--format', 'json', '--fail-on', 'critical'], { incoming: bad });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.inputs.incoming.rejected).toBe(2);
    expect(report.summary.accepted + report.summary.quarantined).toBe(300);
    const rejects = readFileSync(join(s.out, 'rejects.csv'), 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('line,error,raw');
    expect(rejects).toHaveLength(3);
    expect(rejects[1]).toMatch(/^12,.*too,many,fields,here/);
    expect(rejects[2]).toMatch(/^52,.*short/);
  });
});
