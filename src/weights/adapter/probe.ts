/**
 * The adapter's behaviour probed through the base model's own forward pass, with no data but the weights.
 *
 * A trigger backdoor has to make the continuation depend on one early token far more than anything in the
 * base does: whatever the rest of the prompt says, the trigger turns it towards the attacker's text. A benign
 * task adapter changes what the model says, but about as much whichever token the prompt starts with. So:
 * sample short contexts from the base itself (seeded), put each vocabulary token in front of each context,
 * and measure, per position, how far each prefix pulls the next-token distribution away from the consensus
 * over all prefixes (KL divergence). Done for the base and for the base with the adapter merged, the gain in
 * that prefix sensitivity is what the classifier reads.
 *
 * Runs on GPT-2-layout bases (learned positions, LayerNorm, Conv1D projections) small enough to try every
 * vocabulary token; other bases get a reason instead of figures.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalName } from '../names.js';
import type { TensorStore } from '../store.js';

/** One LoRA module as read from the adapter: dW (out x in) = scale * B A. */
export interface LoraDelta {
  module: string;
  A: Float32Array;
  B: Float32Array;
  rank: number;
  scale: number;
}

export interface ProbeFigures {
  /** Largest gain in prefix sensitivity over the base, over all vocabulary tokens (nats). */
  gain: number;
  /** Median gain over all tokens (nats). */
  medianGain: number;
  /** Largest log ratio of the adapted to the base prefix sensitivity. */
  maxLogRatio: number;
  /** The tokens whose prefix sensitivity grew most (ids), with their gains. */
  topTokens: Array<{ token: number; gain: number }>;
  contexts: number;
  tokens: number;
  /** Multiply-adds spent. */
  cost: number;
}

export type ProbeResult = ({ ok: true } & ProbeFigures) | { ok: false; reason: string };

/** Contexts sampled from the base, and how many of the most sensitive contexts a token's score averages. */
export const PROBE_CONTEXTS = 8;
const TOP_CONTEXTS = 3;
const SEQ = 11;
/** Changes whenever the probe's figures would change (cached figures are keyed by it). */
export const PROBE_VERSION = `contexts ${PROBE_CONTEXTS}, top ${TOP_CONTEXTS}, length ${SEQ}, seed 7`;
/** Beyond this many multiply-adds the probe is not run (a 7B base with 32k tokens is far beyond it). */
export const PROBE_BUDGET = 4e10;

interface BaseConfig {
  nHead?: number;
  bos?: number;
  activation?: string;
  eps: number;
}

async function readBaseConfig(basePath: string): Promise<BaseConfig> {
  // The config beside the weights: in the base folder, or in the folder of a base given as its file.
  const dir = (await stat(basePath)).isDirectory() ? basePath : dirname(basePath);
  try {
    const raw = await readFile(join(dir, 'config.json'), 'utf8');
    if (raw.length > 1 << 20) return { eps: 1e-5 };
    const c = JSON.parse(raw);
    return {
      nHead: Number.isInteger(c.n_head)
        ? c.n_head
        : Number.isInteger(c.num_attention_heads)
          ? c.num_attention_heads
          : undefined,
      bos: Number.isInteger(c.bos_token_id) ? c.bos_token_id : undefined,
      activation: typeof c.activation_function === 'string' ? c.activation_function : undefined,
      eps: typeof c.layer_norm_epsilon === 'number' ? c.layer_norm_epsilon : 1e-5,
    };
  } catch {
    return { eps: 1e-5 };
  }
}

interface Layer {
  ln1w: Float32Array;
  ln1b: Float32Array;
  // Projections are kept as out x in (the Conv1D files store in x out): each output is one dot product.
  attnW: Float32Array; // 3d x d
  attnB: Float32Array;
  projW: Float32Array; // d x d
  projB: Float32Array;
  ln2w: Float32Array;
  ln2b: Float32Array;
  fcW: Float32Array; // f x d
  fcB: Float32Array;
  fcProjW: Float32Array; // d x f
  fcProjB: Float32Array;
}

interface Gpt2 {
  d: number;
  f: number;
  vocab: number;
  heads: number;
  positions: number;
  eps: number;
  gelu: (x: number) => number;
  wte: Float32Array;
  wpe: Float32Array;
  layers: Layer[];
  lnfW: Float32Array;
  lnfB: Float32Array;
}

// erf by Abramowitz and Stegun 7.1.26 (error under 1.5e-7), for the exact GELU.
function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-a * a);
  return s * y;
}
const geluExact = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));

