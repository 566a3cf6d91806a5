/**
 * The files a hub loader reads by their names, which make a folder a model repository (repo.ts). Kept apart from
 * the repository analysis so that a scan can ask "is this file one of them?" without loading that analysis.
 */
import { basename } from 'node:path';

/** Configs in which transformers follows `auto_map` (and, for tokenizer and processor configs, renders `chat_template`). */
export const CONFIGS_WITH_AUTO_MAP = [
  'config.json',
  'tokenizer_config.json',
  'processor_config.json',
  'preprocessor_config.json',
  'feature_extractor_config.json',
  'image_processor_config.json',
  'video_preprocessor_config.json',
];
const HUB_MARKERS = new Set([
  ...CONFIGS_WITH_AUTO_MAP,
  'adapter_config.json',
  'model_index.json',
  'generation_config.json',
  'modules.json',
  'chat_template.jinja',
  'chat_template.json',
]);

/** The repository folder a file marks (relative to the scanned folder), if the file is one a hub loader reads by name. */
export function rootOf(rel: string): string | undefined {
  const extra = /^(?:(.*)\/)?additional_chat_templates\/[^/]+\.jinja$/.exec(rel);
  if (extra) return extra[1] ?? '';
  if (!HUB_MARKERS.has(basename(rel))) return undefined;
  return rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
}
