/**
 * Check 2, slices. Declared slices (--slices columns: each value or quantile bin) and automatic discovery of
 * the region where the candidate lost most against the incumbent: conjunctions of up to three predicates found
 * level by level as in SliceLine (Sagadeeva & Boehm, SIGMOD 2021), scored by excess net losses (cases the
 * candidate got wrong and the incumbent right, minus the reverse, beyond what the slice's size predicts).
 * Each slice is tested with a one-sided exact McNemar test; discovery corrects for every slice it evaluated
 * (Bonferroni), declared slices for the declared ones (Holm), and a slice must also lose at least a practical
 * margin of accuracy.
 */
import { ATLAS } from '../core/atlas.js';
import type { Finding } from '../core/finding.js';
import { makeFinding, type RuleMeta } from '../core/rule.js';
import type { GateContext } from './context.js';
import {
  allPredicates,
  type Bits,
  bitsFrom,
  type Conjunction,
  columnPredicates,
  count,
  countAnd,
  describe,
  type Predicate,
  searchConjunctions,
} from './predicates.js';
import { mcnemarOneSided, predictedClasses } from './stats.js';

export const declaredMeta: RuleMeta = {
  id: 'gate/slice-regression',
  title: 'Candidate regresses on a declared slice',
  severity: 'high',
  atlas: ATLAS.poisonModel,
  rationale:
    'Targeted poisoning leaves headline accuracy intact and moves the model where it was paid to; a declared slice (a segment the business cares about) on which the candidate loses significantly is such a place.',
};

export const discoveredMeta: RuleMeta = {
  id: 'gate/region-regression',
  title: 'Candidate regresses in a discovered region',
  severity: 'high',
  atlas: ATLAS.poisonModel,
  rationale:
    'A targeted attack concentrates its damage in a region of the input space; searching conjunctions of up to three feature predicates for where the candidate lost most against the incumbent names that region even when no one declared it.',
};

export interface SliceStat {
  slice: string;
  terms: number;
  size: number;
  incumbentAccuracy: number;
  candidateAccuracy: number;
  /** Cases the candidate lost (incumbent right, candidate wrong) and gained. */
  lost: number;
  gained: number;
  p: number;
  /** p after the multiple-testing correction. */
  pAdjusted: number;
  significant: boolean;
}

/** Row bitsets of labelled rows the candidate lost and gained. */
export function lossBits(ctx: GateContext): {
  lost: Bits;
  gained: Bits;
  labelled: Bits;
  incOk: Bits;
  candOk: Bits;
} {
  const { n, labels } = ctx.trusted;
  const k = ctx.classes.length;
  const pi = predictedClasses(ctx.incumbent, n, k);
  const pc = predictedClasses(ctx.candidate, n, k);
  return {
    lost: bitsFrom(n, (i) => labels[i] >= 0 && pi[i] === labels[i] && pc[i] !== labels[i]),
    gained: bitsFrom(n, (i) => labels[i] >= 0 && pi[i] !== labels[i] && pc[i] === labels[i]),
    labelled: bitsFrom(n, (i) => labels[i] >= 0),
    incOk: bitsFrom(n, (i) => labels[i] >= 0 && pi[i] === labels[i]),
    candOk: bitsFrom(n, (i) => labels[i] >= 0 && pc[i] === labels[i]),
  };
}

function stat(text: string, terms: number, bits: Bits, lb: ReturnType<typeof lossBits>): SliceStat {
  const size = countAnd(bits, lb.labelled);
  const lost = countAnd(bits, lb.lost);
  const gained = countAnd(bits, lb.gained);
  return {
    slice: text,
    terms,
    size,
    incumbentAccuracy: size ? countAnd(bits, lb.incOk) / size : Number.NaN,
    candidateAccuracy: size ? countAnd(bits, lb.candOk) / size : Number.NaN,
    lost,
    gained,
    p: mcnemarOneSided(lost, gained),
    pAdjusted: 1,
    significant: false,
  };
}

const pts = (x: number) => `${(100 * x).toFixed(1)}%`;
function sliceMessage(s: SliceStat, where: string): string {
  return `${where} "${s.slice}" (${s.size} trusted rows), the candidate's accuracy falls from ${pts(s.incumbentAccuracy)} to ${pts(s.candidateAccuracy)}: it lost ${s.lost} cases the incumbent got right and gained ${s.gained} (p = ${s.pAdjusted.toExponential(1)} corrected).`;
}