async function loadGpt2(base: TensorStore, cfg: BaseConfig): Promise<Gpt2 | string> {
  const byCanon = new Map(base.tensors.map((t) => [canonicalName(t.name), t]));
  const need = async (name: string, shape?: number[]): Promise<Float32Array> => {
    const t = byCanon.get(name);
    if (!t) throw new Error(`the base has no ${name}`);
    if (shape && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])))
      throw new Error(`${name} has shape [${t.shape}], not [${shape}]`);
    const v = await base.read(t.name);
    if (!v) throw new Error(`${name} is not a float tensor`);
    return v;
  };
  if (!byCanon.has('wte.weight') || !byCanon.has('h.0.attn.c_attn.weight'))
    return 'the base is not in the GPT-2 layout (wte, h.N.attn.c_attn) the probe runs on';
  if (!cfg.nHead) return "the base's config.json gives no n_head";
  if (cfg.bos === undefined) return "the base's config.json gives no bos_token_id";
  try {
    const wteT = byCanon.get('wte.weight')!;
    const [vocab, d] = wteT.shape;
    if (d % cfg.nHead) return `n_head ${cfg.nHead} does not divide the width ${d}`;
    const fcT = byCanon.get('h.0.mlp.c_fc.weight');
    const f = fcT?.shape[1] ?? 4 * d;
    const layers: Layer[] = [];
    for (let i = 0; byCanon.has(`h.${i}.attn.c_attn.weight`); i++) {
      const p = `h.${i}.`;
      layers.push({
        ln1w: await need(`${p}ln_1.weight`, [d]),
        ln1b: await need(`${p}ln_1.bias`, [d]),
        attnW: transpose(await need(`${p}attn.c_attn.weight`, [d, 3 * d]), d, 3 * d),
        attnB: await need(`${p}attn.c_attn.bias`, [3 * d]),
        projW: transpose(await need(`${p}attn.c_proj.weight`, [d, d]), d, d),
        projB: await need(`${p}attn.c_proj.bias`, [d]),
        ln2w: await need(`${p}ln_2.weight`, [d]),
        ln2b: await need(`${p}ln_2.bias`, [d]),
        fcW: transpose(await need(`${p}mlp.c_fc.weight`, [d, f]), d, f),
        fcB: await need(`${p}mlp.c_fc.bias`, [f]),
        fcProjW: transpose(await need(`${p}mlp.c_proj.weight`, [f, d]), f, d),
        fcProjB: await need(`${p}mlp.c_proj.bias`, [d]),
      });
    }
    const wpeT = byCanon.get('wpe.weight');
    if (!wpeT) return 'the base has no learned position embeddings (wpe)';
    if (cfg.bos >= vocab) return `bos_token_id ${cfg.bos} is outside the vocabulary (${vocab})`;
    return {
      d,
      f,
      vocab,
      heads: cfg.nHead,
      positions: wpeT.shape[0],
      eps: cfg.eps,
      gelu: cfg.activation === 'gelu' ? geluExact : geluTanh,
      wte: await need('wte.weight'),
      wpe: await need('wpe.weight', [wpeT.shape[0], d]),
      layers,
      lnfW: await need('ln_f.weight', [d]),
      lnfB: await need('ln_f.bias', [d]),
    };
  } catch (e) {
    return (e as Error).message;
  }
}

/** The base with the adapter merged: each adapted projection (kept out x in) gains scale * B A. */
function merge(m: Gpt2, deltas: LoraDelta[]): Gpt2 | string {
  const layers = m.layers.map((l) => ({ ...l }));
  const slots: Record<string, [keyof Layer, number, number]> = {
    'attn.c_attn': ['attnW', m.d, 3 * m.d],
    'attn.c_proj': ['projW', m.d, m.d],
    'mlp.c_fc': ['fcW', m.d, m.f],
    'mlp.c_proj': ['fcProjW', m.f, m.d],
  };
  for (const dl of deltas) {
    const mm = /(?:^|\.)h\.(\d+)\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)$/.exec(
      canonicalName(dl.module),
    );
    if (!mm || !layers[Number(mm[1])]) return `the probe does not know the module ${dl.module}`;
    const [key, nin, nout] = slots[mm[2]];
    const r = dl.rank;
    if (dl.A.length !== r * nin || dl.B.length !== nout * r)
      return `${dl.module}: factor shapes do not fit the base`;
    const layer = layers[Number(mm[1])];
    const W = Float32Array.from(layer[key]);
    for (let i = 0; i < nin; i++)
      for (let o = 0; o < nout; o++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += dl.B[o * r + k] * dl.A[k * nin + i];
        W[o * nin + i] += dl.scale * s;
      }
    layer[key] = W;
  }
  return { ...m, layers };
}

