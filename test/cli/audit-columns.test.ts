/**
 * Issue 10, item 7: column names kept exactly as the file has them (two names that differ only in case used
 * to crash the reader: DuckDB identifiers are case-insensitive), and string labels of more than two classes.
 * A ".csv" exported with ";" between values (spreadsheets in many locales) is read as such and its outputs
 * are written the same way; the unnamed first column pandas writes (its row index) is the row id, not a
 * feature, for the audit and for the gate and guard.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTable } from '../../src/gate/read.js';
import { featureColumns } from '../../src/gate/table.js';
import { gaussian, parseCsv, rng, tmpDir, writeCsv } from '../data/helpers.js';
import { runCli } from '../helpers/cli.js';

const HEADER = ['Age', 'age', 'net.income', 'Région code', 'grade'];
const GRADES = ['low', 'mid', 'high'];

function rows(n: number, seed: number): string[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const g = Math.floor(r() * 3);
    return [
      String(20 + Math.floor(r() * 50)),
      String(Math.floor(r() * 9)),
      (g * 30 + r() * 25).toFixed(2),
      ['nord', 'süd', 'ouest'][Math.floor(r() * 3)],
      GRADES[g],
    ];
  });
}

/** `antidote audit` of DIR/incoming.EXT against DIR/trusted.EXT (default csv, label "grade"), report.json on stdout. */
const auditJson = (dir: string, out: string, extra: string[] = [], file = { ext: 'csv', label: 'grade' }) =>
  runCli([
    'audit',
    '--trusted',
    join(dir, `trusted.${file.ext}`),
    '--incoming',
    join(dir, `incoming.${file.ext}`),
    '--label',
    file.label,
    '--out',
    out,
    '--format',
    'json',
    ...extra,
  ]);

