/**
 * Detector 6: representations (when the user supplies embeddings or activations with --embeddings).
 * Three classic views of a poisoned class, each judged against the trusted set instead of against itself:
 *   - spectral signatures (Tran et al. 2018): within a class, poisoned rows share a direction; the top
 *     singular vector of the centred class rows points at it. Incoming rows projecting beyond what the
 *     trusted rows of that class ever reach along that direction (each side on its own robust scale) are
 *     flagged, but only when there are far more of them than chance predicts;
 *   - activation clustering (Chen et al. 2018): 2-means per class on the top principal directions; a small
 *     cluster that the trusted rows of that class hardly populate is flagged;
 *   - k-nearest-neighbour label disagreement (usearch): a row whose nearest trusted neighbours nearly all
 *     carry another label, more than trusted rows of its class ever see.
 * Large classes are fitted on a seeded sample (directions and centroids), then every row is scored.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import { mad, median } from '../stats/robust.js';
import { binomialUpperTail } from '../stats/tests.js';
import { unseenClassReason } from './lib/classes.js';
import { meanOf, project, type Rows, topDirections, twoMeans } from './lib/linalg.js';
import { settingsFor } from './lib/settings.js';
import type { AuditContext, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/representations',
  title: 'Spectral signatures, activation clusters and neighbour labels in embeddings',
  severity: 'high',
  atlas: ATLAS.backdoorTrigger,
  rationale:
    'Backdoored and mislabelled rows leave traces in a model’s representation: a shared direction within a ' +
    'class, a small separate cluster, or neighbours that all carry another label. Judged against the trusted ' +
    'set’s representations, these traces separate from the ordinary spread of a class.',
};

export const REPRESENTATIONS_DEFAULTS = {
  /** Rows sampled per class to fit directions and centroids. */
  maxFitRows: 20000,
  /** Incoming rows beyond the extremes of the trusted rows along the spectral direction are candidates; there must be this many times the count chance predicts... */
  spectralExcess: 3,
  /** ...and significant at this p-value (binomial against the trusted tail rate). */
  alpha: 1e-6,
  /** Principal directions used for activation clustering. */
  clusterDims: 10,
  /** The smaller of the two clusters must hold at most this share of the class. */
  maxClusterShare: 0.35,
  /** ...and at least this many times its share among the trusted rows of the class. */
  clusterLift: 4,
  /** Nearest trusted neighbours consulted per row. */
  knn: 10,
  /** Share of neighbours with another label at or above which a row is a candidate. */
  knnDisagreement: 0.8,
  /** ...provided at most this share of trusted rows of its class see that much disagreement (and the incoming class has significantly more). */
  knnTrustedTail: 0.05,
  /**
   * Highest score a flagged row can get from each method. A row's score is the estimated share of poison
   * among the rows flagged with it, 1 − expected/observed (expected from the trusted rows of its class),
   * capped here: a view that flags natural outliers at the rate the trusted set has them scores near 0.
   */
  spectralScore: 0.9,
  clusterScore: 0.9,
  knnScore: 0.9,
};
export type RepresentationsSettings = typeof REPRESENTATIONS_DEFAULTS;

function sample(rows: number[], max: number, seed: number): number[] {
  if (rows.length <= max) return rows;
  const out = rows.slice();
  let s = seed >>> 0 || 1;
  for (let i = 0; i < max; i++) {
    s = (Math.imul(s ^ (s >>> 13), 0x5bd1e995) + 0x6d2b79f5) >>> 0;
    const j = i + (s % (out.length - i));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, max);
}

