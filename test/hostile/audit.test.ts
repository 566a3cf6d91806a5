/**
 * Hostile inputs for `antidote audit`: malformed CSV/TSV/JSONL, nesting that crashed DuckDB, missing
 * columns, odd encodings, bad flags and configs. Valid inputs must end with a verdict and every incoming
 * row in exactly one output; bad input must end with exit 2 and one line.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { type Case, hostileSuite } from './harness.js';

const csv = (rows: number, classes = 2, seed = 1) => {
  let s = 'id,text,amount,label\n';
  for (let i = 0; i < rows; i++)
    s += `${i},word${(i * seed) % 11} token${i % 5} extra${i % 3},${(i * 37) % 100},c${i % classes}\n`;
  return s;
};
const jsonl = (rows: number) =>
  `${Array.from({ length: rows }, (_, i) =>
    JSON.stringify({ id: i, text: `w${i % 9} t${i % 4}`, label: i % 2 ? 'a' : 'b' }),
  ).join('\n')}\n`;
const deep = (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`;

/** Write trusted/incoming files and run the audit into `out`. */
const audit =
  (
    trusted: [string, string | Buffer],
    incoming: [string, string | Buffer],
    extra: string[] = [],
    label = 'label',
  ) =>
  (dir: string) => {
    writeFileSync(join(dir, trusted[0]), trusted[1]);
    writeFileSync(join(dir, incoming[0]), incoming[1]);
    return {
      args: [
        'audit',
        '--trusted',
        trusted[0],
        '--incoming',
        incoming[0],
        '--label',
        label,
        '--out',
        'out',
        '--no-progress',
        ...extra,
      ],
      outDir: 'out',
    };
  };

