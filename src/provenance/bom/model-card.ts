/**
 * Model-card facts a BOM can state without running anything: the Hugging Face `config.json` (model
 * type, architecture) and the YAML front matter of README.md (license, task, base model, datasets,
 * languages, tags). Both are read with size limits; anything unreadable is simply absent (a BOM states
 * what is known), never guessed.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const MAX_CONFIG = 4 * 1024 * 1024;
const MAX_README = 1024 * 1024;

export interface ModelCardFacts {
  modelType?: string;
  architecture?: string;
  task?: string;
  license?: string;
  baseModels: string[];
  datasets: string[];
  languages: string[];
  tags: string[];
  libraryName?: string;
  /** Which files the facts came from. */
  sources: string[];
}

async function readCapped(path: string, max: number): Promise<string | null> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile() || st.size > max) return null;
    const buf = Buffer.alloc(st.size);
    await fh.read(buf, 0, st.size, 0);
    return buf.toString('utf8');
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const strList = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])
    .map((x) => (typeof x === 'string' || typeof x === 'number' ? String(x).trim() : ''))
    .filter(Boolean);

/** The YAML between a leading `---` line and the next `---` line, parsed; null when absent or invalid. */
export function frontMatter(readme: string): Record<string, unknown> | null {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\s*(\r?\n|$)/.exec(readme);
  if (!m) return null;
  try {
    const v = parseYaml(m[1], { maxAliasCount: 100 });
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export async function readModelCard(folder: string): Promise<ModelCardFacts> {
  const facts: ModelCardFacts = { baseModels: [], datasets: [], languages: [], tags: [], sources: [] };
  const cfgText = await readCapped(join(folder, 'config.json'), MAX_CONFIG);
  if (cfgText !== null) {
    try {
      const cfg = JSON.parse(cfgText) as Record<string, unknown>;
      if (cfg && typeof cfg === 'object') {
        facts.modelType = str(cfg.model_type);
        facts.architecture = strList(cfg.architectures)[0];
        facts.sources.push('config.json');
      }
    } catch {
      /* not JSON: nothing to state */
    }
  }
  const readme = await readCapped(join(folder, 'README.md'), MAX_README);
  const fm = readme === null ? null : frontMatter(readme);
  if (fm) {
    facts.license = str(fm.license) ?? str(fm.license_name);
    facts.task = str(fm.pipeline_tag);
    facts.baseModels = strList(fm.base_model);
    facts.datasets = strList(fm.datasets);
    facts.languages = strList(fm.language);
    facts.tags = strList(fm.tags);
    facts.libraryName = str(fm.library_name);
    facts.sources.push('README.md');
  }
  return facts;
}