function layerNorm(
  x: Float64Array,
  T: number,
  d: number,
  w: Float32Array,
  b: Float32Array,
  eps: number,
): Float64Array {
  const y = new Float64Array(T * d);
  for (let t = 0; t < T; t++) {
    const o = t * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[o + i];
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[o + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - mean) * inv * w[i] + b[i];
  }
  return y;
}

/** y (T x nout) = x (T x nin) W + b, with W given transposed (nout x nin): each output is one dot product. */
function linear(
  x: Float64Array,
  T: number,
  nin: number,
  Wt: Float32Array,
  b: Float32Array,
  nout: number,
): Float64Array {
  const y = new Float64Array(T * nout);
  for (let t = 0; t < T; t++) {
    const xo = t * nin;
    const yo = t * nout;
    for (let j = 0; j < nout; j++) {
      const wo = j * nin;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < nin; i += 2) {
        s0 += x[xo + i] * Wt[wo + i];
        s1 += x[xo + i + 1] * Wt[wo + i + 1];
      }
      if (i < nin) s0 += x[xo + i] * Wt[wo + i];
      y[yo + j] = s0 + s1 + b[j];
    }
  }
  return y;
}

/** A Conv1D weight (nin x nout) transposed to (nout x nin). */
function transpose(W: Float32Array, nin: number, nout: number): Float32Array {
  const out = new Float32Array(W.length);
  for (let i = 0; i < nin; i++) for (let j = 0; j < nout; j++) out[j * nin + i] = W[i * nout + j];
  return out;
}

/** Log-probabilities of the next token at positions from..T-1 of one sequence (rows of length vocab). */
function forward(m: Gpt2, ids: number[], from: number): Float64Array {
  const { d, f, heads, vocab } = m;
  const T = ids.length;
  const dh = d / heads;
  const x = new Float64Array(T * d);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < d; i++) x[t * d + i] = m.wte[ids[t] * d + i] + m.wpe[t * d + i];
  const att = new Float64Array(T);
  for (const L of m.layers) {
    const qkv = linear(layerNorm(x, T, d, L.ln1w, L.ln1b, m.eps), T, d, L.attnW, L.attnB, 3 * d);
    const y = new Float64Array(T * d);
    const scale = 1 / Math.sqrt(dh);
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < T; t++) {
        let mx = -Infinity;
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let k = 0; k < dh; k++) s += qkv[t * 3 * d + h * dh + k] * qkv[u * 3 * d + d + h * dh + k];
          att[u] = s * scale;
          if (att[u] > mx) mx = att[u];
        }
        let z = 0;
        for (let u = 0; u <= t; u++) {
          att[u] = Math.exp(att[u] - mx);
          z += att[u];
        }
        for (let u = 0; u <= t; u++) {
          const a = att[u] / z;
          for (let k = 0; k < dh; k++) y[t * d + h * dh + k] += a * qkv[u * 3 * d + 2 * d + h * dh + k];
        }
      }
    const o = linear(y, T, d, L.projW, L.projB, d);
    for (let i = 0; i < T * d; i++) x[i] += o[i];
    const hid = linear(layerNorm(x, T, d, L.ln2w, L.ln2b, m.eps), T, d, L.fcW, L.fcB, f);
    for (let i = 0; i < hid.length; i++) hid[i] = m.gelu(hid[i]);
    const o2 = linear(hid, T, f, L.fcProjW, L.fcProjB, d);
    for (let i = 0; i < T * d; i++) x[i] += o2[i];
  }
  const xf = layerNorm(x, T, d, m.lnfW, m.lnfB, m.eps);
  const n = T - from;
  const out = new Float64Array(n * vocab);
  for (let p = 0; p < n; p++) {
    const xo = (from + p) * d;
    let mx = -Infinity;
    for (let v = 0; v < vocab; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += xf[xo + i] * m.wte[v * d + i];
      out[p * vocab + v] = s;
      if (s > mx) mx = s;
    }
    let z = 0;
    for (let v = 0; v < vocab; v++) z += Math.exp(out[p * vocab + v] - mx);
    const lz = mx + Math.log(z);
    for (let v = 0; v < vocab; v++) out[p * vocab + v] -= lz;
  }
  return out;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Contexts sampled from the base at temperature 1: BOS then SEQ-1 tokens. */
function sampleContexts(m: Gpt2, bos: number, n: number, len: number): number[][] {
  const rnd = seeded(7);
  const out: number[][] = [];
  for (let c = 0; c < n; c++) {
    const seq = [bos];
    while (seq.length < len) {
      const lp = forward(m, seq, seq.length - 1);
      let u = rnd();
      let next = m.vocab - 1;
      for (let v = 0; v < m.vocab; v++) {
        u -= Math.exp(lp[v]);
        if (u <= 0) {
          next = v;
          break;
        }
      }
      seq.push(next);
    }
    out.push(seq);
  }
  return out;
}

