/**
 * PEFT adapter configs (`adapter_config.json`: LoRA, IA3, prefix tuning, ...): the adapter is described
 * (base model, type, rank, alpha, target modules) so a reviewer can check it belongs to the model it will
 * be merged into; `modules_to_save` (full module copies, not low-rank deltas) and `auto_mapping` (a class
 * PEFT imports from `parent_library`) are called out. The adapter's weights are separate files, scanned by
 * their own format modules; the repository summary pairs them.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { adapterMalformed, adapterPeft, adapterUnusual } from './rules-meta.js';
import { isJsonObject, type JsonObject, type JsonValue, jsonSafe, parseStrictJson } from './strict-json.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

export function detectAdapterConfig({ head, size }: DetectInput): boolean {
  if (size > LIMITS.headers.maxJsonConfig) return false;
  let i = 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09))
    i++;
  if (head[i] !== 0x7b) return false;
  return Buffer.from(head.subarray(0, 8192)).toString('utf8').includes('"peft_type"');
}

export interface AdapterDescription {
  peftType?: string;
  baseModel?: string;
  revision?: string;
  taskType?: string;
  rank?: number;
  alpha?: number;
  targetModules?: string[] | string;
  modulesToSave?: string[];
  autoMapping?: JsonValue;
}

const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : undefined);
const num = (v: JsonValue | undefined) => (typeof v === 'number' ? v : undefined);
const strList = (v: JsonValue | undefined) =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 200) : undefined;

export function describeAdapter(doc: JsonObject): AdapterDescription {
  const tm = doc.target_modules;
  return {
    peftType: str(doc.peft_type),
    baseModel: str(doc.base_model_name_or_path),
    revision: str(doc.revision),
    taskType: str(doc.task_type),
    rank: num(doc.r),
    alpha: num(doc.lora_alpha),
    targetModules: typeof tm === 'string' ? tm : strList(tm),
    modulesToSave: strList(doc.modules_to_save),
    autoMapping: doc.auto_mapping === undefined ? undefined : jsonSafe(doc.auto_mapping),
  };
}

export async function scanAdapterConfig(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  let doc: JsonValue;
  try {
    if (source.size > LIMITS.headers.maxJsonConfig)
      throw new Error(`larger than ${LIMITS.headers.maxJsonConfig} bytes`);
    doc = parseStrictJson(await source.read(0, source.size), { bigIntegers: 'keep' });
    if (!isJsonObject(doc)) throw new Error('not a JSON object');
  } catch (err) {
    findings.push(
      makeFinding(adapterMalformed, `adapter config cannot be read: ${(err as Error).message}`, { location }),
    );
    return { format: 'peft-adapter-config', complete: false, findings };
  }
  const d = describeAdapter(doc);
  if (
    d.baseModel === undefined &&
    doc.base_model_name_or_path !== undefined &&
    doc.base_model_name_or_path !== null
  ) {
    findings.push(makeFinding(adapterMalformed, 'base_model_name_or_path is not a string', { location }));
  }
  const targets = Array.isArray(d.targetModules) ? d.targetModules.join(', ') : (d.targetModules ?? 'none');
  findings.push(
    makeFinding(
      adapterPeft,
      `${d.peftType ?? 'PEFT'} adapter for ${d.baseModel ?? 'an unnamed base model'}${d.rank !== undefined ? `, rank ${d.rank}` : ''}, targeting ${targets}`,
      { location, evidence: { ...d } },
    ),
  );
  if (d.modulesToSave?.length) {
    findings.push(
      makeFinding(
        adapterUnusual,
        `adapter ships full copies of modules ${d.modulesToSave.join(', ')} (modules_to_save), not only low-rank deltas`,
        {
          location,
          evidence: { modulesToSave: d.modulesToSave },
        },
      ),
    );
  }
  if (d.autoMapping !== undefined && d.autoMapping !== null) {
    const am = isJsonObject(d.autoMapping) ? d.autoMapping : {};
    const lib = str(am.parent_library);
    const outside = lib !== undefined && !/^(transformers|peft|diffusers)(\.|$)/.test(lib);
    findings.push(
      makeFinding(
        adapterUnusual,
        `adapter auto_mapping makes PEFT import ${str(am.base_model_class) ?? 'a class'} from ${lib ?? 'an unnamed library'}`,
        { location, evidence: { autoMapping: d.autoMapping }, severity: outside ? 'high' : 'medium' },
      ),
    );
  }
  return { format: 'peft-adapter-config', complete: true, findings, details: { adapter: d } };
}

export const adapterConfigFormat: FormatScanner = {
  id: 'peft-adapter-config',
  title: 'PEFT adapter config',
  detect: detectAdapterConfig,
  scan: (source, ctx) => scanAdapterConfig(source, ctx),
};
