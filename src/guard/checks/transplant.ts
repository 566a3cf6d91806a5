/**
 * The transplant step of guard/occlusion: is the part that decides an instance's answer a trigger?
 *
 * Occlusion finds the part of an instance the promoted model's answer c depends on (the words whose removal, or the
 * values whose replacement, takes c away). On a clean model that part is content; on a backdoored one it can be a
 * trigger made of ordinary words or values. The two differ in what the part does elsewhere: written into trusted
 * inputs of other classes, a trigger makes the promoted model answer c almost always, while a model of the trusted
 * data (occlusion's reference) barely moves; content moves both about as much, because both learned it from labels.
 *
 * For each instance, the candidate parts are its best occlusion part, the best two and the best three together (a
 * conjunction of values, a phrase whose removal was found in pieces). Each candidate is written into
 * `perCandidate` held trusted rows that the promoted model answers otherwise (values set; words inserted as one
 * run at a seeded position), and scored by
 *
 *   uplift_model - uplift_reference,  uplift = mean over hosts of p(c | host with the part) - p(c | host)
 *
 * The instance's score is the largest over its candidates (clipped at 0); its threshold is calibrated per
 * predicted class on held-back trusted rows, as before. Cost: `perCandidate` model answers per candidate.
 */
import type { InputBatch } from '../../gate/models/types.js';
import { argmaxRow, rng } from '../../gate/stats.js';
import type { Column } from '../../gate/table.js';
import type { OcclusionProfile } from '../profile.js';
import { rowHash } from '../row-hash.js';
import type { Pattern } from './learned-trigger.js';
import { type Occlusions, type PartSpec, type Reference, referenceProba } from './occlusion.js';

/** Held rows kept: the transplant draws from them, and guard/learned-trigger counts how many already hold a pattern. */
export const DEFAULT_HOST_ROWS = 2000;
export const DEFAULT_PER_CANDIDATE = 32;

type Hosts = NonNullable<OcclusionProfile['hosts']>;
type Cell = string | number | null;

/** Seeded sample of held trusted rows to transplant into, with the promoted model's probabilities of each. */
export function pickHosts(
  batch: InputBatch,
  rows: number[],
  probs: Float64Array,
  k: number,
  seed: number,
  perCandidate = DEFAULT_PER_CANDIDATE,
): Hosts {
  const order = [...rows];
  const r = rng(seed + 31);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const chosen = order.slice(0, Math.min(DEFAULT_HOST_ROWS, order.length));
  const columns: Record<string, Cell[]> = {};
  for (const [name, col] of batch.columns)
    columns[name] = chosen.map((i) =>
      col.kind === 'number' ? (Number.isNaN(col.values[i]) ? null : col.values[i]) : col.values[i],
    );
  const p: number[] = [];
  for (const i of chosen) for (let c = 0; c < k; c++) p.push(probs[i * k + c]);
  return { rows: chosen.length, columns, probs: p, perCandidate };
}

/** The hosts as a batch whose columns have the kinds of `like`'s columns. */
export function hostBatch(hosts: Hosts, like: InputBatch): InputBatch {
  const columns = new Map<string, Column>();
  for (const [name, col] of like.columns) {
    const cells = hosts.columns[name] ?? [];
    if (col.kind === 'number')
      columns.set(name, {
        kind: 'number',
        values: Float64Array.from({ length: hosts.rows }, (_, i) => {
          const v = cells[i];
          return v === null || v === undefined ? Number.NaN : Number(v);
        }),
      });
    else
      columns.set(name, {
        kind: 'string',
        values: Array.from({ length: hosts.rows }, (_, i) => {
          const v = cells[i];
          return v === null || v === undefined ? '' : String(v);
        }),
      });
  }
  return { n: hosts.rows, columns, ids: Array.from({ length: hosts.rows }, (_, i) => `host-${i}`) };
}

/** Copy j: chosen row `owner[j]`, its candidate `candidate[j]` (0: best part, 1: best two, ...), host `host[j]`. */
export interface Transplants {
  copies: InputBatch;
  /** Per (row, candidate), in the copies' order: the row with the candidate's parts taken out (words removed, values unknown). */
  rests: InputBatch;
  owner: Int32Array;
  candidate: Int32Array;
  host: Int32Array;
}

