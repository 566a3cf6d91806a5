/**
 * Adapter forensics: a PEFT LoRA adapter's spectral statistics (factors.ts) scored by a logistic classifier
 * fitted on a reference population of benign and backdoored adapters trained here
 * (scripts/build-adapter-reference.ts writes reference.ts; its calibration is in the README). The result
 * says what the score rests on and what it cannot see; with a base model, the adapter's modules and shapes
 * are checked against it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { canonicalName } from '../names.js';
import { adapterBackdoor, adapterBaseMismatch, adapterUnreadable } from '../rules.js';
import type { TensorStore } from '../store.js';
import { adapterStats, FEATURES, featureVector, type ModuleStats } from './factors.js';
import { ADAPTER_REFERENCE } from './reference.js';

export interface AdapterAssessment {
  peftType?: string;
  rank?: number;
  alpha?: number;
  modules: number;
  /** The modules with the most concentrated updates (for the report). */
  topModules: ModuleStats[];
  features: Record<string, number>;
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
  'It reads the adapter alone: it cannot name the trigger or the target, it cannot see a backdoor planted by full fine-tuning of the base or in modules_to_save copies, and adapters unlike the reference population (other architectures, ranks or training recipes) are scored with less certainty.';

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
  base?: TensorStore,
): Promise<AdapterAssessment> {
  const cfg = await readConfig(dir);
  const { modules, unpaired } = await adapterStats(store, {
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
    basis: `${modules.length} LoRA module${modules.length === 1 ? '' : 's'}; ${FEATURES.length} spectral statistics of their updates scored against ${ref.population.benign} benign and ${ref.population.backdoored} backdoored reference adapters (held-back AUC ${ref.calibration.auc.toFixed(2)}, false-positive rate ${(ref.calibration.fpr * 100).toFixed(1)}% at the threshold)`,
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
  out.score = scoreFeatures(x);
  if (!(ref.calibration.auc >= MIN_USEFUL_AUC)) {
    // An uncalibrated score must not read as a verdict either way.
    out.basis = `${modules.length} LoRA module${modules.length === 1 ? '' : 's'}; the reference classifier does not separate backdoored from benign adapters on held-back data (AUC ${ref.calibration.auc.toFixed(2)} on ${ref.calibration.heldBack} adapters), so no verdict is given`;
    findings.push(
      makeFinding(
        adapterBackdoor,
        `Adapter forensics cannot judge this adapter: ${out.basis}. Its spectral statistics are in the report; test it for triggers before merging it.`,
        {
          severity: 'info',
          location: { tensor: out.topModules[0]?.module },
          evidence: { features: out.features, calibration: ref.calibration },
        },
      ),
    );
    return finishBase(out, modules, base);
  }
  out.suspicious = out.score >= ref.threshold;
  findings.push(
    makeFinding(
      adapterBackdoor,
      out.suspicious
        ? `The adapter's updates look backdoored (score ${out.score.toFixed(2)}, threshold ${ref.threshold.toFixed(2)}): its spectra are concentrated like the reference's backdoored adapters. Test it for triggers before merging it. ${ADAPTER_LIMITS}`
        : `The adapter's updates look like a benign task's (score ${out.score.toFixed(2)}, threshold ${ref.threshold.toFixed(2)}). ${ADAPTER_LIMITS}`,
      {
        severity: out.suspicious ? 'high' : 'info',
        location: { tensor: out.topModules[0]?.module },
        evidence: { score: out.score, threshold: ref.threshold, features: out.features },
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