export async function run(ctx: AuditContext): Promise<DetectorOutput> {
  const s = settingsFor(ctx, meta.id, REPRESENTATIONS_DEFAULTS);
  const inc = ctx.incoming;
  const tr = ctx.trusted;
  const E = inc.embeddings!;
  const T = tr.embeddings && tr.embeddings.dim === E.dim ? tr.embeddings : undefined;
  const k = ctx.classes.length;
  const findings: Finding[] = [];
  const scores = new Float32Array(inc.n);
  const reasons = new Array<string | undefined>(inc.n);
  const raise = (r: number, score: number, why: string) => {
    if (score > scores[r]) {
      scores[r] = score;
      reasons[r] = why;
    }
  };
  const inRows: number[][] = Array.from({ length: k }, () => []);
  const trRows: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < inc.n; i++) if (inc.labels[i] >= 0) inRows[inc.labels[i]].push(i);
  for (let i = 0; i < tr.n; i++) if (tr.labels[i] >= 0) trRows[tr.labels[i]].push(i);
  const chart: Array<Record<string, unknown>> = [];

  for (let c = 0; c < k; c++) {
    const rows = inRows[c];
    const trows = T ? trRows[c] : [];
    if (rows.length < 20) continue;
    const fit = sample(rows, s.maxFitRows, ctx.seed + c);
    const centre = meanOf(E, fit);
    const dirs = topDirections(E, fit, centre, Math.max(1, s.clusterDims), { seed: ctx.seed + 17 * c });
    const cls = ctx.classes[c];

    // Spectral signature: incoming projections on the top direction against the trusted spread.
    const v = dirs[0];
    const pin = Float64Array.from(rows, (r) => project(E, r, centre, v));
    let flaggedSpectral = 0;
    if (T && trows.length >= 40) {
      // Each side on its own robust scale (median, MAD): the direction was fitted on the incoming rows, which
      // inflates their spread along it; a poison cluster sits in the tail without moving the bulk.
      const ptr = Float64Array.from(trows, (r) => project(T, r, centre, v));
      const zin = robustZ(pin);
      const ztr = robustZ(ptr).sort();
      // Beyond everything the trusted rows reach: for exchangeable rows the chance of exceeding the maximum of
      // n trusted rows is exactly 1 / (n + 1) (a rank argument, whatever the distribution).
      const lo = ztr[0];
      const hi = ztr[ztr.length - 1];
      for (const side of [1, -1] as const) {
        const beyond: number[] = [];
        zin.forEach((z, i) => {
          if (side === 1 ? z > hi : z < lo) beyond.push(i);
        });
        const rate = 1 / (ztr.length + 1);
        const expected = rate * rows.length;
        const p = binomialUpperTail(beyond.length, rows.length, rate);
        if (beyond.length >= s.spectralExcess * Math.max(1, expected) && p <= s.alpha) {
          flaggedSpectral += beyond.length;
          const purity = Math.min(s.spectralScore, 1 - expected / beyond.length);
          for (const i of beyond) raise(rows[i], purity, `spectral signature in class "${cls}"`);
          findings.push(
            makeFinding(
              meta,
              `Spectral signature in class "${cls}": ${beyond.length} incoming rows lie beyond the trusted rows along the class's top direction (about ${Math.round(expected)} expected); review them for a backdoor.`,
              {
                location: { rows: beyond.slice(0, 20).map((i) => inc.ids[rows[i]]), rowCount: beyond.length },
                evidence: {
                  method: 'spectral-signature',
                  class: cls,
                  rows: beyond.length,
                  expected: Math.round(expected),
                  pValue: p,
                },
              },
            ),
          );
        }
      }
    }

    // Activation clustering: 2-means on the top directions; a small cluster the trusted rows avoid.
    const d = dirs.length;
    const pts = new Float64Array(fit.length * d);
    fit.forEach((r, i) => {
      for (let j = 0; j < d; j++) pts[i * d + j] = project(E, r, centre, dirs[j]);
    });
    const assign = twoMeans(pts, fit.length, d, ctx.seed);
    const cent = [new Float64Array(d), new Float64Array(d)];
    const cnt = [0, 0];
    for (let i = 0; i < fit.length; i++) {
      cnt[assign[i]]++;
      for (let j = 0; j < d; j++) cent[assign[i]][j] += pts[i * d + j];
    }
    if (cnt[0] > 0 && cnt[1] > 0 && T && trows.length >= 20) {
      for (const a of [0, 1]) for (let j = 0; j < d; j++) cent[a][j] /= cnt[a];
      const nearest = (m: Rows, r: number) => {
        let d0 = 0;
        let d1 = 0;
        for (let j = 0; j < d; j++) {
          const x = project(m, r, centre, dirs[j]);
          d0 += (x - cent[0][j]) ** 2;
          d1 += (x - cent[1][j]) ** 2;
        }
        return d1 < d0 ? 1 : 0;
      };
      const small = cnt[0] <= cnt[1] ? 0 : 1;
      const members: number[] = [];
      for (const r of rows) if (nearest(E, r) === small) members.push(r);
      let trustedIn = 0;
      for (const r of trows) if (nearest(T, r) === small) trustedIn++;
      const share = members.length / rows.length;
      const tShare = (trustedIn + 0.5) / (trows.length + 1);
      const p = binomialUpperTail(members.length, rows.length, Math.min(0.5, tShare));
      const flagged = share <= s.maxClusterShare && share >= s.clusterLift * tShare && p <= s.alpha;
      chart.push({
        class: cls,
        smallClusterShare: round(share),
        trustedShare: round(tShare),
        flagged,
        spectralRows: flaggedSpectral,
      });
      if (flagged) {
        const purity = Math.min(s.clusterScore, 1 - tShare / share);
        for (const r of members) raise(r, purity, `small activation cluster in class "${cls}"`);
        findings.push(
          makeFinding(
            meta,
            `Activation clustering: ${members.length} rows of class "${cls}" (${pct(share)}) form a separate cluster that holds only ${pct(tShare)} of the trusted rows of that class; review them.`,
            {
              location: { rows: members.slice(0, 20).map((r) => inc.ids[r]), rowCount: members.length },
              evidence: {
                method: 'activation-clustering',
                class: cls,
                rows: members.length,
                share: round(share),
                trustedShare: round(tShare),
                pValue: p,
              },
            },
          ),
        );
      }
    }
  }

  if (T && tr.n >= s.knn + 1) await knnDisagreement(ctx, T, s, raise, findings);

  const out: RowFlag[] = [];
  for (let i = 0; i < inc.n; i++)
    if (scores[i] > 0) out.push({ row: i, score: scores[i], reason: reasons[i]! });
  if (!T) {
    findings.push(
      makeFinding(
        meta,
        'The trusted set has no embeddings of the same size: representation checks were skipped.',
        {
          severity: 'info',
          location: { column: ctx.roles.embeddings },
        },
      ),
    );
  }
  return { findings, rows: out, charts: { representations: chart } };
}