describe('antidote audit: column names as written, multi-class string labels', () => {
  it('reads two columns that differ only in case, and writes every row back under the same header', () => {
    // A folder named key=value must not add a column (DuckDB's hive partitioning would add "batch").
    const dir = join(tmpDir(), 'batch=2026-01');
    mkdirSync(dir);
    const incoming = rows(600, 32);
    writeCsv(join(dir, 'trusted.csv'), HEADER, rows(300, 31));
    writeCsv(join(dir, 'incoming.csv'), HEADER, incoming);
    const out = join(dir, 'out');
    const r = auditJson(dir, out);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.code);
    const report = JSON.parse(r.stdout);
    expect(report.roles.features).toEqual(['Age', 'age', 'net.income', 'Région code']);
    expect([...report.classes].sort()).toEqual([...GRADES].sort());
    const accepted = parseCsv(readFileSync(join(out, 'accepted.csv'), 'utf8'));
    const quarantined = parseCsv(readFileSync(join(out, 'quarantined.csv'), 'utf8'));
    expect(accepted[0]).toEqual(HEADER);
    expect(quarantined[0]).toEqual([...HEADER, 'antidote_score', 'antidote_reasons']);
    // Nothing lost, values unchanged: the two outputs hold exactly the incoming rows.
    const back = [...accepted.slice(1), ...quarantined.slice(1).map((x) => x.slice(0, HEADER.length))];
    const key = (x: string[]) => x.join('\u0001');
    expect(back.map(key).sort()).toEqual(incoming.map(key).sort());
  }, 60_000);

  it('reads a semicolon-separated .csv and writes its outputs with semicolons, values holding ";" quoted', () => {
    const dir = tmpDir();
    const semi = (rs: string[][]) =>
      `\ufeff${[HEADER, ...rs].map((r) => r.map((v) => (v === 'süd' ? '"süd;2"' : v)).join(';')).join('\r\n')}\r\n`;
    const incoming = rows(600, 34);
    writeFileSync(join(dir, 'trusted.csv'), semi(rows(300, 33)));
    writeFileSync(join(dir, 'incoming.csv'), semi(incoming));
    const out = join(dir, 'out');
    const r = auditJson(dir, out);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.code);
    expect(JSON.parse(r.stdout).roles.features).toEqual(['Age', 'age', 'net.income', 'Région code']);
    const text = readFileSync(join(out, 'accepted.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe(HEADER.join(';'));
    expect(text).toContain('"süd;2"');
    const quarantined = readFileSync(join(out, 'quarantined.csv'), 'utf8').split('\n').filter(Boolean);
    const accepted = text.split('\n').filter(Boolean);
    expect(accepted.length - 1 + quarantined.length - 1).toBe(incoming.length);
  }, 60_000);

  it('reads numbers written with a decimal comma (and dots between thousands) in a ";" file as numbers', async () => {
    const dir = tmpDir();
    const comma = (v: string) => {
      const [whole, frac] = v.split('.');
      return `${whole.replace(/\B(?=(\d{3})+$)/g, '.')},${frac}`;
    };
    // net.income in hundreds (0 to 8,500), which alone tells the grade; 8% of the incoming grades flipped.
    const scaled = (rs: string[][]) =>
      rs.map((r) => [r[0], r[1], (Number(r[2]) * 100).toFixed(2), r[3], r[4]]);
    const trusted = scaled(rows(400, 41));
    const incoming = scaled(rows(800, 42));
    const r = rng(43);
    let flips = 0;
    for (const row of incoming) {
      if (r() >= 0.08) continue;
      row[4] = GRADES[(GRADES.indexOf(row[4]) + 1 + Math.floor(r() * 2)) % 3];
      flips++;
    }
    const semi = (rs: string[][]) =>
      `${[HEADER, ...rs.map((x) => [x[0], x[1], comma(x[2]), x[3], x[4]])].map((x) => x.join(';')).join('\n')}\n`;
    writeFileSync(join(dir, 'trusted.csv'), semi(trusted));
    writeFileSync(join(dir, 'incoming.csv'), semi(incoming));
    expect(readFileSync(join(dir, 'incoming.csv'), 'utf8')).toMatch(/;\d\.\d{3},\d\d;/);
    const res = auditJson(dir, join(dir, 'out'));
    expect(res.stderr).toBe('');
    const report = JSON.parse(res.stdout);
    expect(report.notes.join(' ')).toMatch(/column "net\.income" holds numbers written with a decimal comma/);
    // The same rows written with decimal points: the same audit. Read as text, each value of net.income would
    // be a category of its own and the flips would pass.
    const dots = join(dir, 'dots');
    mkdirSync(dots);
    writeCsv(join(dots, 'trusted.csv'), HEADER, trusted);
    writeCsv(join(dots, 'incoming.csv'), HEADER, incoming);
    const plain = JSON.parse(auditJson(dots, join(dots, 'out')).stdout);
    expect(report.summary).toEqual(plain.summary);
    expect(report.summary.quarantined).toBeGreaterThan(0.5 * flips);
    // The gate and the guard read the same numbers.
    const table = await readTable(join(dir, 'trusted.csv'));
    const col = table.columns.get('net.income');
    expect(col?.kind).toBe('number');
    expect(Array.from((col as { values: Float64Array }).values).slice(0, 5)).toEqual(
      trusted.slice(0, 5).map((x) => Number(x[2])),
    );
  }, 60_000);

  it('reads the fields of nested JSON records as columns (meta.user as --source, stats.amount as a feature)', async () => {
    const dir = tmpDir();
    const r = rng(51);
    const normal = gaussian(r);
    // The label follows stats.amount; account u3 of twelve flips 40% of its labels.
    const record = (i: number, incoming: boolean) => {
      const amount = Math.round(normal() * 1000) / 100;
      const user = `u${i % 12}`;
      let label = amount > 0 ? 'fraud' : 'ok';
      if (incoming && user === 'u3' && r() < 0.4) label = label === 'fraud' ? 'ok' : 'fraud';
      return { id: `r${i}`, stats: { amount, hour: i % 24 }, label, meta: { user, app: { version: '2.1' } } };
    };
    const lines = (from: number, n: number, incoming: boolean) =>
      Array.from({ length: n }, (_, k) => JSON.stringify(record(from + k, incoming)));
    const incoming = lines(1000, 2400, true);
    writeFileSync(join(dir, 'trusted.jsonl'), `${lines(0, 400, false).join('\n')}\n`);
    writeFileSync(join(dir, 'incoming.jsonl'), `${incoming.join('\n')}\n`);
    const out = join(dir, 'out');
    const res = auditJson(dir, out, ['--source', 'meta.user'], { ext: 'jsonl', label: 'label' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    expect(report.roles.source).toBe('meta.user');
    expect(report.roles.features).toEqual(expect.arrayContaining(['stats.amount', 'stats.hour']));
    expect(report.notes.join(' ')).toMatch(
      /column "meta" holds a nested record; its fields are read as columns/,
    );
    // The flipping account is named, by its nested field's value.
    expect(
      report.findings.some(
        (f: { rule: string; message: string }) => f.rule === 'audit/label-cells' && f.message.includes('u3'),
      ),
    ).toBe(true);
    // The outputs hold every incoming record once, nested as it was, and no column of the fields read.
    const read = (f: string) =>
      readFileSync(join(out, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    const back = [...read('accepted.jsonl'), ...read('quarantined.jsonl')];
    expect(back).toHaveLength(incoming.length);
    expect(back.every((x) => typeof x.meta.user === 'string' && !('meta.user' in x))).toBe(true);
    const strip = ({ antidote_score: _s, antidote_reasons: _r, ...x }: Record<string, unknown>) =>
      JSON.stringify(x);
    expect(back.map(strip).sort()).toEqual([...incoming].sort());
    // The gate and the guard feed a model the records as the file holds them, not their fields.
    expect((await readTable(join(dir, 'trusted.jsonl'))).names).toEqual(['id', 'stats', 'label', 'meta']);
  }, 60_000);

  it('takes the unnamed first column of a pandas export as the row id, and keeps it in the outputs', async () => {
    const dir = tmpDir();
    const indexed = (rs: string[][], from: number) => rs.map((r, i) => [String(from + i), ...r]);
    const incoming = indexed(rows(600, 36), 300);
    writeCsv(join(dir, 'trusted.csv'), ['', ...HEADER], indexed(rows(300, 35), 0));
    writeCsv(join(dir, 'incoming.csv'), ['', ...HEADER], incoming);
    const out = join(dir, 'out');
    const r = auditJson(dir, out);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.roles.id).toBe('');
    expect(report.roles.features).toEqual(['Age', 'age', 'net.income', 'Région code']);
    expect(report.notes.join(' ')).toMatch(
      /the first column, which has no name, is a row index \(as pandas writes one\) and is used as the row id/,
    );
    const accepted = parseCsv(readFileSync(join(out, 'accepted.csv'), 'utf8'));
    const quarantined = parseCsv(readFileSync(join(out, 'quarantined.csv'), 'utf8'));
    expect(accepted[0]).toEqual(['', ...HEADER]);
    const back = [...accepted.slice(1), ...quarantined.slice(1).map((x) => x.slice(0, HEADER.length + 1))];
    expect(back.map((x) => x[0]).sort()).toEqual(incoming.map((x) => x[0]).sort());
    // The gate and the guard read it too, and do not hand it to the model as an input.
    const table = await readTable(join(dir, 'trusted.csv'));
    expect(table.names).toEqual(['', ...HEADER]);
    expect(featureColumns({ ...table, path: 'trusted.csv' }, { label: 'grade' })).toEqual(
      HEADER.filter((h) => h !== 'grade'),
    );
    // Only the first column may be unnamed.
    writeCsv(join(dir, 'bad.csv'), ['Age', '', 'grade'], [['1', '2', 'low']]);
    const bad = runCli([
      'audit',
      '--trusted',
      join(dir, 'trusted.csv'),
      '--incoming',
      join(dir, 'bad.csv'),
      '--label',
      'grade',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/column 2 of the header has no name/);
  }, 60_000);

  it('takes a column named "id" whose every value differs as the row id, and finds nothing in a clean two-feature table', async () => {
    const dir = tmpDir();
    const r = rng(37);
    const jsonl = (n: number) =>
      Array.from({ length: n }, (_, i) => {
        const g = gaussian(r);
        const a = g();
        const b = g();
        return JSON.stringify({ id: i, a, b, label: a + b > 0 });
      }).join('\n');
    // Trusted ids run 0..299, incoming 0..999: as a feature, the id alone shifted every prediction. With the id
    // aside, two features are left, and a conjunction of both leaves no content to test: it used to be
    // confirmed as a trigger (a natural region of the table: 100% labelled true, where a+b > 0).
    writeFileSync(join(dir, 'trusted.jsonl'), `${jsonl(300)}\n`);
    writeFileSync(join(dir, 'incoming.jsonl'), `${jsonl(1000)}\n`);
    const args = [
      'audit',
      '--trusted',
      join(dir, 'trusted.jsonl'),
      '--incoming',
      join(dir, 'incoming.jsonl'),
    ];
    const res = runCli([...args, '--label', 'label', '--out', join(dir, 'out'), '--format', 'json']);
    const report = JSON.parse(res.stdout);
    expect(res.code).toBe(0);
    expect(report.roles.id).toBe('id');
    expect(report.roles.features).toEqual(['a', 'b']);
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'high')).toEqual([]);
    expect(report.summary.quarantined).toBe(0);
    // And it says that a table this narrow hides a trigger made of both columns.
    const blind = report.findings.find(
      (f: { rule: string; evidence?: { featureColumns?: number } }) =>
        f.rule === 'audit/blind-spot' && f.evidence?.featureColumns === 2,
    );
    expect(blind?.message).toMatch(/table has 2 feature columns, so a trigger made of a value of each/);
    // The gate and the guard do not hand it to the model either.
    const table = await readTable(join(dir, 'trusted.jsonl'));
    expect(featureColumns({ ...table, path: 'trusted.jsonl' }, { label: 'label' })).toEqual(['a', 'b']);
    // Named as a feature, it is one.
    const asked = runCli([
      ...args,
      '--label',
      'label',
      '--features',
      'id,a,b',
      '--out',
      join(dir, 'out2'),
      '--format',
      'json',
    ]);
    expect(JSON.parse(asked.stdout).roles.features).toEqual(['id', 'a', 'b']);
  }, 60_000);

  it('reads numeric labels as numbers: "1.0" in one file is the class "1" of the other', () => {
    const dir = tmpDir();
    const r = rng(38);
    const lines = (n: number, spell: (y: number) => string) =>
      Array.from({ length: n }, (_, i) => {
        const a = r() * 2 - 1;
        const b = r() * 2 - 1;
        const c = r() * 2 - 1;
        return [String(i), a.toFixed(3), b.toFixed(3), c.toFixed(3), spell(a + b > 0 ? 1 : 0)];
      });
    // pandas writes an integer label column holding a missing value as floats.
    writeCsv(join(dir, 'trusted.csv'), ['n', 'a', 'b', 'c', 'grade'], lines(300, String));
    const incoming = lines(800, (y) => y.toFixed(1));
    writeCsv(join(dir, 'incoming.csv'), ['n', 'a', 'b', 'c', 'grade'], incoming);
    const out = join(dir, 'out');
    const res = auditJson(dir, out);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect([...report.classes].sort()).toEqual(['0', '1']);
    expect(report.summary.quarantined).toBe(0);
    // The outputs keep the labels as the incoming file wrote them.
    const accepted = parseCsv(readFileSync(join(out, 'accepted.csv'), 'utf8')).slice(1);
    expect(accepted.map((x) => x[4]).sort()).toEqual(incoming.map((x) => x[4]).sort());
  }, 60_000);

  it('reads True/False and true/false as one pair of classes, and notes a trusted column the batch has lost', () => {
    const dir = tmpDir();
    const r = rng(39);
    const lines = (n: number, spell: (y: boolean) => string) =>
      Array.from({ length: n }, (_, i) => {
        const a = r() * 2 - 1;
        const b = r() * 2 - 1;
        const c = r() * 2 - 1;
        return [String(i), a.toFixed(3), b.toFixed(3), c.toFixed(3), spell(a + b > 0)];
      });
    // pandas writes booleans as True/False; a JSON export or DuckDB as true/false.
    writeCsv(
      join(dir, 'trusted.csv'),
      ['n', 'a', 'b', 'c', 'fraud', 'reviewer'],
      lines(300, String).map((x) => [...x, 'kim']),
    );
    const incoming = lines(800, (y) => (y ? 'True' : 'False'));
    writeCsv(join(dir, 'incoming.csv'), ['n', 'a', 'b', 'c', 'fraud'], incoming);
    const out = join(dir, 'out');
    const res = auditJson(dir, out, [], { ext: 'csv', label: 'fraud' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect([...report.classes].sort()).toEqual(['false', 'true']);
    expect(report.summary.quarantined).toBe(0);
    expect(report.notes).toContain(
      'column "reviewer" of the trusted file is not in the incoming batch and is not analysed',
    );
    const accepted = parseCsv(readFileSync(join(out, 'accepted.csv'), 'utf8')).slice(1);
    expect(accepted.map((x) => x[4]).sort()).toEqual(incoming.map((x) => x[4]).sort());
  }, 60_000);

  it('refuses a --time column none of whose values reads as a time, and notes the rows of one where some do not', () => {
    const dir = tmpDir();
    const r = rng(39);
    const at = (i: number, us: boolean) => {
      const d = new Date(Date.UTC(2026, 1, 1) + i * 3_600_000).toISOString();
      return us ? `${d.slice(5, 7)}/${d.slice(8, 10)}/${d.slice(0, 4)} ${d.slice(11, 16)}` : d;
    };
    const lines = (n: number, us: (i: number) => boolean) =>
      Array.from({ length: n }, (_, i) => [
        String(r()),
        String(r()),
        at(i, us(i)),
        GRADES[Math.floor(r() * 3)],
      ]);
    const header = ['x1', 'x2', 'when', 'grade'];
    writeCsv(
      join(dir, 'trusted.csv'),
      header,
      lines(300, () => false),
    );
    const run = () => auditJson(dir, join(dir, 'out'), ['--time', 'when', '--force']);
    // US month/day/year: DuckDB reads none of them, and the time windows would silently be empty.
    writeCsv(
      join(dir, 'incoming.csv'),
      header,
      lines(600, () => true),
    );
    const refused = run();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /no value of column "when" \(given by --time\) reads as a date and time \(e\.g\. "02\/01\/2026 00:00"\)/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    // One in ten written so: audited, and the rows left out of the windows are counted in a note.
    writeCsv(
      join(dir, 'incoming.csv'),
      header,
      lines(600, (i) => i % 10 === 0),
    );
    const ok = run();
    expect([0, 1]).toContain(ok.code);
    expect(JSON.parse(ok.stdout).notes.join(' ')).toMatch(
      /60 of 600 values of the time column "when" do not read/,
    );
  }, 60_000);

  it('says in one line when a file is not UTF-8, and how to convert it', () => {
    const dir = tmpDir();
    writeCsv(join(dir, 'trusted.csv'), HEADER, rows(300, 40));
    const text = [HEADER.join(','), ...rows(50, 41).map((r) => r.join(','))].join('\n');
    // Windows-1252 / Latin-1: "é" of the header as the one byte 0xE9.
    writeFileSync(join(dir, 'incoming.csv'), Buffer.from(text, 'latin1'));
    const latin = auditJson(dir, join(dir, 'out'));
    expect(latin.code).toBe(2);
    expect(latin.stderr).toMatch(
      /incoming\.csv: the file is not UTF-8 \(byte 0xE9 at offset 20; Windows-1252 or Latin-1\?\); convert it/,
    );
    expect(latin.stderr.trim().split('\n')).toHaveLength(1);
    // A spreadsheet's "Unicode text": UTF-16 with its byte-order mark.
    writeFileSync(
      join(dir, 'incoming.csv'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    const wide = auditJson(dir, join(dir, 'out'));
    expect(wide.code).toBe(2);
    expect(wide.stderr).toMatch(
      /incoming\.csv: the file is UTF-16 text; Antidote reads UTF-8; save it as UTF-8/,
    );
  });
});