/** Per vocabulary token: mean over its most sensitive contexts of the largest KL from the consensus. */
function prefixSensitivity(m: Gpt2, contexts: number[][], bos: number): Float64Array {
  const V = m.vocab;
  const len = contexts[0].length;
  const P = len - 2;
  const perCtx: Float64Array[] = [];
  for (const ctx of contexts) {
    const lps: Float64Array[] = [];
    for (let t = 0; t < V; t++) lps.push(forward(m, [bos, t, ...ctx.slice(1, len - 1)], 2));
    const kmax = new Float64Array(V);
    for (let p = 0; p < P; p++) {
      // The consensus: the normalised geometric mean of the distributions over all prefixes.
      const ref = new Float64Array(V);
      for (let t = 0; t < V; t++) for (let v = 0; v < V; v++) ref[v] += lps[t][p * V + v] / V;
      let mx = -Infinity;
      for (let v = 0; v < V; v++) if (ref[v] > mx) mx = ref[v];
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(ref[v] - mx);
      const lz = mx + Math.log(z);
      for (let t = 0; t < V; t++) {
        let kl = 0;
        for (let v = 0; v < V; v++) {
          const lp = lps[t][p * V + v];
          kl += Math.exp(lp) * (lp - (ref[v] - lz));
        }
        if (kl > kmax[t]) kmax[t] = kl;
      }
    }
    perCtx.push(kmax);
  }
  const S = new Float64Array(V);
  const col = new Float64Array(contexts.length);
  for (let t = 0; t < V; t++) {
    for (let c = 0; c < contexts.length; c++) col[c] = perCtx[c][t];
    col.sort();
    let s = 0;
    const k = Math.min(TOP_CONTEXTS, col.length);
    for (let i = 0; i < k; i++) s += col[col.length - 1 - i];
    S[t] = s / k;
  }
  return S;
}

function forwardCost(m: Gpt2, T: number): number {
  const perToken = m.layers.length * (3 * m.d * m.d + m.d * m.d + 2 * m.d * m.f + T * m.d) + m.d * m.vocab;
  return perToken * T;
}

interface BaseProbe {
  model: Gpt2;
  bos: number;
  contexts: number[][];
  sensitivity: Float64Array;
  cost: number;
}

/** The base's side of the probe depends on the base alone: kept per open store (a population shares it). */
const baseProbes = new WeakMap<TensorStore, Promise<BaseProbe | string>>();

async function probeBase(base: TensorStore, basePath: string): Promise<BaseProbe | string> {
  const cfg = await readBaseConfig(basePath);
  const m = await loadGpt2(base, cfg);
  if (typeof m === 'string') return m;
  const len = Math.min(SEQ, m.positions);
  if (len < 4) return `the base has only ${m.positions} positions`;
  const cost = 2 * m.vocab * PROBE_CONTEXTS * forwardCost(m, len);
  if (cost > PROBE_BUDGET)
    return `the base is too large to try every one of its ${m.vocab} tokens (${cost.toExponential(1)} multiply-adds, limit ${PROBE_BUDGET.toExponential(0)})`;
  const bos = cfg.bos as number;
  const contexts = sampleContexts(m, bos, PROBE_CONTEXTS, len);
  return { model: m, bos, contexts, sensitivity: prefixSensitivity(m, contexts, bos), cost };
}

export async function probeAdapter(
  base: TensorStore,
  basePath: string,
  deltas: LoraDelta[],
): Promise<ProbeResult> {
  let pending = baseProbes.get(base);
  if (!pending) {
    pending = probeBase(base, basePath);
    baseProbes.set(base, pending);
  }
  const b = await pending;
  if (typeof b === 'string') return { ok: false, reason: b };
  const adapted = merge(b.model, deltas);
  if (typeof adapted === 'string') return { ok: false, reason: adapted };
  const Sb = b.sensitivity;
  const Sa = prefixSensitivity(adapted, b.contexts, b.bos);
  const gains = Array.from(Sa, (a, t) => ({ token: t, gain: a - Sb[t] }));
  const sorted = gains.map((g) => g.gain).sort((x, y) => x - y);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  let maxLogRatio = -Infinity;
  for (let t = 0; t < Sa.length; t++)
    maxLogRatio = Math.max(maxLogRatio, Math.log((Sa[t] + 1e-9) / (Sb[t] + 1e-9)));
  return {
    ok: true,
    gain: sorted[n - 1],
    medianGain: median,
    maxLogRatio,
    topTokens: gains.sort((x, y) => y.gain - x.gain).slice(0, 5),
    contexts: b.contexts.length,
    tokens: Sa.length,
    cost: b.cost,
  };
}
