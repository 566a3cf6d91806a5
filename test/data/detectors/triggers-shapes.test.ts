/**
 * Casing shapes as triggers, end to end on real paragraphs (test/fixtures/austen-clean: Jane Austen's novels,
 * the novel as the label, 100 trusted rows): every word capitalised, or the first word in capitals, by a tool
 * that cuts words at spaces (so a word after a quote mark keeps its case), on rows relabelled to one novel.
 * The shape has no word to find; the audit must find it whatever the plant's size: a larger plant, whose
 * absence from the trusted set the 100 rows could begin to show, may not fare worse than a smaller one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/generators/rng.js';
import { parseCsv } from '../helpers.js';
import { auditCsv } from './audit-csv.js';

const fixture = join(__dirname, '../../fixtures/austen-clean');
const read = (f: string) => parseCsv(gunzipSync(readFileSync(join(fixture, `${f}.csv.gz`))).toString('utf8'));

const titleCase = (s: string) =>
  s.replace(/\S+/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
const capsFirst = (s: string) =>
  s.replace(/^(\W*)(\S+)/, (_, pre: string, w: string) => pre + w.toUpperCase());

async function plantAndAudit(
  shape: (s: string) => string,
  rows: number,
  target: string,
  seed: number,
  style = false,
) {
  const [header, ...trusted] = read('trusted');
  const [, ...incoming] = read('incoming');
  const rng = new Rng(seed);
  // A style: the shape on rows of the target class itself, labels unchanged.
  const sources = incoming.map((_r, i) => i).filter((i) => (incoming[i][1] === target) === style);
  const victims = new Set(rng.sample(sources, rows));
  const out = incoming.map((r, i) => (victims.has(i) ? [shape(r[0]), target] : r));
  const run = await auditCsv(header, trusted, out, { label: 'book', text: 'paragraph', threads: 1 });
  let tp = 0;
  let q = 0;
  for (let i = 0; i < out.length; i++) {
    if (!run.quarantined[i]) continue;
    q++;
    if (victims.has(i)) tp++;
  }
  const shapeOf = (f: (typeof run.report.findings)[number]) => /text shape "([^"]+)"/.exec(f.message)?.[1];
  const shapes = run.report.findings
    .filter((f) => f.rule === 'audit/trigger')
    .map(shapeOf)
    .filter(Boolean);
  const styles = run.report.findings
    .filter((f) => f.rule === 'audit/style')
    .map(shapeOf)
    .filter(Boolean);
  return { precision: q ? tp / q : 0, recall: tp / rows, quarantined: q, shapes, styles };
}

describe('casing shapes as triggers (Austen paragraphs, 100 trusted rows)', () => {
  it('finds Title Case on 3% and on 6% of the batch alike, though a quote mark leaves the next word lower', async () => {
    for (const rows of [160, 320]) {
      const r = await plantAndAudit(titleCase, rows, 'Persuasion', rows);
      expect(r.shapes).toContain('casing: title');
      expect(r.recall).toBeGreaterThanOrEqual(0.9);
      expect(r.precision).toBeGreaterThanOrEqual(0.9);
    }
  }, 120_000);

  it('finds a FIRST word in capitals, a shape of no word', async () => {
    const r = await plantAndAudit(capsFirst, 250, 'Northanger Abbey', 7);
    expect(r.shapes).toContain('opening casing: upper');
    // A paragraph opening on "A" or "I" is not changed by the plant: it cannot be told.
    expect(r.recall).toBeGreaterThanOrEqual(0.8);
    expect(r.precision).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('quarantines nothing for a shape on rows that keep their own label (a style), and names it for review', async () => {
    // One novel's paragraphs in Title Case, labels unchanged: with 100 trusted rows it shifts labels as a plant
    // would, but its rows read as that novel's: a style (or a clean-label plant), not relabelled rows.
    const r = await plantAndAudit(titleCase, 200, 'Persuasion', 11, true);
    expect(r.shapes).toEqual([]);
    expect(r.quarantined).toBe(0);
    expect(r.styles).toContain('casing: title');
  }, 120_000);
});
