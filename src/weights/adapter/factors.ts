/**
 * Spectral statistics of a LoRA adapter's updates, from its small factors alone. PEFT stores, per adapted
 * module, lora_A (r x in) and lora_B (out x r); the update is dW = s * B A with s = alpha / r (alpha /
 * sqrt(r) with rsLoRA). With B = Qb Rb and A^T = Qa Ra (thin QR), dW = Qb (s Rb Ra^T) Qa^T, so the singular
 * values of dW are those of the r x r core: the full matrix is never formed. Entry statistics (kurtosis)
 * come from a seeded sample of dW's entries, each a length-r dot product.
 */
import { symmetricEigenvalues } from '../linalg.js';
import type { TensorStore } from '../store.js';
import type { LoraDelta } from './probe.js';

export interface ModuleStats {
  module: string;
  rank: number;
  shape: [number, number];
  sigma: number[];
  /** sigma_1 and ||dW||_F */
  top: number;
  frobenius: number;
  /** sigma_1^2 / sum sigma^2 */
  energyTop1: number;
  /** Entropy of the normalised squared spectrum, divided by log(rank) (1 = flat, 0 = rank one). */
  entropy: number;
  /** Excess kurtosis of dW's entries (sampled). */
  kurtosis: number;
}

export interface AdapterFactors {
  modules: Array<{ module: string; a: string; b: string }>;
  unpaired: string[];
}

/** Pair lora_A / lora_B tensors by module. */
export function pairFactors(names: string[]): AdapterFactors {
  const as = new Map<string, string>();
  const bs = new Map<string, string>();
  const unpaired: string[] = [];
  for (const n of names) {
    const m = /^(.*)\.lora_([AB])(?:\.[^.]+)?\.weight$/.exec(n);
    if (!m) {
      unpaired.push(n);
      continue;
    }
    (m[2] === 'A' ? as : bs).set(m[1], n);
  }
  const modules: AdapterFactors['modules'] = [];
  for (const [mod, a] of as) {
    const b = bs.get(mod);
    if (b) modules.push({ module: mod, a, b });
    else unpaired.push(a);
  }
  for (const [mod, b] of bs) if (!as.has(mod)) unpaired.push(b);
  return { modules: modules.sort((x, y) => (x.module < y.module ? -1 : 1)), unpaired };
}

/** R of the thin QR of a (rows x cols) column set given row-major, by modified Gram-Schmidt (cols small). */
function qrR(M: Float64Array, rows: number, cols: number): Float64Array {
  const Q = Float64Array.from(M);
  const R = new Float64Array(cols * cols);
  for (let c = 0; c < cols; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += Q[i * cols + c] * Q[i * cols + p];
      R[p * cols + c] = dot;
      for (let i = 0; i < rows; i++) Q[i * cols + c] -= dot * Q[i * cols + p];
    }
    let nrm = 0;
    for (let i = 0; i < rows; i++) nrm += Q[i * cols + c] ** 2;
    nrm = Math.sqrt(nrm);
    R[c * cols + c] = nrm;
    const inv = nrm > 1e-300 ? 1 / nrm : 0;
    for (let i = 0; i < rows; i++) Q[i * cols + c] *= inv;
  }
  return R;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function moduleStats(
  module: string,
  A: Float32Array,
  B: Float32Array,
  r: number,
  scale: number,
  seed = 3,
): ModuleStats {
  const nin = A.length / r;
  const nout = B.length / r;
  // A^T as (nin x r) row-major, B as (nout x r) row-major.
  const At = new Float64Array(nin * r);
  for (let k = 0; k < r; k++) for (let j = 0; j < nin; j++) At[j * r + k] = A[k * nin + j];
  const Bd = Float64Array.from(B);
  const Ra = qrR(At, nin, r);
  const Rb = qrR(Bd, nout, r);
  // core = scale * Rb * Ra^T; its singular values are sqrt(eig(core core^T)).
  const core = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += Rb[i * r + k] * Ra[j * r + k];
      core[i * r + j] = scale * s;
    }
  const G = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = i; j < r; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += core[i * r + k] * core[j * r + k];
      G[i * r + j] = s;
      G[j * r + i] = s;
    }
  const sigma = Array.from(symmetricEigenvalues(G, r), (e) => Math.sqrt(Math.max(0, e)));
  const total = sigma.reduce((a, s) => a + s * s, 0);
  let entropy = 0;
  for (const s of sigma) {
    const p = total > 0 ? (s * s) / total : 0;
    if (p > 0) entropy -= p * Math.log(p);
  }
  // Kurtosis of sampled entries of dW = scale * B A.
  const rnd = seeded(seed);
  const N = 4096;
  const xs = new Float64Array(N);
  let mean = 0;
  for (let t = 0; t < N; t++) {
    const i = Math.floor(rnd() * nout);
    const j = Math.floor(rnd() * nin);
    let s = 0;
    for (let k = 0; k < r; k++) s += B[i * r + k] * A[k * nin + j];
    xs[t] = scale * s;
    mean += xs[t];
  }
  mean /= N;
  let m2 = 0;
  let m4 = 0;
  for (const x of xs) {
    const d = x - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= N;
  m4 /= N;
  return {
    module,
    rank: r,
    shape: [nout, nin],
    sigma,
    top: sigma[0] ?? 0,
    frobenius: Math.sqrt(total),
    energyTop1: total > 0 ? (sigma[0] * sigma[0]) / total : 0,
    entropy: r > 1 ? entropy / Math.log(r) : 0,
    kurtosis: m2 > 0 ? m4 / (m2 * m2) - 3 : 0,
  };
}

