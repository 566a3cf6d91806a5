/**
 * The models page's analysis: a model's versions in the order the gate saw them, each version's output
 * distribution on the trusted set (overall, per declared slice, and in the region its gate named), and its
 * shift (PSI of the binned score distributions) against the pinned baseline and against its predecessor.
 * Pure: takes the store's history, returns numbers for the charts and tables.
 */
import type { Store } from './store.js';

type History = NonNullable<Awaited<ReturnType<Store['modelHistory']>>>;

export interface VersionView {
  digest: string;
  label: string;
  runId: string;
  createdAt: string;
  decision: string;
  region: string | null;
  overall: number[] | null;
  slices: Record<string, number[]>;
  /** PSI of the overall distribution and of each slice against the baseline and the predecessor. */
  vsBaseline: Record<string, number>;
  vsPredecessor: Record<string, number>;
  /** In the region the gate named: PSI and mean score shift of this version against its incumbent. */
  regionShift: { slice: string; psi: number; meanShift: number; rows: number } | null;
}

export interface Lineage {
  name: string;
  baseline: { digest: string; label: string } | null;
  versions: VersionView[];
  slices: string[];
}

/** Population stability index of two binned distributions (smoothed so empty bins stay finite). */
export function histPsi(a: number[], b: number[]): number {
  const n = Math.max(a.length, b.length);
  const sa = a.reduce((x, y) => x + y, 0) || 1;
  const sb = b.reduce((x, y) => x + y, 0) || 1;
  let psi = 0;
  for (let i = 0; i < n; i++) {
    const p = ((a[i] ?? 0) + 0.5) / (sa + 0.5 * n);
    const q = ((b[i] ?? 0) + 0.5) / (sb + 0.5 * n);
    psi += (q - p) * Math.log(q / p);
  }
  return psi;
}

/** Mean of a histogram on [0, 1] from its bin centres. */
export function histMean(c: number[]): number {
  const total = c.reduce((x, y) => x + y, 0);
  if (!total) return 0;
  const w = 1 / c.length;
  return c.reduce((s, x, i) => s + x * (i + 0.5) * w, 0) / total;
}

/** A version's name for tables and charts: the file name of its source, not the whole path. */
function shortLabel(label: string | null): string | null {
  if (!label) return null;
  return label.split(/[\\/]/).pop() || label;
}

export function lineage(h: History): Lineage {
  const dist = (runId: string, role: string, scope: string, slice = '') =>
    h.distributions.find(
      (d) => d.runId === runId && d.role === role && d.scope === scope && d.slice === slice,
    );
  const slices = [...new Set(h.distributions.filter((d) => d.scope === 'slice').map((d) => d.slice))].sort();
  // The baseline: the pinned version, else the first incumbent; its distributions from the run where it was
  // incumbent (or candidate).
  const first = h.gates[0];
  const baseDigest = h.baseline ?? first?.incumbent ?? null;
  let baseOverall: number[] | null = null;
  const baseSlices: Record<string, number[]> = {};
  let baseLabel = '';
  for (const g of h.gates) {
    const role = g.incumbent === baseDigest ? 'incumbent' : g.candidate === baseDigest ? 'candidate' : null;
    if (!role) continue;
    baseLabel = shortLabel(role === 'incumbent' ? g.incumbentLabel : g.candidateLabel) ?? '';
    baseOverall = dist(g.runId, role, 'overall')?.counts ?? null;
    for (const s of slices) {
      const d = dist(g.runId, role, 'slice', s);
      if (d) baseSlices[s] = d.counts;
    }
    break;
  }
  const versions: VersionView[] = [];
  const seen = new Set<string>();
  for (const g of h.gates) {
    if (seen.has(g.candidate)) continue;
    seen.add(g.candidate);
    const overall = dist(g.runId, 'candidate', 'overall')?.counts ?? null;
    const sl: Record<string, number[]> = {};
    for (const s of slices) {
      const d = dist(g.runId, 'candidate', 'slice', s);
      if (d) sl[s] = d.counts;
    }
    // The predecessor: the version before in the lineage, else this run's incumbent.
    const prev = versions[versions.length - 1];
    const prevOverall = prev?.overall ?? dist(g.runId, 'incumbent', 'overall')?.counts ?? null;
    const prevSlices = prev?.slices ?? {};
    const vsBaseline: Record<string, number> = {};
    const vsPredecessor: Record<string, number> = {};
    if (overall && baseOverall) vsBaseline.overall = histPsi(baseOverall, overall);
    if (overall && prevOverall) vsPredecessor.overall = histPsi(prevOverall, overall);
    for (const s of slices) {
      if (sl[s] && baseSlices[s]) vsBaseline[s] = histPsi(baseSlices[s], sl[s]);
      const p = prevSlices[s] ?? dist(g.runId, 'incumbent', 'slice', s)?.counts;
      if (sl[s] && p) vsPredecessor[s] = histPsi(p, sl[s]);
    }
    const rc = g.region ? dist(g.runId, 'candidate', 'region', g.region) : undefined;
    const ri = g.region ? dist(g.runId, 'incumbent', 'region', g.region) : undefined;
    versions.push({
      digest: g.candidate,
      label: shortLabel(g.candidateLabel) ?? g.candidate.slice(7, 19),
      runId: g.runId,
      createdAt: g.createdAt,
      decision: g.decision,
      region: g.region,
      overall,
      slices: sl,
      vsBaseline,
      vsPredecessor,
      regionShift:
        rc && ri && g.region
          ? {
              slice: g.region,
              psi: histPsi(ri.counts, rc.counts),
              meanShift: histMean(rc.counts) - histMean(ri.counts),
              rows: rc.rows,
            }
          : null,
    });
  }
  return {
    name: h.name,
    baseline: baseDigest ? { digest: baseDigest, label: baseLabel || baseDigest.slice(7, 19) } : null,
    versions,
    slices,
  };
}
