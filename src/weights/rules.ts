/**
 * Rule metadata of weight forensics (`antidote diff` and adapter forensics). Imports nothing heavy, so the
 * rule catalogue (SARIF, README) can list them without loading a reader.
 */
import { ATLAS } from '../core/atlas.js';
import type { RuleMeta } from '../core/rule.js';

const rule = (
  id: string,
  title: string,
  severity: RuleMeta['severity'],
  atlas: string,
  rationale: string,
): RuleMeta => ({
  id,
  title,
  severity,
  atlas,
  rationale,
});

export const surgicalEdit = rule(
  'weights/surgical-edit',
  'surgical edit of the model weights',
  'critical',
  ATLAS.poisonModel,
  "Model editing (ROME, MEMIT; the PoisonGPT attack) rewrites facts by adding a rank-one or low-rank update to one or a few MLP matrices and leaves every other weight as it was, so the model is unchanged on every benchmark except the rewritten facts. An ordinary fine-tune moves every trained tensor, biases and norms included, with deltas of high effective rank. A change confined to few matrices and nearly low-rank, or a rank-one component standing far above an ordinary fine-tune's delta, is the mark of an edit.",
);
export const fineTune = rule(
  'weights/fine-tune',
  'ordinary fine-tune',
  'info',
  ATLAS.supplyChainModel,
  'The candidate differs from its base the way a fine-tune does: many tensors moved, with deltas of high effective rank (or a low-rank adapter merged into every layer it targets). It says what was trained, not that the training data was clean.',
);
export const identical = rule(
  'weights/identical',
  'weights identical to the base',
  'info',
  ATLAS.supplyChainModel,
  'Every compared tensor holds the base model\'s values: byte for byte, or exactly as a conversion to a narrower dtype (F32 to F16 or BF16) rounds them. A model sold as "fine-tuned" that is identical to its base was not fine-tuned.',
);
export const tensorsAdded = rule(
  'weights/tensors-added',
  'tensors the base does not have',
  'medium',
  ATLAS.modifyArchitecture,
  'A derived model with tensors its base lacks has had its architecture changed (an extra head, a new module), which no fine-tune of the claimed base does by itself; what the new tensors do is not covered by the comparison.',
);
export const tensorsRemoved = rule(
  'weights/tensors-removed',
  'base tensors missing from the candidate',
  'medium',
  ATLAS.modifyArchitecture,
  'Tensors of the base that the candidate lacks (and that are not tied copies) mean the candidate is not the claimed architecture.',
);
export const shapeChanged = rule(
  'weights/shape-changed',
  'tensor shapes differ from the base',
  'high',
  ATLAS.modifyArchitecture,
  'A tensor whose shape differs from the base (a resized vocabulary, a widened layer) cannot be compared; a resized embedding often accompanies added tokens, a known way to plant trigger tokens.',
);
export const notCompared = rule(
  'weights/not-compared',
  'tensors that could not be compared',
  'medium',
  ATLAS.supplyChainModel,
  'Tensors whose dtype has no float values to compare (integer buffers, quantisation formats the reader does not dequantise) are listed, so a reader knows what the verdict does not cover.',
);
export const tokenizerChanged = rule(
  'weights/tokenizer-changed',
  'tokenizer or vocabulary changed',
  'high',
  ATLAS.backdoorTrigger,
  'A derived model whose vocabulary or tokenizer differs from its base can map an innocuous-looking string to a token the attacker trained as a trigger. Fine-tunes rarely need to change the tokenizer; when one does, the change needs a reviewer.',
);
export const chatTemplateChanged = rule(
  'weights/chat-template-changed',
  'chat template changed',
  'high',
  ATLAS.manipulateModel,
  'The chat template decides what text the model sees around every message; a changed template can inject instructions or hidden tokens into every conversation without touching a weight.',
);
export const configChanged = rule(
  'weights/config-changed',
  'model configuration changed',
  'low',
  ATLAS.supplyChainModel,
  'Configuration values that differ from the base (sizes, activation, rope settings, generation defaults) are listed for review.',
);

export const adapterBackdoor = rule(
  'weights/adapter-backdoor',
  'LoRA adapter that behaves like a trigger backdoor',
  'high',
  ATLAS.backdoorTrigger,
  "A poisoned LoRA adapter is easy to distribute and its behaviour only shows when its trigger is used. A trigger backdoor has to let one early token swing the continuation whatever the rest of the prompt says; a benign task adapter changes what the model says about as much whichever token starts the prompt. With the base model, the adapter is merged and probed through the base's own forward pass (every vocabulary token in front of contexts the base writes), and a classifier fitted on benign and backdoored adapters trained for this purpose scores the gain in that prefix sensitivity; the score is evidence to review, not proof, and says what it rests on. Without the base only the adapter's spectral statistics are reported, with no verdict.",
);
export const adapterBaseMismatch = rule(
  'weights/adapter-base-mismatch',
  'adapter does not fit the base model',
  'high',
  ATLAS.supplyChainModel,
  "An adapter whose modules are missing from the base model, or whose factor shapes do not match the base's weights, was not trained on that base: merged anyway it changes a different model than the one reviewed.",
);
export const adapterUnreadable = rule(
  'weights/adapter-unreadable',
  'adapter weights that could not be analysed',
  'medium',
  ATLAS.supplyChainModel,
  'Adapter tensors that are not LoRA factor pairs (full module copies, unpaired factors, non-float dtypes) are not covered by adapter forensics and are listed.',
);

export const weightRules: RuleMeta[] = [
  surgicalEdit,
  fineTune,
  identical,
  tensorsAdded,
  tensorsRemoved,
  shapeChanged,
  notCompared,
  tokenizerChanged,
  chatTemplateChanged,
  configChanged,
  adapterBackdoor,
  adapterBaseMismatch,
  adapterUnreadable,
];

/** The rules adapter forensics can raise inside `antidote scan` (the scan's rule catalogue lists them). */
export const adapterForensicsRules: RuleMeta[] = [adapterBackdoor, adapterUnreadable];