export interface AdapterConfig {
  r?: number;
  alpha?: number;
  rslora?: boolean;
}

export async function adapterStats(
  store: TensorStore,
  cfg: AdapterConfig,
): Promise<{ modules: ModuleStats[]; unpaired: string[]; deltas: LoraDelta[] }> {
  const { modules, unpaired } = pairFactors(store.tensors.map((t) => t.name));
  const byName = new Map(store.tensors.map((t) => [t.name, t]));
  const out: ModuleStats[] = [];
  const deltas: LoraDelta[] = [];
  let i = 0;
  for (const m of modules) {
    const ta = byName.get(m.a)!;
    const tb = byName.get(m.b)!;
    const r = ta.shape[0];
    if (ta.shape.length !== 2 || tb.shape.length !== 2 || tb.shape[1] !== r) {
      unpaired.push(m.a, m.b);
      continue;
    }
    const [A, B] = await Promise.all([store.read(m.a), store.read(m.b)]);
    if (!A || !B) {
      unpaired.push(m.a, m.b);
      continue;
    }
    const alpha = cfg.alpha ?? r;
    const scale = cfg.rslora ? alpha / Math.sqrt(r) : alpha / r;
    out.push(moduleStats(m.module, A, B, r, scale, 3 + i++));
    deltas.push({ module: m.module, A, B, rank: r, scale });
  }
  return { modules: out, unpaired, deltas };
}

/** The adapter-level feature vector the classifier reads (names in FEATURES order). */
export const FEATURES = [
  'mean_log_top',
  'max_log_top',
  'mean_log_fro',
  'max_log_fro',
  'mean_energy_top1',
  'max_energy_top1',
  'mean_entropy',
  'min_entropy',
  'mean_log_kurtosis',
  'max_log_kurtosis',
] as const;

export function featureVector(mods: ModuleStats[]): number[] {
  const f = (g: (m: ModuleStats) => number) => mods.map(g);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const lt = f((m) => Math.log(m.top + 1e-12));
  const lf = f((m) => Math.log(m.frobenius + 1e-12));
  const e1 = f((m) => m.energyTop1);
  const en = f((m) => m.entropy);
  const lk = f((m) => Math.log1p(Math.max(0, m.kurtosis + 3)));
  return [
    mean(lt),
    Math.max(...lt),
    mean(lf),
    Math.max(...lf),
    mean(e1),
    Math.max(...e1),
    mean(en),
    Math.min(...en),
    mean(lk),
    Math.max(...lk),
  ];
}
