/**
 * Whether a pattern's rows are a few entities measured many times. In a panel (a state over the years, a
 * patient over a day of samples) a label that belongs to the entity (a state's law, a patient's sex) fills
 * every one of its rows, and a combination of its values looks like a pattern that is always labelled so:
 * thirty rows of one patient are one piece of evidence, not thirty. A planted trigger is set on rows that
 * come from everywhere, so outside the pattern's own columns its rows sit among the batch's other rows; an
 * entity's rows sit with each other. The test: of a sample of the pattern's rows, how many have their
 * nearest row, on the columns the pattern does not use, among the pattern's other rows, strictly nearer than
 * every row outside it. Distance per column: 1 where the bins differ, 1/2 where a numeric value differs
 * within one bin (an entity repeats its exact values; a random neighbour in the same bin rarely does), 0
 * where equal. Exact search with early exits: a row that has a nearer outsider stops at the first it meets.
 * Such a pattern is reported under its own rule, so that nothing that reads an audit's triggers (guard fit
 * --audit, the gate's probes, the review page) takes an entity's label for one.
 */
import { ATLAS } from '../../../core/atlas.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { tabular } from '../../features/context.js';
import type { TabularEncoding } from '../../features/tabular.js';
import { round3 as round } from '../lib/evidence.js';
import type { AuditContext, Dataset } from '../types.js';
import { eachLabelledCarrier, type Mined, type Occurrences } from './explain.js';
import type { Space } from './spaces.js';

export const entityMeta: RuleMeta = {
  id: 'audit/entity-pattern',
  title: 'Combinations that are a few entities measured many times',
  severity: 'medium',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'A combination of values that carries one label far more often than the trusted reference expects, on rows that sit nearer one another than any other row on the columns the combination does not use, is most often a few entities (a patient, a state) measured many times, whose label is their own. Rows of one entity are one piece of evidence, which the trusted set cannot show planted, so the rows are named for review and nothing is quarantined.',
};

export interface EntityReading {
  /** Pattern rows read. */
  sampled: number;
  /** Of those, rows nearer to another of the pattern's rows than to any row outside it. */
  within: number;
}

/** Rows of a pattern sampled for the test (evenly spaced). */
export const ENTITY_SAMPLE = 32;

export function entityReading(
  ds: Dataset,
  enc: TabularEncoding,
  rows: number[],
  masked: Uint8Array,
  sample = ENTITY_SAMPLE,
): EntityReading {
  const { n, F, values } = enc;
  const cols: number[] = [];
  for (let f = 0; f < F; f++) if (!masked[f]) cols.push(f);
  const exact = cols.map((f) => ds.numeric.get(enc.columns[f]));
  const inPattern = new Uint8Array(n);
  for (const i of rows) inPattern[i] = 1;
  const dist = (i: number, j: number, cap: number) => {
    let d = 0;
    const oi = i * F;
    const oj = j * F;
    for (let c = 0; c < cols.length && d <= cap; c++) {
      const f = cols[c];
      if (values[oi + f] !== values[oj + f]) d += 1;
      else {
        const x = exact[c];
        if (x && x[i] !== x[j] && !(Number.isNaN(x[i]) && Number.isNaN(x[j]))) d += 0.5;
      }
    }
    return d;
  };
  const m = rows.length;
  const take = Math.min(sample, m);
  let within = 0;
  if (m < 2 || cols.length === 0) return { sampled: take, within };
  for (let s = 0; s < take; s++) {
    const i = rows[Math.floor((s * m) / take)];
    let dIn = Number.POSITIVE_INFINITY;
    for (const j of rows) if (j !== i) dIn = Math.min(dIn, dist(i, j, dIn));
    let nearer = false;
    for (let j = 0; j < n && !nearer; j++) if (!inPattern[j] && dist(i, j, dIn) <= dIn) nearer = true;
    if (!nearer) within++;
  }
  return { sampled: take, within };
}

/** The medium finding for a confirmed pattern whose rows are a few entities (`what`: "the combination ..."). */
export function entityFinding(
  ctx: AuditContext,
  c: Mined,
  e: EntityReading & { rows: number[] },
  what: string,
  name: string,
) {
  const label = ctx.classes[c.label];
  return makeFinding(
    entityMeta,
    `${what[0].toUpperCase()}${what.slice(1)} appears on ${c.dfIn} incoming rows, ${(100 * c.purity).toFixed(0)}% labelled ${label} where the trusted reference expects ${(100 * c.expected).toFixed(0)}%, against ${c.dfTr} trusted ${c.dfTr === 1 ? 'row' : 'rows'}${c.dfTr ? ` (${c.kTr} labelled ${label})` : ''}; but ${e.within} of the ${e.sampled} of its rows read each sit nearer another of its rows than any row outside it, on the columns the combination does not use, as repeated measurements of one subject, place or account do. Their label is then the entity's, and its rows are one piece of evidence, which the trusted set cannot show planted, so none is quarantined. If these rows should not all be ${label}, review them; reviewed rows of these entities in the trusted set settle it.`,
    {
      location: { rows: e.rows.slice(0, 20).map((i) => ctx.incoming.ids[i]), rowCount: c.dfIn },
      evidence: {
        pattern: name,
        kind: 'tabular',
        label,
        incomingRows: c.dfIn,
        trustedRows: c.dfTr,
        trustedWithLabel: c.kTr,
        purity: round(c.purity),
        expected: round(c.expected),
        pValue: c.p,
        nearestWithinPattern: e.within,
        rowsRead: e.sampled,
      },
    },
  );
}

/** entityReading of each confirmed pattern's rows with its label (tabular spaces), with those rows. */
export function entityReadings(
  ctx: AuditContext,
  numericBins: number,
  space: Space,
  confirmed: Mined[],
  first: Int32Array,
  occ: Occurrences,
  kOf: Int32Array,
): Array<(EntityReading & { rows: number[] }) | undefined> {
  const inc = ctx.incoming;
  const enc = tabular(ctx, 'incoming', numericBins);
  if (!enc) return [];
  const rows: number[][] = confirmed.map(() => []);
  eachLabelledCarrier(inc.labels, first, occ, kOf, confirmed, (i, k) => rows[k].push(i));
  return confirmed.map((c, k) => {
    const mask = new Uint8Array(enc.F);
    space.mark(c.firstRow, c.len, c.pos, mask);
    return { ...entityReading(inc, enc, rows[k], mask), rows: rows[k] };
  });
}