/** Write each chosen row's candidate parts into hosts the model answers otherwise than the row. */
export function transplant(
  batch: InputBatch,
  rows: number[],
  occ: Occlusions,
  deciding: number[][],
  hosts: Hosts,
  hostClass: ArrayLike<number>,
  predicted: ArrayLike<number>,
  seed: number,
): Transplants {
  const owner: number[] = [];
  const candidate: number[] = [];
  const host: number[] = [];
  // Each copy's cells that differ from its host: column -> value.
  const edits: Array<Map<string, string | number>> = [];
  const restEdits: Array<{ row: number; cells: Map<string, string | number> }> = [];
  const all = Array.from({ length: hosts.rows }, (_, h) => h);
  rows.forEach((i, r) => {
    const others = all.filter((h) => hostClass[h] !== predicted[r]);
    if (!others.length) return;
    const rand = rng(rowHash(batch, i, seed + 7));
    const top = deciding[r].map((p) => occ.specs[r][p]);
    for (let c = 0; c < top.length; c++) {
      const parts = top.slice(0, c + 1);
      restEdits.push({ row: i, cells: restOf(batch, i, parts) });
      for (let t = 0; t < hosts.perCandidate; t++) {
        const h = others[Math.floor(rand() * others.length)];
        edits.push(editsOf(batch, i, parts, hosts, h, rand));
        owner.push(r);
        candidate.push(c);
        host.push(h);
      }
    }
  });
  const n = edits.length;
  const base = hostBatch(hosts, batch);
  const columns = new Map<string, Column>();
  for (const [name, col] of base.columns) {
    if (col.kind === 'number')
      columns.set(name, {
        kind: 'number',
        values: Float64Array.from({ length: n }, (_, j) => {
          const e = edits[j].get(name);
          return e === undefined ? col.values[host[j]] : Number(e);
        }),
      });
    else
      columns.set(name, {
        kind: 'string',
        values: Array.from({ length: n }, (_, j) => {
          const e = edits[j].get(name);
          return e === undefined ? col.values[host[j]] : String(e);
        }),
      });
  }
  const m = restEdits.length;
  const restColumns = new Map<string, Column>();
  for (const [name, col] of batch.columns) {
    if (col.kind === 'number')
      restColumns.set(name, {
        kind: 'number',
        values: Float64Array.from(restEdits, ({ row, cells }) => {
          const e = cells.get(name);
          return e === undefined ? col.values[row] : Number(e);
        }),
      });
    else
      restColumns.set(name, {
        kind: 'string',
        values: restEdits.map(({ row, cells }) => {
          const e = cells.get(name);
          return e === undefined ? col.values[row] : String(e);
        }),
      });
  }
  return {
    copies: { n, columns, ids: Array.from({ length: n }, (_, j) => `transplant-${j}`) },
    rests: { n: m, columns: restColumns, ids: Array.from({ length: m }, (_, j) => `rest-${j}`) },
    owner: Int32Array.from(owner),
    candidate: Int32Array.from(candidate),
    host: Int32Array.from(host),
  };
}

/** The word positions each text column's parts cover. */
function wordsOf(parts: PartSpec[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const p of parts) {
    if (!p.text) continue;
    const set = out.get(p.column) ?? new Set<number>();
    for (let w = p.start; w < p.start + p.length; w++) set.add(w);
    out.set(p.column, set);
  }
  return out;
}

/** Row i with parts taken out: a text column's words removed, another column's value unknown (NaN, empty). */
function restOf(batch: InputBatch, i: number, parts: PartSpec[]): Map<string, string | number> {
  const out = new Map<string, string | number>();
  for (const p of parts) {
    const col = batch.columns.get(p.column);
    if (col && !p.text) out.set(p.column, col.kind === 'number' ? Number.NaN : '');
  }
  for (const [name, set] of wordsOf(parts)) {
    const own = String(batch.columns.get(name)?.values[i] ?? '')
      .split(/\s+/)
      .filter(Boolean);
    out.set(name, own.filter((_, w) => !set.has(w)).join(' '));
  }
  return out;
}

/** The cells of host h after row i's parts are written in: values set, each text column's words inserted as one run. */
function editsOf(
  batch: InputBatch,
  i: number,
  parts: PartSpec[],
  hosts: Hosts,
  h: number,
  rand: () => number,
): Map<string, string | number> {
  const out = new Map<string, string | number>();
  for (const p of parts) {
    const col = batch.columns.get(p.column);
    if (col && !p.text) out.set(p.column, col.values[i]);
  }
  for (const [name, set] of wordsOf(parts)) {
    const own = String(batch.columns.get(name)?.values[i] ?? '')
      .split(/\s+/)
      .filter(Boolean);
    const run = [...set].sort((a, b) => a - b).map((w) => own[w]);
    const cell = hosts.columns[name]?.[h];
    const into = (cell === null || cell === undefined ? '' : String(cell)).split(/\s+/).filter(Boolean);
    into.splice(Math.floor(rand() * (into.length + 1)), 0, ...run);
    out.set(name, into.join(' '));
  }
  return out;
}

export interface TransplantScore {
  score: number;
  /** The best candidate (0: best part alone, 1: best two, ...), -1 when none was tried. */
  candidate: number;
  /** Mean probability of the row's answer over the hosts with the part, by the model and by the reference. */
  modelWith: number;
  referenceWith: number;
  /** The reference's probability of the answer for the instance without the candidate's parts. */
  referenceRest: number;
  /** Per candidate (0: best part alone, 1: best two, ...), the model's uplift minus the reference's. */
  uplifts: number[];
  /** Per candidate: does the reference read the instance without its parts as the answer (its likeliest class)? */
  restAgrees: boolean[];
}