/** Neighbour labels from the trusted set (usearch HNSW index, cosine). */
async function knnDisagreement(
  ctx: AuditContext,
  T: Rows,
  s: RepresentationsSettings,
  raise: (r: number, score: number, why: string) => void,
  findings: Finding[],
): Promise<void> {
  const usearch = (await import('usearch')).default;
  const inc = ctx.incoming;
  const tr = ctx.trusted;
  const k = ctx.classes.length;
  const index = new usearch.Index({
    dimensions: T.dim,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    // A sparser graph than usearch's defaults: label votes need good neighbours, not the exact ones.
    connectivity: 8,
    expansion_add: 32,
    expansion_search: 48,
    multi: false,
  });
  const keys = new BigUint64Array(tr.n);
  for (let i = 0; i < tr.n; i++) keys[i] = BigInt(i);
  // One thread to build and to search: a graph built in parallel depends on insertion order, and the same
  // batch must give the same answer (usearch reserves one search context per building thread).
  index.add(keys, T.data, 1);
  const disagreement = (queries: Float32Array, labels: Int32Array, n: number, skipSelf: boolean) => {
    const kk = s.knn + (skipSelf ? 1 : 0);
    const out = new Float32Array(n);
    const chunk = 65536;
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const res = index.search(queries.subarray(start * T.dim, end * T.dim), kk, 1) as unknown as {
        keys: BigUint64Array;
        counts?: BigUint64Array;
      };
      for (let q = start; q < end; q++) {
        const o = (q - start) * kk;
        const found = res.counts ? Number(res.counts[q - start]) : kk;
        let seen = 0;
        let other = 0;
        for (let j = 0; j < found && seen < s.knn; j++) {
          const nb = Number(res.keys[o + j]);
          if (skipSelf && nb === q) continue;
          seen++;
          if (tr.labels[nb] !== labels[q]) other++;
        }
        out[q] = seen ? other / seen : 0;
      }
    }
    return out;
  };
  const trustedD = disagreement(T.data, tr.labels, tr.n, true);
  const incomingD = disagreement(inc.embeddings!.data, inc.labels, inc.n, false);
  // Per class: share of trusted rows at or above the disagreement cut.
  const tail = new Float64Array(k);
  const count = new Float64Array(k);
  for (let i = 0; i < tr.n; i++) {
    const y = tr.labels[i];
    if (y < 0) continue;
    count[y]++;
    if (trustedD[i] >= s.knnDisagreement) tail[y]++;
  }
  // Per class: how many incoming rows reach the cut, against how many the trusted rate predicts.
  const observed = new Float64Array(k);
  const size = new Float64Array(k);
  for (let i = 0; i < inc.n; i++) {
    const y = inc.labels[i];
    if (y < 0) continue;
    size[y]++;
    if (incomingD[i] >= s.knnDisagreement) observed[y]++;
  }
  const purity = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const rate = count[c] ? (tail[c] + 0.5) / (count[c] + 1) : 1;
    if (rate > s.knnTrustedTail || observed[c] === 0) continue;
    const expected = rate * size[c];
    if (binomialUpperTail(observed[c], size[c], rate) > s.alpha) continue;
    purity[c] = Math.max(0, 1 - expected / observed[c]);
  }
  let flagged = 0;
  const examples: string[] = [];
  for (let i = 0; i < inc.n; i++) {
    const y = inc.labels[i];
    if (y < 0 || incomingD[i] < s.knnDisagreement || purity[y] === 0) continue;
    flagged++;
    if (examples.length < 20) examples.push(inc.ids[i]);
    const score = Math.min(
      s.knnScore,
      purity[y] * (0.75 + (0.25 * (incomingD[i] - s.knnDisagreement)) / (1 - s.knnDisagreement)),
    );
    raise(i, score, `${Math.round(100 * incomingD[i])}% of nearest trusted rows carry another label`);
  }
  if (flagged) {
    findings.push(
      makeFinding(
        meta,
        `${flagged} rows have nearest trusted neighbours that nearly all carry another label; check their labels.`,
        {
          severity: 'medium',
          location: { rows: examples, rowCount: flagged },
          evidence: { method: 'knn-label-disagreement', rows: flagged, k: s.knn, cut: s.knnDisagreement },
        },
      ),
    );
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** (x − median) / MAD, so that two samples can be compared on their own scales. */
function robustZ(x: Float64Array): Float64Array {
  const med = median(x);
  const scale = mad(x, med) || 1e-12;
  return x.map((v) => (v - med) / scale);
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function applies(ctx: AuditContext): boolean {
  return Boolean(ctx.roles.embeddings && ctx.incoming.embeddings && ctx.incoming.embeddings.dim > 0);
}

export const detector: Detector = {
  meta,
  defaults: REPRESENTATIONS_DEFAULTS,
  stage: 1,
  applies,
  needs: () => 'an --embeddings column',
  cannotRun: unseenClassReason,
  run,
};
export default detector;
