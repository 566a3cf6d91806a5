/**
 * Acceptance "nothing lost": over varied inputs (quoting, unicode, empty fields, duplicate ids, every
 * format), accepted + quarantined hold exactly the incoming rows, each once, values unchanged. Outputs are
 * parsed here independently of the code under test (our own CSV/TSV/JSON parsing), except Parquet.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/data/audit.js';
import { detector as disagreement } from '../../src/data/detectors/disagreement.js';
import { detector as triggers } from '../../src/data/detectors/triggers.js';
import { DataSource } from '../../src/data/source.js';
import { parseCsv, textRows, tmpDir, writeCsv } from './helpers.js';

const HEADER = ['id', 'text', 'label', 'amount', 'note'];
const SPECIAL_TEXT = [
  'commas, inside, the text',
  'a "quoted" word and a lone " quote',
  'emoji 🎬🍿 and naïve café',
  'فيلم رائع جدا',
  '映画はとても良かった',
  'combining e\u0301 accent',
  '  leading and trailing spaces  ',
  "it's the director's cut",
  'back\\slash and semi;colon',
];

/** Incoming rows: synthetic reviews with a planted trigger, plus hostile values. */
function tableRows(seed: number, opts: { newlines: boolean; trigger?: string }): string[][] {
  const base = textRows(400, seed, { trigger: opts.trigger, poisonRate: 0.06 });
  const rows = base.map((x, i) => {
    const special = i % 7 === 0 ? ` ${SPECIAL_TEXT[(i / 7) % SPECIAL_TEXT.length]}` : '';
    const nl = opts.newlines && i % 50 === 3 ? '\nsecond line' : '';
    const id = i % 40 === 5 ? 'dup-1' : `r${i}`;
    const amount = ['007', '1e3', '-0', '3.14', '', ' 42 '][i % 6];
    const note = i % 3 === 0 ? '' : i % 3 === 1 ? 'ok' : 'ünïcödé ✓';
    return [id, `${x.text}${special}${nl}`, x.label, amount, note];
  });
  // Exact duplicate rows.
  rows.push([...rows[10]], [...rows[10]]);
  return rows;
}

const multiset = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();

function isSubsequence(sub: string[], all: string[]): boolean {
  let j = 0;
  for (const x of all) if (j < sub.length && sub[j] === x) j++;
  return j === sub.length;
}

async function runAudit(dir: string, trusted: string, incoming: string) {
  return audit({
    trusted,
    incoming,
    label: 'label',
    text: 'text',
    id: 'id',
    outDir: join(dir, 'out'),
    detectors: [disagreement, triggers],
  });
}

function checkSplit(input: string[][], accepted: string[][], quarantined: string[][], extra = 2) {
  expect(accepted.length + quarantined.length).toBe(input.length);
  expect(quarantined.length).toBeGreaterThan(0);
  const qStripped = quarantined.map((r) => r.slice(0, r.length - extra));
  expect(multiset([...accepted, ...qStripped])).toEqual(multiset(input));
  // Accepted keeps file order.
  const key = (r: unknown[]) => JSON.stringify(r);
  expect(isSubsequence(accepted.map(key), input.map(key))).toBe(true);
}

