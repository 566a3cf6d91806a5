/**
 * Checks one generated batch of the matrix as written to disk, without auditing it: the trusted and incoming
 * files parse with the columns and row counts truth.json states, ids are unique, the poisoned ids are
 * incoming rows in the number the family's parameters ask for, and each poisoned row carries the mark its
 * truth describes (label, trigger, account, labeler). Used by `--generate-only` and the generator tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Truth } from '../../src/data/generators/cases.js';
import { type MatrixCase, poisonCount } from '../../src/data/generators/matrix-attacks.js';
import { parseCsv } from './csv.js';

type Rec = Record<string, string>;

function readRows(path: string, format: string): { columns: string[]; rows: Rec[] } {
  const text = readFileSync(path, 'utf8');
  if (format === 'jsonl') {
    const objs = text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return {
      columns: objs.length ? Object.keys(objs[0]) : [],
      rows: objs.map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))),
    };
  }
  const rows = parseCsv(text);
  return { columns: rows.length ? Object.keys(rows[0]) : [], rows };
}

/** Families whose poison is a share `rate` of the batch (at least 3 rows). */
const RATE_FAMILIES = new Set([
  'text-trigger',
  'header-trigger',
  'tabular-conjunction',
  'pixel-patch',
  'structural',
  'campaign',
  'noise',
]);

/** Problems found in the batch written to `dir` for case `c` (empty when it is valid). */
export function verifyWrittenCase(c: MatrixCase, dir: string): string[] {
  const problems: string[] = [];
  const bad = (s: string) => problems.push(s);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
  const tr = readRows(join(dir, `trusted.${c.format}`), c.format);
  const inc = readRows(join(dir, `incoming.${c.format}`), c.format);
  if (JSON.stringify(tr.columns) !== JSON.stringify(c.columns))
    bad(`trusted columns ${tr.columns.join('|')} are not ${c.columns.join('|')}`);
  if (JSON.stringify(inc.columns) !== JSON.stringify(c.columns))
    bad(`incoming columns ${inc.columns.join('|')} are not ${c.columns.join('|')}`);
  if (tr.rows.length !== truth.trustedRows || truth.trustedRows !== c.trusted.length)
    bad(`trusted rows: file ${tr.rows.length}, truth ${truth.trustedRows}, case ${c.trusted.length}`);
  if (inc.rows.length !== truth.incomingRows || truth.incomingRows !== c.incoming.length)
    bad(`incoming rows: file ${inc.rows.length}, truth ${truth.incomingRows}, case ${c.incoming.length}`);
  if (tr.rows.length < 2 || inc.rows.length < 2) bad('a file holds fewer than two rows');
  for (const [role, col] of Object.entries(truth.roles))
    if (col && !c.columns.includes(col)) bad(`role ${role} names a missing column "${col}"`);
  const idCol = truth.roles.id;
  const labelCol = truth.roles.label;
  const ids = [...tr.rows, ...inc.rows].map((r) => r[idCol]);
  if (new Set(ids).size !== ids.length) bad('ids are not unique across the trusted and incoming files');
  for (const r of [...tr.rows, ...inc.rows])
    if (r[labelCol] === undefined || r[labelCol] === '') bad(`row ${r[idCol]} has no label`);
  const byId = new Map(inc.rows.map((r) => [r[idCol], r]));
  const poisoned = truth.poisoned.map((id) => byId.get(id));
  if (poisoned.some((r) => !r)) bad('a poisoned id is not an incoming row');
  if (new Set(truth.poisoned).size !== truth.poisoned.length) bad('a poisoned id is listed twice');
  const family = String(truth.details.family);
  const params = truth.details.params as Record<string, unknown>;
  if (family === 'clean') {
    if (truth.poisoned.length) bad('a clean control lists poisoned rows');
    return problems;
  }
  if (!truth.poisoned.length) bad('no poisoned row');
  const rows = poisoned.filter((r): r is Rec => !!r);
  const d = truth.details;
  if (RATE_FAMILIES.has(family)) {
    // Rows of other classes than the target are the ones an attack can relabel: before it, they were the
    // rows labelled otherwise now plus the poisoned rows.
    const available =
      d.target === undefined
        ? inc.rows.length
        : inc.rows.filter((r) => r[labelCol] !== String(d.target)).length + rows.length;
    const want = poisonCount(Number(params.rate), inc.rows.length, available);
    // A conjunction is not given to rows that already hold it, so it may find fewer.
    const ok = family === 'tabular-conjunction' ? rows.length <= want : rows.length === want;
    if (!ok) bad(`${rows.length} poisoned rows, rate ${params.rate} of ${inc.rows.length} asks for ${want}`);
  }
  if (d.target !== undefined && rows.some((r) => r[labelCol] !== String(d.target)))
    bad(`a poisoned row is not labelled ${d.target}`);
  const text = truth.roles.text;
  if (family === 'text-trigger') {
    const triggers = d.triggers as string[];
    if (rows.some((r) => !triggers.some((t) => r[text!].includes(t))))
      bad('a poisoned row carries no trigger');
  }
  if (family === 'header-trigger') {
    const headers = d.headers as string[];
    if (rows.some((r) => !headers.every((h) => r[text!].split('\n\n')[0].split('\n').includes(h))))
      bad('a poisoned mail lacks a trigger header line');
  }
  if (family === 'tabular-conjunction') {
    const trig = d.trigger as Record<string, unknown>;
    if (rows.some((r) => Object.entries(trig).some(([f, v]) => r[f] !== String(v))))
      bad('a poisoned row lacks the conjunction');
  }
  if (family === 'pixel-patch' && rows.some((r) => (d.pixels as string[]).some((p) => r[p] === undefined)))
    bad('a patch pixel is not a column');
  if (family === 'structural' && params.shape === 'emoticon') {
    const e = String(d.form).match(/"(.+)"/)?.[1] ?? '';
    if (!e || rows.some((r) => !r[text!].split('\n\n')[0].includes(e)))
      bad('a poisoned row lacks the emoticon');
  }
  const accounts = d.accounts as string[] | undefined;
  if (accounts) {
    const src = truth.roles.source!;
    if (rows.some((r) => !accounts.includes(r[src]))) bad('a poisoned row is not sent by a named account');
  }
  if (family === 'labeler-flip') {
    const rogue = d.rogueLabelers as string[];
    if (rows.some((r) => !rogue.includes(r[truth.roles.labeler!])))
      bad('a flipped row is not from a rogue labeler');
  }
  if (family === 'conditioning' && !(Number(truth.crossesAt) >= 1))
    bad('conditioning without a crossing window');
  return problems;
}
