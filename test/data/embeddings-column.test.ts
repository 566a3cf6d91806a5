/**
 * A column holding a vector of numbers on every row (an embedding from a feature store or a model, as JSONL
 * or Parquet lists) is read as the embeddings role when none is named: the reference model reads it beside
 * the other features, so labels it contradicts are found. It used to be left out as "not a scalar", which
 * left a table whose signal lives in its embedding with a near-chance reference and every flip passed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { parseCsv, rng, tmpDir } from './helpers.js';

interface Row {
  id: string;
  embedding: number[];
  amount: number;
  label: string;
}

/** Rows whose label shows in the embedding's first coordinate; `flip` of the clear-cut ones relabelled. */
function rows(n: number, start: number, seed: number, flip = 0): { rows: Row[]; flipped: Set<string> } {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
  const flipped = new Set<string>();
  const out = Array.from({ length: n }, (_, i) => {
    const fraud = r() < 0.4;
    const e = Array.from({ length: 16 }, normal);
    e[0] += fraud ? 2 : -2;
    const id = `r${start + i}`;
    let y = fraud;
    if (r() < flip && Math.abs(e[0]) > 1.5) {
      y = !y;
      flipped.add(id);
    }
    return {
      id,
      embedding: e.map((v) => Number(v.toFixed(4))),
      amount: Number((50 + 100 * r()).toFixed(2)),
      label: y ? 'fraud' : 'ok',
    };
  });
  return { rows: out, flipped };
}

const jsonl = (rs: Row[]) => rs.map((x) => `${JSON.stringify(x)}\n`).join('');

/** `antidote audit` of DIR/incoming.EXT against DIR/trusted.EXT, label "label", outputs in DIR/OUT, report.json on stdout. */
const audit = (dir: string, out: string, ext = 'jsonl', extra: string[] = []) =>
  runCli([
    'audit',
    '--trusted',
    join(dir, `trusted.${ext}`),
    '--incoming',
    join(dir, `incoming.${ext}`),
    '--label',
    'label',
    '--out',
    join(dir, out),
    '--format',
    'json',
    ...extra,
  ]);

describe('audit: a column of embedding vectors', () => {
  it('is read as embeddings without being named, and the labels it contradicts are quarantined', () => {
    const dir = tmpDir();
    writeFileSync(join(dir, 'trusted.jsonl'), jsonl(rows(400, 0, 1).rows));
    const inc = rows(2000, 1000, 2, 0.12);
    writeFileSync(join(dir, 'incoming.jsonl'), jsonl(inc.rows));
    const out = join(dir, 'out');
    const r = audit(dir, 'out');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.notes.join('\n')).toMatch(
      /"embedding" holds a vector of numbers on every row and is read as embeddings/,
    );
    const info = report.findings.find(
      (f: { rule: string; severity: string }) => f.rule === 'audit/disagreement' && f.severity === 'info',
    );
    // Rows that share only their amount are not copies: the embedding is part of what makes a row.
    expect(report.findings.filter((f: { rule: string }) => f.rule === 'audit/duplicates')).toEqual([]);
    // The reference reads the embedding: far better than the near-chance model of "amount" alone.
    expect(info.evidence.trustedCvAccuracy).toBeGreaterThan(0.85);
    const q = readFileSync(join(out, 'quarantined.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).id as string);
    const hit = q.filter((id) => inc.flipped.has(id)).length;
    expect(inc.flipped.size).toBeGreaterThan(100);
    expect(hit / inc.flipped.size).toBeGreaterThan(0.9);
    expect(hit / q.length).toBeGreaterThan(0.7);
  });

  it('a CSV holding the vectors as "[0.12, -0.5, ...]" text (as pandas writes lists) is read the same way', () => {
    const dir = tmpDir();
    const csv = (rs: Row[]) =>
      `id,embedding,amount,label\n${rs.map((x) => `${x.id},"${JSON.stringify(x.embedding)}",${x.amount},${x.label}`).join('\n')}\n`;
    const tr = rows(400, 0, 1).rows;
    const inc = rows(2000, 1000, 2, 0.12).rows;
    writeFileSync(join(dir, 'trusted.csv'), csv(tr));
    writeFileSync(join(dir, 'incoming.csv'), csv(inc));
    writeFileSync(join(dir, 'trusted.jsonl'), jsonl(tr));
    writeFileSync(join(dir, 'incoming.jsonl'), jsonl(inc));
    let runs = 0;
    const ids = (ext: string) => {
      const name = `out-${ext}-${runs++}`;
      const out = join(dir, name);
      const r = audit(dir, name, ext);
      expect(JSON.parse(r.stdout).notes.join('\n')).toMatch(/"embedding" holds a vector of numbers/);
      const text = readFileSync(join(out, `quarantined.${ext}`), 'utf8');
      return ext === 'csv'
        ? parseCsv(text)
            .slice(1)
            .map((r) => r[0])
        : text
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l).id as string);
    };
    const fromCsv = ids('csv');
    expect(fromCsv.length).toBeGreaterThan(100);
    expect(fromCsv.sort()).toEqual(ids('jsonl').sort());
    // As NumPy prints an array (spaces, line breaks inside the quoted cell), which pandas writes for arrays.
    const numpy = (v: number[]) =>
      `[${v.map((x) => (x < 0 ? '' : ' ') + x.toFixed(4)).reduce((a, x, k) => a + (k && k % 8 === 0 ? '\n ' : k ? ' ' : '') + x, '')}]`;
    const npCsv = (rs: Row[]) =>
      `id,embedding,amount,label\n${rs.map((x) => `${x.id},"${numpy(x.embedding)}",${x.amount},${x.label}`).join('\n')}\n`;
    writeFileSync(join(dir, 'trusted.csv'), npCsv(tr));
    writeFileSync(join(dir, 'incoming.csv'), npCsv(inc));
    expect(ids('csv').sort()).toEqual(fromCsv);
  });

  it('lists of different lengths are no embedding: the column is left out, as before, and the audit runs', () => {
    const dir = tmpDir();
    const inc = rows(500, 1000, 2).rows;
    inc[7].embedding = inc[7].embedding.slice(0, 5);
    writeFileSync(join(dir, 'trusted.jsonl'), jsonl(rows(200, 0, 1).rows));
    writeFileSync(join(dir, 'incoming.jsonl'), jsonl(inc));
    const r = audit(dir, 'out');
    expect(r.code).toBeLessThan(2);
    expect(JSON.parse(r.stdout).notes.join('\n')).toMatch(/"embedding" \(DOUBLE\[\]\) is not a scalar/);
  });

  it('vectors of another length in the trusted file: left out with a note, or one line and exit 2 when named', () => {
    const dir = tmpDir();
    const inc = rows(300, 1000, 2).rows.map((x) => ({ ...x, embedding: x.embedding.slice(0, 8) }));
    writeFileSync(join(dir, 'trusted.jsonl'), jsonl(rows(200, 0, 1).rows));
    writeFileSync(join(dir, 'incoming.jsonl'), jsonl(inc));

    const auto = audit(dir, 'a');
    expect(auto.code).toBeLessThan(2);
    expect(JSON.parse(auto.stdout).notes.join('\n')).toMatch(
      /vectors of 8 numbers here but 16 in the trusted file/,
    );
    const named = audit(dir, 'b', 'jsonl', ['--embeddings', 'embedding']);
    expect(named.code).toBe(2);
    expect(named.stderr.trim().split('\n')).toHaveLength(1);
    expect(named.stderr).toMatch(/holds 8 numbers a row in .* but 16 in/);
  });
});