describe('nothing lost', () => {
  it('CSV: quoting, newlines in fields, unicode, empty fields, duplicate ids and rows', async () => {
    const dir = tmpDir();
    const trusted = join(dir, 'trusted.csv');
    const incoming = join(dir, 'incoming.csv');
    writeCsv(trusted, HEADER, tableRows(1, { newlines: true }));
    const rows = tableRows(2, { newlines: true, trigger: 'zqx' });
    writeCsv(incoming, HEADER, rows);
    const report = await runAudit(dir, trusted, incoming);
    const acc = parseCsv(readFileSync(join(dir, 'out', 'accepted.csv'), 'utf8'));
    const qua = parseCsv(readFileSync(join(dir, 'out', 'quarantined.csv'), 'utf8'));
    expect(acc[0]).toEqual(HEADER);
    expect(qua[0]).toEqual([...HEADER, 'antidote_score', 'antidote_reasons']);
    const input = parseCsv(readFileSync(incoming, 'utf8')).slice(1);
    checkSplit(input, acc.slice(1), qua.slice(1));
    expect(report.summary.accepted + report.summary.quarantined).toBe(rows.length);
    // Quarantined rows carry a score at or above the threshold and a reason.
    for (const q of qua.slice(1)) {
      expect(Number(q[5])).toBeGreaterThanOrEqual(report.settings.threshold);
      expect(q[6].length).toBeGreaterThan(0);
    }
  });

  it('TSV: header names kept byte for byte, values with stray quotes and spaces unchanged', async () => {
    const dir = tmpDir();
    const header = ['id ', 'text', ' label', 'amount', 'note'];
    const toTsv = (rows: string[][]) => `${[header, ...rows].map((r) => r.join('\t')).join('\n')}\n`;
    const trusted = join(dir, 'trusted.tsv');
    const incoming = join(dir, 'incoming.tsv');
    writeFileSync(trusted, toTsv(tableRows(3, { newlines: false })));
    const rows = tableRows(4, { newlines: false, trigger: 'zqx' });
    writeFileSync(incoming, toTsv(rows));
    await audit({
      trusted,
      incoming,
      label: 'label',
      text: 'text',
      outDir: join(dir, 'out'),
      detectors: [disagreement, triggers],
    });
    const parse = (p: string) =>
      readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t'));
    const acc = parse(join(dir, 'out', 'accepted.tsv'));
    const qua = parse(join(dir, 'out', 'quarantined.tsv'));
    expect(acc[0]).toEqual(header);
    checkSplit(rows, acc.slice(1), qua.slice(1));
  });

  it('JSONL: types, nulls, nested values and unicode survive', async () => {
    const dir = tmpDir();
    const toObjs = (rows: string[][]) =>
      rows.map((r, i) => ({
        id: r[0],
        text: r[1],
        label: r[2],
        amount: i % 4 === 0 ? null : i % 4 === 1 ? Number.parseFloat(r[3]) || 0 : r[3],
        note: r[4] === '' ? null : r[4],
        tags: i % 5 === 0 ? ['a', 'ü'] : [],
        meta: { n: i, ok: i % 2 === 0 },
      }));
    const trusted = join(dir, 'trusted.jsonl');
    const incoming = join(dir, 'incoming.jsonl');
    writeFileSync(
      trusted,
      `${toObjs(tableRows(5, { newlines: true }))
        .map((o) => JSON.stringify(o))
        .join('\n')}\n`,
    );
    const objs = toObjs(tableRows(6, { newlines: true, trigger: 'zqx' }));
    writeFileSync(incoming, `${objs.map((o) => JSON.stringify(o)).join('\n')}\n`);
    await audit({
      trusted,
      incoming,
      label: 'label',
      text: 'text',
      features: ['amount'],
      outDir: join(dir, 'out'),
      detectors: [disagreement, triggers],
    });
    const parse = (p: string) =>
      readFileSync(p, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const acc = parse(join(dir, 'out', 'accepted.jsonl'));
    const qua = parse(join(dir, 'out', 'quarantined.jsonl'));
    const canon = (o: Record<string, unknown>) => {
      const { antidote_score: _s, antidote_reasons: _r, ...rest } = o;
      return [
        JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))),
      ];
    };
    const input = objs.map((o) => canon(o as Record<string, unknown>));
    expect(acc.length + qua.length).toBe(objs.length);
    expect(qua.length).toBeGreaterThan(0);
    expect(multiset([...acc.map(canon), ...qua.map(canon)])).toEqual(multiset(input));
    for (const q of qua) expect(typeof q.antidote_score).toBe('number');
  });

  it('Parquet: every row once, typed values unchanged', async () => {
    const dir = tmpDir();
    const src = await DataSource.open();
    try {
      const csvT = join(dir, 't.csv');
      const csvI = join(dir, 'i.csv');
      writeCsv(csvT, HEADER, tableRows(7, { newlines: true }));
      writeCsv(csvI, HEADER, tableRows(8, { newlines: true, trigger: 'zqx' }));
      for (const [csv, pq] of [
        [csvT, join(dir, 'trusted.parquet')],
        [csvI, join(dir, 'incoming.parquet')],
      ]) {
        const t = await src.load('x', csv);
        await src.copyTo(
          `SELECT *, TRY_CAST(trim(amount) AS DOUBLE) AS amount_num, rowid::INTEGER AS k FROM ${t.table}`,
          pq,
          'parquet',
        );
      }
      await audit({
        trusted: join(dir, 'trusted.parquet'),
        incoming: join(dir, 'incoming.parquet'),
        label: 'label',
        text: 'text',
        features: ['amount_num', 'note'],
        outDir: join(dir, 'out'),
        detectors: [disagreement, triggers],
      });
      const rowsOf = async (p: string, drop: string) =>
        (await src.query(`SELECT * EXCLUDE (${drop}) FROM read_parquet('${p}')`)).map((r) => [
          JSON.stringify(r),
        ]);
      const input = await rowsOf(join(dir, 'incoming.parquet'), 'k');
      const acc = await rowsOf(join(dir, 'out', 'accepted.parquet'), 'k');
      const qua = await rowsOf(
        join(dir, 'out', 'quarantined.parquet'),
        'k, antidote_score, antidote_reasons',
      );
      expect(acc.length + qua.length).toBe(input.length);
      expect(qua.length).toBeGreaterThan(0);
      expect(multiset([...acc, ...qua])).toEqual(multiset(input));
      const [types] = await src.query(
        `SELECT typeof(amount_num) AS a, typeof(k) AS k FROM read_parquet('${join(dir, 'out', 'accepted.parquet')}') LIMIT 1`,
      );
      expect(types).toEqual({ a: 'DOUBLE', k: 'INTEGER' });
    } finally {
      src.close();
    }
  });
});

describe('rows without a label', () => {
  it('are quarantined with that reason, never dropped', async () => {
    const dir = tmpDir();
    const trusted = join(dir, 'trusted.csv');
    const incoming = join(dir, 'incoming.csv');
    writeCsv(trusted, HEADER, tableRows(9, { newlines: false }));
    const rows = tableRows(10, { newlines: false });
    rows[3][2] = '';
    rows[77][2] = '   ';
    writeCsv(incoming, HEADER, rows);
    const report = await runAudit(dir, trusted, incoming);
    const acc = parseCsv(readFileSync(join(dir, 'out', 'accepted.csv'), 'utf8')).slice(1);
    const qua = parseCsv(readFileSync(join(dir, 'out', 'quarantined.csv'), 'utf8')).slice(1);
    expect(acc.length + qua.length).toBe(rows.length);
    const missing = qua.filter((q) => q[6] === 'label is missing');
    expect(missing.map((q) => q[0]).sort()).toEqual([rows[3][0], rows[77][0]].sort());
    expect(report.inputs.incoming.unlabelled).toBe(2);
  });
});
