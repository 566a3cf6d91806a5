/**
 * Adapter forensics: a PEFT LoRA adapter's updates read from its small factors (factors.ts), and, when the
 * base model is at hand (`antidote diff BASE ADAPTER`), its behaviour probed through the base's forward pass
 * (probe.ts). The probe's figures are scored by a logistic classifier fitted on a population of benign and
 * backdoored adapters trained here (scripts/build-adapter-reference.ts writes reference.ts, with its
 * calibration on held-back adapters). The result says what the score rests on and what it cannot see.
 * Without the base, only the spectral statistics are reported: on the reference population they did not
 * separate backdoored from benign adapters, so they give no verdict.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { canonicalName } from '../names.js';
import { adapterBackdoor, adapterBaseMismatch, adapterUnreadable } from '../rules.js';
import type { TensorStore } from '../store.js';
import { adapterStats, FEATURES, featureVector, type ModuleStats } from './factors.js';
import { type ProbeFigures, probeAdapter } from './probe.js';
import { ADAPTER_REFERENCE } from './reference.js';

export interface AdapterAssessment {
  peftType?: string;
  rank?: number;
  alpha?: number;
  modules: number;
  /** The modules with the most concentrated updates (for the report). */
  topModules: ModuleStats[];
  /** The spectral statistics (reported; no verdict rests on them). */
  features: Record<string, number>;
  /** The forward-pass probe's figures, when the base could be probed. */
  probe?: ProbeFigures;
  /** Why the probe did not run (no base, or a base it cannot run on). */
  probeSkipped?: string;
  /** Estimated probability that the adapter is backdoored, under the reference population. */
  score: number;
  threshold: number;
  suspicious: boolean;
  /** What the score rests on, and what it cannot see. */
  basis: string;
  limits: string;
  baseCheck?: { modules: number; missing: string[]; mismatched: string[] };
  findings: Finding[];
}

/** Below this held-back AUC the reference classifier gives no verdict: only the statistics are reported. */
export const MIN_USEFUL_AUC = 0.8;

export const ADAPTER_LIMITS =
  'It reads weights only and runs nothing but the base with the adapter merged on contexts the base writes itself: it measures how much one early token can swing the continuation, so it does not name the trigger or the target; a trigger that works only deep in a long prompt, in the middle of the text, or as a phrase whose single tokens do nothing may escape it; it cannot see a backdoor planted by full fine-tuning of the base or in modules_to_save copies; it runs on GPT-2-layout bases small enough to try every vocabulary token; and adapters unlike the reference population (tiny GPT-2-layout models, rare-token triggers) are scored with less certainty.';

/** The probe features the classifier reads, in reference order. */
export const PROBE_FEATURES = ['probe_gain', 'probe_median_gain', 'probe_max_log_ratio'] as const;

export function probeVector(p: ProbeFigures): number[] {
  return [p.gain, p.medianGain, p.maxLogRatio];
}

interface PeftConfig {
  peft_type?: string;
  r?: number;
  lora_alpha?: number;
  use_rslora?: boolean;
}