/** Each chosen row's score: the largest, over its candidates, of the model's uplift minus the reference's. */
export function transplantScores(
  t: Transplants,
  rows: number,
  copyProbs: Float64Array,
  reference: Reference,
  hostProbs: ArrayLike<number>,
  hostRef: Float64Array,
  predicted: ArrayLike<number>,
  k: number,
): TransplantScore[] {
  const copyRef = referenceProba(reference, t.copies);
  const restRef = referenceProba(reference, t.rests);
  const out: TransplantScore[] = Array.from({ length: rows }, () => ({
    score: 0,
    candidate: -1,
    modelWith: 0,
    referenceWith: 0,
    referenceRest: 1,
    uplifts: [],
    restAgrees: [],
  }));
  let j = 0;
  let q = -1;
  while (j < t.owner.length) {
    q++;
    const r = t.owner[j];
    const cand = t.candidate[j];
    const c = predicted[r];
    let m = 0;
    let ref = 0;
    let m0 = 0;
    let ref0 = 0;
    let cnt = 0;
    for (; j < t.owner.length && t.owner[j] === r && t.candidate[j] === cand; j++, cnt++) {
      const h = t.host[j];
      m += copyProbs[j * k + c];
      ref += copyRef[j * k + c];
      m0 += hostProbs[h * k + c];
      ref0 += hostRef[h * k + c];
    }
    const rest = restRef[q * k + c];
    const up = (m - m0) / cnt - (ref - ref0) / cnt;
    const s = Math.max(0, up) * (1 - rest);
    const { uplifts, restAgrees } = out[r];
    uplifts[cand] = up;
    restAgrees[cand] = argmaxRow(restRef, q, k) === c;
    if (out[r].candidate < 0 || s > out[r].score)
      out[r] = {
        score: s,
        candidate: cand,
        modelWith: m / cnt,
        referenceWith: ref / cnt,
        referenceRest: rest,
        uplifts,
        restAgrees,
      };
  }
  return out;
}

/**
 * Copies of `perCandidate` hosts the model answers otherwise than `cls`, each with `pattern` written in; `base` is
 * hostBatch(hosts, batch), built once by the caller.
 */
export function patternCopies(
  hosts: Hosts,
  base: InputBatch,
  pattern: Pattern,
  hostClass: ArrayLike<number>,
  cls: number,
  seed: number,
): { copies: InputBatch; host: Int32Array } {
  const others = Array.from({ length: hosts.rows }, (_, h) => h).filter((h) => hostClass[h] !== cls);
  const rand = rng(seed + 11);
  const host = Int32Array.from(
    { length: others.length ? hosts.perCandidate : 0 },
    () => others[Math.floor(rand() * others.length)],
  );
  const values = new Map<string, string>(
    pattern.kind === 'value'
      ? [
          [pattern.column, pattern.value],
          ...(pattern.also ?? []).map((a) => [a.column, a.value] as [string, string]),
        ]
      : [],
  );
  const columns = new Map<string, Column>();
  for (const [name, col] of base.columns) {
    if (col.kind === 'number') {
      const v = values.get(name);
      columns.set(name, {
        kind: 'number',
        values: Float64Array.from(host, (h) => (v === undefined ? col.values[h] : Number(v))),
      });
    } else if (pattern.kind === 'token' && name === pattern.column) {
      columns.set(name, {
        kind: 'string',
        values: Array.from(host, (h) => {
          const into = col.values[h].split(/\s+/).filter(Boolean);
          into.splice(Math.floor(rand() * (into.length + 1)), 0, pattern.value);
          return into.join(' ');
        }),
      });
    } else {
      const v = values.get(name);
      columns.set(name, { kind: 'string', values: Array.from(host, (h) => v ?? col.values[h]) });
    }
  }
  return { copies: { n: host.length, columns, ids: Array.from(host, (_, j) => `pattern-${j}`) }, host };
}

/** Mean over copies of p(cls | copy) - p(cls | its host), for the model and for the reference. */
export function uplift(
  host: Int32Array,
  copyProbs: Float64Array,
  copyRef: Float64Array,
  hostProbs: ArrayLike<number>,
  hostRef: Float64Array,
  cls: number,
  k: number,
): { model: number; reference: number; modelWith: number; referenceWith: number } {
  let m = 0;
  let r = 0;
  let m0 = 0;
  let r0 = 0;
  host.forEach((h, j) => {
    m += copyProbs[j * k + cls];
    r += copyRef[j * k + cls];
    m0 += hostProbs[h * k + cls];
    r0 += hostRef[h * k + cls];
  });
  const n = Math.max(1, host.length);
  return { model: (m - m0) / n, reference: (r - r0) / n, modelWith: m / n, referenceWith: r / n };
}