/** Every incoming row is in exactly one of accepted/quarantined. */
const nothingLost = (rows: number) => (_r: unknown, dir: string) => {
  const files = readdirSync(join(dir, 'out'));
  const count = (stem: string) => {
    const f = files.find((n) => n.startsWith(`${stem}.`)) ?? '';
    const lines = readFileSync(join(dir, 'out', f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '').length;
    return f.endsWith('.jsonl') ? lines : lines - 1;
  };
  expect(count('accepted') + count('quarantined')).toBe(rows);
};

const OK = [0, 1];
const cases: Case[] = [];
const add = (
  name: string,
  prepare: Case['prepare'],
  code: number | number[],
  extra: Partial<Case> = {},
): void => {
  cases.push({ name, prepare, code, rssMiB: 900, asMiB: 8192, seconds: 120, ...extra });
};

add('valid CSV: nothing lost', audit(['t.csv', csv(200)], ['i.csv', csv(150, 2, 3)]), OK, {
  check: nothingLost(150),
});
add('valid JSONL: nothing lost', audit(['t.jsonl', jsonl(120)], ['i.jsonl', jsonl(80)]), OK, {
  check: nothingLost(80),
});
add(
  'JSONL nested 100,000 deep in the incoming batch',
  audit(['t.jsonl', jsonl(50)], ['i.jsonl', `${jsonl(5)}{"id":9,"text":${deep(100000)},"label":"a"}\n`]),
  2,
  { stderr: /nest deeper than 512/ },
);
add(
  'JSONL nested 100,000 deep in the trusted set',
  audit(['t.jsonl', `{"id":1,"text":"x","label":${deep(100000)}}\n`], ['i.jsonl', jsonl(20)]),
  2,
  { stderr: /nest deeper/ },
);
add(
  'JSONL objects nested 10,000 deep',
  audit(
    ['t.jsonl', jsonl(50)],
    ['i.jsonl', `{"id":1,"label":"a","text":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}\n`],
  ),
  2,
  { stderr: /nest deeper/ },
);
add(
  'JSONL brackets inside strings are not nesting',
  audit(
    ['t.jsonl', jsonl(60)],
    ['i.jsonl', `${jsonl(30)}{"id":99,"text":"${'['.repeat(5000)}","label":"a"}\n`],
  ),
  OK,
  { check: nothingLost(31) },
);
add(
  'gzip JSONL nested 100,000 deep',
  audit(['t.jsonl', jsonl(50)], ['i.jsonl.gz', gzipSync(`{"id":1,"text":${deep(100000)},"label":"a"}\n`)]),
  2,
);
add(
  'JSONL with an invalid line',
  audit(['t.jsonl', jsonl(50)], ['i.jsonl', `${jsonl(10)}{"id": 11, "text": \n`]),
  2,
  { stderr: /JSON/ },
);
add(
  'JSONL with NaN',
  audit(['t.jsonl', jsonl(50)], ['i.jsonl', `${jsonl(10)}{"id": 11, "text": NaN, "label": "a"}\n`]),
  [0, 1, 2],
);
add('JSONL of arrays, not objects', audit(['t.jsonl', jsonl(50)], ['i.jsonl', '[1,2,3]\n[4,5,6]\n']), 2);
add(
  'JSONL with a 2 MB string',
  audit(
    ['t.jsonl', jsonl(50)],
    ['i.jsonl', `${jsonl(10)}{"id":11,"text":"${'x'.repeat(2_000_000)}","label":"a"}\n`],
  ),
  OK,
);
add(
  'CSV with an unbalanced quote',
  audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,"never closed,5,c0\n22,ok,5,c1\n`]),
  [0, 1, 2],
);
add(
  'CSV with ragged rows',
  audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,a\n22,b,1,c0,extra,extra\n`]),
  [0, 1, 2],
);
add('CSV with NUL bytes', audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,a\u0000b,1,c0\n`]), [0, 1, 2]);
add('CSV with a UTF-8 BOM', audit(['t.csv', `\ufeff${csv(100)}`], ['i.csv', `\ufeff${csv(40)}`]), OK);
add(
  'CSV with CRLF line ends',
  audit(['t.csv', csv(100).replace(/\n/g, '\r\n')], ['i.csv', csv(40).replace(/\n/g, '\r\n')]),
  OK,
);
add(
  'CSV with terminal escape sequences in values',
  audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,\u001b]0;pwned\u0007 \u001b[2J,1,c0\n`]),
  OK,
);
add('empty incoming file', audit(['t.csv', csv(100)], ['i.csv', '']), 2);
add('header-only incoming file', audit(['t.csv', csv(100)], ['i.csv', 'id,text,amount,label\n']), [0, 1, 2]);
add(
  'label column missing from the incoming batch',
  audit(['t.csv', csv(100)], ['i.csv', 'id,text,amount\n1,a,2\n']),
  2,
);
add(
  'label column missing from the trusted set',
  audit(['t.csv', 'id,text,amount\n1,a,2\n'], ['i.csv', csv(10)]),
  2,
);
add('no such label flag value', audit(['t.csv', csv(50)], ['i.csv', csv(10)], [], 'nope'), 2);
add(
  'trusted file missing',
  (dir) => {
    writeFileSync(join(dir, 'i.csv'), csv(10));
    return {
      args: ['audit', '--trusted', 'missing.csv', '--incoming', 'i.csv', '--label', 'label', '--out', 'out'],
      outDir: 'out',
    };
  },
  2,
);
add(
  'incoming is a folder',
  (dir) => {
    writeFileSync(join(dir, 't.csv'), csv(10));
    return {
      args: ['audit', '--trusted', 't.csv', '--incoming', '.', '--label', 'label', '--out', 'out'],
      outDir: 'out',
    };
  },
  2,
);
add(
  'parquet that is garbage',
  audit(['t.csv', csv(50)], ['i.parquet', Buffer.from('PAR1 not really parquet PAR1')]),
  2,
);
add('unknown extension', audit(['t.csv', csv(50)], ['i.xlsx', 'PK\u0003\u0004']), 2);
add(
  'duplicate column names',
  audit(['t.csv', csv(50)], ['i.csv', 'id,label,label\n1,a,b\n2,b,a\n']),
  [0, 1, 2],
);
add('12 label classes in 400 rows', audit(['t.csv', csv(400, 12)], ['i.csv', csv(300, 12, 7)]), OK, {
  check: nothingLost(300),
});
add('one class only', audit(['t.csv', csv(100, 1)], ['i.csv', csv(50, 1)]), [0, 1, 2]);
add('a single incoming row', audit(['t.csv', csv(100)], ['i.csv', csv(1)]), [0, 1, 2]);
add(
  '100 columns',
  (dir) => {
    const head = ['label', ...Array.from({ length: 99 }, (_, i) => `f${i}`)].join(',');
    const rows = (n: number) =>
      Array.from({ length: n }, (_, r) =>
        [`c${r % 2}`, ...Array.from({ length: 99 }, (_, i) => (r * i) % 13)].join(','),
      ).join('\n');
    writeFileSync(join(dir, 't.csv'), `${head}\n${rows(150)}\n`);
    writeFileSync(join(dir, 'i.csv'), `${head}\n${rows(100)}\n`);
    return {
      args: [
        'audit',
        '--trusted',
        't.csv',
        '--incoming',
        'i.csv',
        '--label',
        'label',
        '--out',
        'out',
        '--no-progress',
      ],
      outDir: 'out',
    };
  },
  [0, 1, 2],
);
add(
  'a 200 KB single token',
  audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,${'z'.repeat(200_000)},1,c0\n`]),
  OK,
);
add(
  'Unicode and RTL overrides in the text',
  audit(['t.csv', csv(100)], ['i.csv', `${csv(20)}21,\u202egnp.exe \u4e2d\u6587 \ud83d\ude00,1,c0\n`]),
  OK,
);
add(
  '--config that is not JSON',
  (dir) => {
    writeFileSync(join(dir, 'c.json'), '{ nope');
    return audit(['t.csv', csv(50)], ['i.csv', csv(10)], ['--config', 'c.json'])(dir);
  },
  2,
);
add(
  '--config nested 100,000 deep',
  (dir) => {
    writeFileSync(join(dir, 'c.json'), `{"x": ${deep(100000)}}`);
    return audit(['t.csv', csv(50)], ['i.csv', csv(10)], ['--config', 'c.json'])(dir);
  },
  2,
);
add(
  '--fail-on with an unknown severity',
  audit(['t.csv', csv(50)], ['i.csv', csv(10)], ['--fail-on', 'apocalyptic']),
  2,
);
add(
  '--out is an existing file',
  (dir) => {
    writeFileSync(join(dir, 'out'), 'precious');
    writeFileSync(join(dir, 't.csv'), csv(50));
    writeFileSync(join(dir, 'i.csv'), csv(10));
    return {
      args: ['audit', '--trusted', 't.csv', '--incoming', 'i.csv', '--label', 'label', '--out', 'out'],
    };
  },
  2,
);
add(
  'TSV with quotes in fields',
  audit(
    ['t.tsv', csv(100).replace(/,/g, '\t')],
    ['i.tsv', `${csv(20).replace(/,/g, '\t')}21\t"quoted" text\t1\tc0\n`],
  ),
  OK,
);

hostileSuite('hostile audit', cases);