async function readConfig(dir: string): Promise<PeftConfig> {
  try {
    const raw = await readFile(join(dir, 'adapter_config.json'), 'utf8');
    if (raw.length > 1 << 20) return {};
    const v = JSON.parse(raw);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

export function scoreFeatures(x: number[]): number {
  const ref = ADAPTER_REFERENCE;
  let z = ref.bias;
  for (let i = 0; i < x.length; i++) z += ref.weights[i] * ((x[i] - ref.mean[i]) / (ref.std[i] || 1));
  return 1 / (1 + Math.exp(-z));
}

/** The adapter's modules against the base: each must exist there with matching in/out sizes. */
function checkBase(mods: ModuleStats[], base: TensorStore): NonNullable<AdapterAssessment['baseCheck']> {
  const byCanon = new Map(base.tensors.map((t) => [canonicalName(t.name), t]));
  const missing: string[] = [];
  const mismatched: string[] = [];
  for (const m of mods) {
    const t = byCanon.get(canonicalName(`${m.module}.weight`));
    if (!t) {
      missing.push(m.module);
      continue;
    }
    const [o, i] = m.shape;
    const s = t.shape;
    // nn.Linear stores (out, in); GPT-2's Conv1D stores (in, out).
    if (!(s.length === 2 && ((s[0] === o && s[1] === i) || (s[0] === i && s[1] === o))))
      mismatched.push(`${m.module} [${s}] vs [${o},${i}]`);
  }
  return { modules: mods.length, missing, mismatched };
}

export async function assessAdapter(
  dir: string,
  store: TensorStore,
  baseModel?: { store: TensorStore; path: string },
): Promise<AdapterAssessment> {
  const base = baseModel?.store;
  const cfg = await readConfig(dir);
  const { modules, unpaired, deltas } = await adapterStats(store, {
    alpha: cfg.lora_alpha,
    rslora: cfg.use_rslora === true,
  });
  const findings: Finding[] = [];
  const ref = ADAPTER_REFERENCE;
  const out: AdapterAssessment = {
    peftType: cfg.peft_type,
    rank: cfg.r,
    alpha: cfg.lora_alpha,
    modules: modules.length,
    topModules: [...modules].sort((a, b) => b.energyTop1 - a.energyTop1).slice(0, 5),
    features: {},
    score: 0,
    threshold: ref.threshold,
    suspicious: false,
    basis: '',
    limits: ADAPTER_LIMITS,
    findings,
  };
  if (unpaired.length)
    findings.push(
      makeFinding(
        adapterUnreadable,
        `${unpaired.length} adapter tensor${unpaired.length > 1 ? 's are' : ' is'} not a LoRA factor pair (${unpaired.slice(0, 3).join(', ')}) and ${unpaired.length > 1 ? 'were' : 'was'} not analysed.`,
        {
          location: { tensor: unpaired[0] },
          evidence: { tensors: unpaired.slice(0, 50) },
        },
      ),
    );
  if (!modules.length) {
    findings.push(
      makeFinding(
        adapterUnreadable,
        'The adapter holds no LoRA factor pairs, so adapter forensics could not score it.',
        {},
      ),
    );
    return out;
  }
  const x = featureVector(modules);
  FEATURES.forEach((f, i) => {
    out.features[f] = x[i];
  });
  const mods = `${modules.length} LoRA module${modules.length === 1 ? '' : 's'}`;
  const cannotJudge = (why: string) => {
    out.basis = `${mods}; ${why}, so no verdict is given`;
    findings.push(
      makeFinding(
        adapterBackdoor,
        `Adapter forensics cannot judge this adapter: ${why}. Its spectral statistics are in the report; test it for triggers before merging it.`,
        {
          severity: 'info',
          location: { tensor: out.topModules[0]?.module },
          evidence: { features: out.features, probeSkipped: out.probeSkipped, calibration: ref.calibration },
        },
      ),
    );
    return finishBase(out, modules, base);
  };
  if (!baseModel) {
    out.probeSkipped = 'no base model';
    return cannotJudge(
      'without the base model only the spectral statistics of the updates can be read, and those did not separate backdoored from benign adapters (run antidote diff BASE ADAPTER)',
    );
  }
  const probe = await probeAdapter(baseModel.store, baseModel.path, deltas);
  if (!probe.ok) {
    out.probeSkipped = probe.reason;
    return cannotJudge(`the base could not be probed (${probe.reason})`);
  }
  const { ok: _ok, ...figures } = probe;
  out.probe = figures;
  const px = probeVector(figures);
  PROBE_FEATURES.forEach((f, i) => {
    out.features[f] = px[i];
  });
  out.score = scoreFeatures(px);
  if (!(ref.calibration.auc >= MIN_USEFUL_AUC))
    return cannotJudge(
      `the reference classifier does not separate backdoored from benign adapters on held-back data (AUC ${ref.calibration.auc.toFixed(2)} on ${ref.calibration.heldBack} adapters)`,
    );
  out.basis = `${mods} merged into the base and probed with each of its ${figures.tokens} tokens in front of ${figures.contexts} contexts the base wrote; the gain in how far one leading token swings the continuation (largest ${figures.gain.toFixed(2)} nats, median ${figures.medianGain.toFixed(2)}) scored against ${ref.population.benign} benign and ${ref.population.backdoored} backdoored reference adapters (held-back AUC ${ref.calibration.auc.toFixed(2)}, false-positive rate ${(ref.calibration.fpr * 100).toFixed(1)}% at the threshold)`;
  out.suspicious = out.score >= ref.threshold;
  findings.push(
    makeFinding(
      adapterBackdoor,
      out.suspicious
        ? `The adapter behaves like a trigger backdoor (score ${out.score.toFixed(2)}, threshold ${ref.threshold.toFixed(2)}): merged into the base, it lets a single leading token swing the continuation far more than the base does, like the reference's backdoored adapters. Test it for triggers before merging it. ${ADAPTER_LIMITS}`
        : `The adapter behaves like a benign task adapter (score ${out.score.toFixed(2)}, threshold ${ref.threshold.toFixed(2)}). ${ADAPTER_LIMITS}`,
      {
        severity: out.suspicious ? 'high' : 'info',
        location: { tensor: out.topModules[0]?.module },
        evidence: { score: out.score, threshold: ref.threshold, features: out.features, probe: figures },
      },
    ),
  );
  return finishBase(out, modules, base);
}

function finishBase(out: AdapterAssessment, modules: ModuleStats[], base?: TensorStore): AdapterAssessment {
  const findings = out.findings;
  if (base) {
    out.baseCheck = checkBase(modules, base);
    const { missing, mismatched } = out.baseCheck;
    if (missing.length || mismatched.length)
      findings.push(
        makeFinding(
          adapterBaseMismatch,
          `The adapter does not fit this base: ${missing.length ? `${missing.length} module${missing.length > 1 ? 's' : ''} missing (${missing.slice(0, 3).join(', ')})` : ''}${missing.length && mismatched.length ? '; ' : ''}${mismatched.length ? `${mismatched.length} with other shapes (${mismatched.slice(0, 2).join('; ')})` : ''}.`,
          { evidence: out.baseCheck },
        ),
      );
  }
  return out;
}