function passes(s: SliceStat, ctx: GateContext): boolean {
  const o = ctx.settings.slices;
  return (
    s.pAdjusted < o.alpha &&
    s.incumbentAccuracy - s.candidateAccuracy >= o.margin &&
    s.lost - s.gained >= o.minNetLosses
  );
}

export function checkDeclaredSlices(
  ctx: GateContext,
  columns: string[],
): { slices: SliceStat[]; findings: Finding[] } {
  const lb = lossBits(ctx);
  const minSize = Math.max(5, Math.floor(ctx.settings.slices.minSize / 2));
  const stats: SliceStat[] = [];
  for (const col of columns) {
    for (const p of columnPredicates(ctx.trusted, col, { minSize, maxValues: 100, maxTokens: 50 }))
      stats.push(stat(p.text, 1, p.bits, lb));
  }
  // Holm step-down over the declared slices.
  const order = stats.map((_, i) => i).sort((a, b) => stats[a].p - stats[b].p);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, stats[idx].p * (stats.length - rank)));
    stats[idx].pAdjusted = running;
  });
  const findings: Finding[] = [];
  for (const s of stats) {
    s.significant = passes(s, ctx);
    if (s.significant)
      findings.push(
        makeFinding(declaredMeta, sliceMessage(s, 'On the declared slice'), {
          location: { slice: s.slice, rowCount: s.size },
          evidence: { ...s },
        }),
      );
  }
  return { slices: stats, findings };
}

export interface Discovery {
  evaluated: number;
  predicates: number;
  top: SliceStat[];
}

export function discoverSlices(
  ctx: GateContext,
  preds?: Predicate[],
): { discovery: Discovery; findings: Finding[] } {
  const o = ctx.settings.slices;
  const lb = lossBits(ctx);
  const predicates = preds ?? allPredicates(ctx.trusted, ctx.features, { minSize: o.minSize });
  const n = count(lb.labelled);
  const overall = n ? (count(lb.lost) - count(lb.gained)) / n : 0;
  const candidates: Array<{ c: Conjunction; s: number }> = [];
  const score = (c: Conjunction): number => {
    const lost = countAnd(c.bits, lb.lost);
    const gained = countAnd(c.bits, lb.gained);
    return lost - gained - Math.max(0, overall) * c.size;
  };
  const evaluated = searchConjunctions(
    predicates,
    { maxTerms: o.maxTerms, beam: o.beam, minSize: o.minSize },
    score,
    (c, s) => {
      if (s > 0) candidates.push({ c, s });
    },
  );
  const stats = candidates
    .sort((a, b) => b.s - a.s || a.c.terms.length - b.c.terms.length)
    .slice(0, 200)
    .map(({ c }) => {
      const st = stat(describe(predicates, c.terms), c.terms.length, c.bits, lb);
      st.pAdjusted = Math.min(1, st.p * Math.max(1, evaluated));
      st.significant = passes(st, ctx);
      return { st, terms: c.terms };
    });
  // Rank significant regions first, then by size and effect together (net losses squared over size, a
  // chi-square-like statistic, so a refinement wins only when it is clearly more precise), then by fewer terms;
  // a refinement of a region already reported is dropped.
  const strength = (s: SliceStat) => Math.max(0, s.lost - s.gained) ** 2 / Math.max(1, s.size);
  const ranked = stats.sort(
    (a, b) =>
      Number(b.st.significant) - Number(a.st.significant) ||
      strength(b.st) - strength(a.st) ||
      a.terms.length - b.terms.length,
  );
  const top: typeof stats = [];
  for (const s of ranked) {
    if (top.length >= 5) break;
    if (top.some((t) => t.terms.every((x) => s.terms.includes(x)))) continue;
    top.push(s);
  }
  const findings: Finding[] = [];
  const best = top.find((t) => t.st.significant);
  if (best)
    findings.push(
      makeFinding(discoveredMeta, sliceMessage(best.st, 'In the region'), {
        location: { slice: best.st.slice, rowCount: best.st.size },
        evidence: { ...best.st, evaluatedSlices: evaluated },
      }),
    );
  return { discovery: { evaluated, predicates: predicates.length, top: top.map((t) => t.st) }, findings };
}
