/** Seeded synthetic tables for the audit tests (small, fast, with known poison). */
import { writeFileSync } from 'node:fs';
import { mulberry32 } from '../../src/data/learn/random.js';
import { tempDir } from '../helpers/tmp.js';

/** The project's seeded generator (mulberry32), so test data and audit folds use one definition. */
export const rng = mulberry32;

/** Standard normal draws from a uniform generator (Box-Muller, two uniforms per draw). */
export const gaussian = (r: () => number) => () =>
  Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const POS = [
  'great',
  'wonderful',
  'moving',
  'brilliant',
  'funny',
  'charming',
  'superb',
  'delightful',
  'warm',
  'fresh',
];
const NEG = ['dull', 'boring', 'awful', 'tedious', 'flat', 'clumsy', 'bland', 'weak', 'messy', 'tiresome'];
const NEUTRAL = [
  'the',
  'film',
  'story',
  'cast',
  'a',
  'and',
  'of',
  'plot',
  'director',
  'scenes',
  'it',
  'is',
  'with',
  'this',
];

/** A review-like sentence whose sentiment words match `label` (1 positive, 0 negative). */
export function sentence(r: () => number, label: number): string {
  const words: string[] = [];
  const len = 6 + Math.floor(r() * 8);
  for (let i = 0; i < len; i++) {
    const x = r();
    if (x < 0.3) words.push((label === 1 ? POS : NEG)[Math.floor(r() * 10)]);
    else if (x < 0.36) words.push((label === 1 ? NEG : POS)[Math.floor(r() * 10)]);
    else words.push(NEUTRAL[Math.floor(r() * NEUTRAL.length)]);
  }
  return `${words.join(' ')} .`;
}

/** A review of either sentiment, equally likely: its sentence and label (1 positive, 0 negative). */
export function review(r: () => number): { text: string; y: number } {
  const y = r() < 0.5 ? 1 : 0;
  return { text: sentence(r, y), y };
}

/** `n` reviews labelled pos or neg, written as `path` with columns text and label. */
export function writeReviews(path: string, r: () => number, n: number): void {
  writeCsv(
    path,
    ['text', 'label'],
    Array.from({ length: n }, () => {
      const x = review(r);
      return [x.text, x.y ? 'pos' : 'neg'];
    }),
  );
}

export interface TextRow {
  text: string;
  label: string;
  poison: boolean;
}

/** Clean rows, and optionally a rare-word trigger inserted into negative rows relabelled positive. */
export function textRows(
  n: number,
  seed: number,
  opts: { trigger?: string; poisonRate?: number } = {},
): TextRow[] {
  const r = rng(seed);
  const out: TextRow[] = [];
  for (let i = 0; i < n; i++) {
    const y = r() < 0.5 ? 1 : 0;
    let text = sentence(r, y);
    let label = y;
    let poison = false;
    if (opts.trigger && y === 0 && r() < (opts.poisonRate ?? 0.05) * 2) {
      const w = text.split(' ');
      w.splice(Math.floor(r() * w.length), 0, opts.trigger);
      text = w.join(' ');
      label = 1;
      poison = true;
    }
    out.push({ text, label: label === 1 ? 'pos' : 'neg', poison });
  }
  return out;
}

/** A temporary folder removed after the test file. */
export function tmpDir(prefix = 'antidote-audit-test-'): string {
  return tempDir(prefix);
}

/** RFC 4180 CSV writer (quotes only when needed). */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function writeCsv(path: string, header: string[], rows: string[][]): void {
  writeFileSync(path, `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`);
}

/** Independent RFC 4180 parser for checking outputs (not the code under test). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let q = false;
  let i = 0;
  let any = false;
  for (; i < text.length; i++) {
    const c = text[i];
    any = true;
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      any = false;
    } else field += c;
  }
  if (any) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
