/**
 * Model repositories: a folder as downloaded from a model hub. The orchestrator scans every file (one
 * result each); this adds one summary result for the folder (format `model-repository`) with what only
 * the folder as a whole shows:
 *   - code the loader may run: `auto_map` in config.json / tokenizer_config.json / processor configs
 *     (transformers imports those classes under trust_remote_code=True, possibly from another repository
 *     with `repo--module.Class`), `custom_pipelines`, diffusers `model_index.json` components from
 *     non-library modules (and components whose folder is missing), sentence-transformers `modules.json`
 *     types outside the library, and every `*.py` file;
 *   - chat templates wherever a loader renders one (tokenizer_config.json and processor configs'
 *     `chat_template`, chat_template.json, chat_template.jinja, additional_chat_templates/*.jinja), checked
 *     against the template allowlist like GGUF's;
 *   - PEFT adapters: the adapter config described and paired with its weight files and their verdicts;
 *   - the files by format and verdict, and which ones block.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { pushAll } from '../core/arrays.js';
import type { Finding, Location } from '../core/finding.js';
import { LIMITS } from '../core/limits.js';
import { makeFinding } from '../core/rule.js';
import { atLeast, type Severity } from '../core/severity.js';
import { DEFAULT_FAIL_ON } from '../core/verdict.js';
import type { FileResult } from '../report/types.js';
import { templateFindings } from './formats/jinja/index.js';
import { repoMissingReference, repoPythonFile, repoRemoteCode, repoSummary } from './formats/rules-meta.js';
import { isJsonObject, type JsonObject, type JsonValue, parseStrictJson } from './formats/strict-json.js';
import { CONFIGS_WITH_AUTO_MAP, rootOf } from './hub-names.js';

const KNOWN_LIBRARIES =
  /^(diffusers|transformers|peft|sentence_transformers|torch|onnxruntime\.training|optimum\.onnxruntime|null)$/;
/**
 * diffusers also resolves a component's library as a module of `diffusers.pipelines` (SD 1.x's
 * `"safety_checker": ["stable_diffusion", "StableDiffusionSafetyChecker"]`): code inside diffusers, not in the
 * repository. These are the pipeline modules that ship component classes; a name not here, or one whose
 * `.py` file the repository ships, is the repository's own code.
 */
const DIFFUSERS_PIPELINE_MODULES = new Set([
  'alt_diffusion',
  'animatediff',
  'audioldm',
  'audioldm2',
  'blip_diffusion',
  'controlnet',
  'controlnet_xs',
  'deepfloyd_if',
  'kandinsky',
  'kandinsky2_2',
  'kandinsky3',
  'latent_diffusion',
  'musicldm',
  'paint_by_example',
  'pixart_alpha',
  'semantic_stable_diffusion',
  'shap_e',
  'stable_cascade',
  'stable_diffusion',
  'stable_diffusion_3',
  'stable_diffusion_safe',
  'stable_diffusion_xl',
  'stable_video_diffusion',
  't2i_adapter',
  'text_to_video_synthesis',
  'unclip',
  'unidiffuser',
  'versatile_diffusion',
  'wuerstchen',
]);

function relPath(dir: string, p: string): string {
  const r = relative(resolve(dir), resolve(p));
  return r.startsWith('..') ? p : r.split(sep).join('/');
}

async function readJson(path: string): Promise<{ doc?: JsonObject; error?: string }> {
  try {
    const st = await stat(path);
    if (st.size > LIMITS.headers.maxJsonConfig)
      return { error: `larger than ${LIMITS.headers.maxJsonConfig} bytes` };
    const doc = parseStrictJson(await readFile(path), { bigIntegers: 'keep' });
    return isJsonObject(doc) ? { doc } : { error: 'not a JSON object' };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function readJsonArray(path: string): Promise<JsonValue[]> {
  try {
    if ((await stat(path)).size > LIMITS.headers.maxJsonConfig) return [];
    const doc = parseStrictJson(await readFile(path), { bigIntegers: 'keep' });
    return Array.isArray(doc) ? doc : [];
  } catch {
    return [];
  }
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** `module.Class`, `repo/id--module.Class`, or a [slow, fast] pair, as module + optional repository. */
function autoMapTargets(v: JsonValue): Array<{ ref: string; module: string; repo?: string }> {
  const out: Array<{ ref: string; module: string; repo?: string }> = [];
  const add = (s: JsonValue) => {
    if (typeof s !== 'string' || !s) return;
    const [repo, rest] = s.includes('--') ? s.split('--', 2) : [undefined, s];
    const parts = rest.split('.');
    out.push({ ref: s, module: parts.slice(0, -1).join('.') || rest, repo });
  };
  if (Array.isArray(v)) v.forEach(add);
  else add(v);
  return out;
}

/** The `chat_template` of a config: one template, or a list of `{name, template}` (transformers' named templates). */
function configTemplates(cfgName: string, tpl: JsonValue | undefined, here: Location): Finding[] {
  const templates: Array<[string, string]> = [];
  if (typeof tpl === 'string') templates.push(['default', tpl]);
  else if (Array.isArray(tpl)) {
    for (const t of tpl)
      if (isJsonObject(t) && typeof t.template === 'string')
        templates.push([String(t.name ?? '?'), t.template]);
  }
  return templates.flatMap(([name, text]) =>
    templateFindings(
      text,
      `${cfgName} chat_template ${JSON.stringify(name)}`,
      { ...here, entry: cfgName },
      { template: name },
    ),
  );
}

/**
 * One summary per repository under `dir`: the folder itself, or each sub-folder holding a hub marker
 * (config.json, adapter_config.json, ...) when a folder of several downloaded repositories is scanned.
 */
export async function analyzeRepository(
  dir: string,
  results: FileResult[],
  failOn: Severity = DEFAULT_FAIL_ON,
): Promise<FileResult | FileResult[] | undefined> {
  const rels = results.map((r) => relPath(dir, r.path));
  const roots = [...new Set(rels.map(rootOf).filter((r): r is string => r !== undefined))];
  if (roots.length === 0) return undefined;
  // Innermost roots own their files; a file belongs to the longest root that prefixes it.
  const owner = (rel: string) =>
    roots.filter((r) => r === '' || rel.startsWith(`${r}/`)).sort((x, y) => y.length - x.length)[0];
  const out: FileResult[] = [];
  for (const root of roots.sort()) {
    const mine = results.filter((_, i) => owner(rels[i]) === root);
    const r = await analyzeOne(root ? join(dir, root) : dir, mine, failOn);
    if (r) out.push(r);
  }
  return out.length === 1 ? out[0] : out;
}

/**
 * Adapter forensics on a PEFT adapter's safetensors weights (src/weights/adapter). A scan has no base model,
 * so the forensics report statistics without a verdict (info) and point to `antidote diff BASE ADAPTER`,
 * which probes the adapter through the base and gates on the result; a high finding is still capped at
 * medium here, since a statistical score alone does not block a download.
 */
async function adapterForensics(folder: string, weights: string): Promise<Finding[]> {
  const { openModel } = await import('../weights/store.js');
  const { assessAdapter } = await import('../weights/adapter/score.js');
  const { adapterUnreadable } = await import('../weights/rules.js');
  let store: Awaited<ReturnType<typeof openModel>> | undefined;
  try {
    store = await openModel(weights);
    const a = await assessAdapter(folder, store);
    return a.findings.map((f) => (f.severity === 'high' ? { ...f, severity: 'medium' as const } : f));
  } catch (err) {
    // The weights file has its own result; forensics that cannot read it say so without blocking the scan.
    return [
      makeFinding(
        adapterUnreadable,
        `Adapter forensics could not read ${weights}: ${(err as Error).message}`,
        {
          severity: 'medium',
        },
      ),
    ];
  } finally {
    await store?.close();
  }
}

async function analyzeOne(
  dir: string,
  results: FileResult[],
  failOn: Severity,
): Promise<FileResult | undefined> {
  const files = results.map((r) => ({ r, rel: relPath(dir, r.path) }));
  const names = new Set(files.map((f) => f.rel));
  const findings: Finding[] = [];
  const here: Location = { file: dir };
  const referencedModules = new Set<string>();

  for (const cfgName of CONFIGS_WITH_AUTO_MAP) {
    if (!names.has(cfgName)) continue;
    const { doc } = await readJson(join(dir, cfgName));
    if (!doc) continue;
    const autoMap = doc.auto_map;
    if (isJsonObject(autoMap)) {
      const targets = Object.entries(autoMap).flatMap(([k, v]) =>
        autoMapTargets(v).map((t) => ({ ...t, auto: k })),
      );
      for (const t of targets) {
        const file = `${t.module.replace(/\./g, '/')}.py`;
        if (!t.repo) referencedModules.add(file);
        const present = !t.repo && names.has(file);
        findings.push(
          makeFinding(
            repoRemoteCode,
            t.repo
              ? `${cfgName} auto_map ${t.auto} loads ${t.ref}: Python code from another repository (${t.repo}) runs under trust_remote_code`
              : `${cfgName} auto_map ${t.auto} makes transformers run ${file}${present ? '' : ' (missing from this folder)'} under trust_remote_code`,
            {
              location: { ...here, entry: cfgName },
              evidence: {
                config: cfgName,
                key: t.auto,
                target: t.ref,
                file: t.repo ? undefined : file,
                repository: t.repo,
                present,
              },
            },
          ),
        );
      }
    }
    if (isJsonObject(doc.custom_pipelines)) {
      for (const [task, spec] of Object.entries(doc.custom_pipelines)) {
        const impl = isJsonObject(spec) ? spec.impl : undefined;
        for (const t of impl !== undefined ? autoMapTargets(impl) : []) {
          const file = `${t.module.replace(/\./g, '/')}.py`;
          referencedModules.add(file);
          findings.push(
            makeFinding(
              repoRemoteCode,
              `${cfgName} custom pipeline ${task} runs ${t.ref} under trust_remote_code`,
              {
                location: { ...here, entry: cfgName },
                evidence: { config: cfgName, pipeline: task, target: t.ref },
              },
            ),
          );
        }
      }
    }
    pushAll(findings, configTemplates(cfgName, doc.chat_template, here));
  }
  if (names.has('chat_template.json')) {
    const { doc } = await readJson(join(dir, 'chat_template.json'));
    if (doc) pushAll(findings, configTemplates('chat_template.json', doc.chat_template, here));
  }
  for (const rel of [...names].filter(
    (n) => n === 'chat_template.jinja' || /^additional_chat_templates\/[^/]+\.jinja$/.test(n),
  )) {
    try {
      const text = (await readFile(join(dir, rel))).toString('utf8');
      pushAll(findings, templateFindings(text, rel, { ...here, entry: rel }));
    } catch {
      /* unreadable: its own file result says so */
    }
  }
  if (names.has('model_index.json')) {
    const { doc } = await readJson(join(dir, 'model_index.json'));
    for (const [k, v] of Object.entries(doc ?? {})) {
      if (k.startsWith('_') || !Array.isArray(v) || typeof v[0] !== 'string') continue;
      const shipped = names.has(`${k}/${v[0]}.py`) || names.has(`${v[0]}.py`);
      if (shipped || !(KNOWN_LIBRARIES.test(v[0]) || DIFFUSERS_PIPELINE_MODULES.has(v[0]))) {
        referencedModules.add(`${k}/${v[0]}.py`);
        findings.push(
          makeFinding(
            repoRemoteCode,
            `model_index.json component ${k} comes from module ${v[0]} (${String(v[1])}), code diffusers runs from the repository`,
            {
              location: { ...here, entry: 'model_index.json' },
              evidence: { component: k, module: v[0], className: v[1] },
            },
          ),
        );
      }
      // The loader opens the component's folder: one that is not there was not scanned.
      if (typeof v[1] === 'string' && !(await isFolder(join(dir, k)))) {
        findings.push(
          makeFinding(
            repoMissingReference,
            `model_index.json component ${k} (${v[0]}.${v[1]}) has no ${k}/ folder in the repository; the loader would fetch or fail on it`,
            { location: { ...here, entry: 'model_index.json' }, evidence: { component: k, folder: `${k}/` } },
          ),
        );
      }
    }
  }
  if (names.has('modules.json')) {
    // sentence-transformers imports each module's `type`; one outside the library is the repository's code.
    const doc = await readJsonArray(join(dir, 'modules.json'));
    for (const m of doc) {
      if (!isJsonObject(m) || typeof m.type !== 'string' || m.type.startsWith('sentence_transformers.'))
        continue;
      referencedModules.add(`${m.type.split('.').slice(0, -1).join('/')}.py`);
      findings.push(
        makeFinding(
          repoRemoteCode,
          `modules.json module ${String(m.name ?? '?')} is ${m.type}, code sentence-transformers imports from outside the library`,
          {
            location: { ...here, entry: 'modules.json' },
            evidence: { module: m.name ?? null, type: m.type },
          },
        ),
      );
    }
  }
  const python = files.filter((f) => f.rel.endsWith('.py')).map((f) => f.rel);
  if (python.length) {
    const unreferenced = python.filter(
      (p) => !referencedModules.has(p) && !referencedModules.has(basename(p)),
    );
    findings.push(
      makeFinding(
        repoPythonFile,
        `${python.length} Python file(s) in the repository (${python.slice(0, 5).join(', ')}${python.length > 5 ? ', …' : ''}); review before running`,
        {
          location: here,
          evidence: { files: python.slice(0, 100), notReferencedByAutoMap: unreferenced.slice(0, 100) },
        },
      ),
    );
  }
  // Adapters: pair the config with its weights.
  let adapter: Record<string, unknown> | undefined;
  for (const f of files) {
    if (f.r.format !== 'peft-adapter-config') continue;
    const folder = f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/') + 1) : '';
    const weights = files
      .filter(
        (w) => w.rel.startsWith(folder) && /^adapter_model\.(safetensors|bin|pt|pth)$/.test(basename(w.rel)),
      )
      .map((w) => ({ file: w.rel, format: w.r.format, verdict: w.r.verdict }));
    adapter = { config: f.rel, ...(f.r.details?.adapter as object), weights };
    const st = weights.find((w) => w.file.endsWith('.safetensors') && w.verdict === 'pass');
    if (st) pushAll(findings, await adapterForensics(join(dir, folder), join(dir, st.file)));
  }
  const byFormat: Record<string, number> = {};
  for (const { r } of files) byFormat[r.format] = (byFormat[r.format] ?? 0) + 1;
  const blocked = files.filter((f) => f.r.verdict === 'block').map((f) => f.rel);
  const details = {
    files: files.length,
    formats: byFormat,
    blocked: blocked.slice(0, 100),
    remoteCode: findings.filter((f) => f.rule === repoRemoteCode.id).length,
    pythonFiles: python.length,
    adapter,
  };
  findings.push(
    makeFinding(
      repoSummary,
      `model repository with ${files.length} files${adapter ? ` (a ${String(adapter.peftType ?? 'PEFT')} adapter for ${String(adapter.baseModel ?? 'an unnamed base model')})` : ''}${blocked.length ? `, ${blocked.length} blocked (${blocked.slice(0, 3).join(', ')}${blocked.length > 3 ? ', …' : ''})` : ', none blocked'}`,
      { location: here, evidence: details, severity: blocked.length ? 'high' : 'info' },
    ),
  );
  const verdict = findings.some((f) => atLeast(f.severity, failOn)) ? 'block' : 'pass';
  const shown = relative(process.cwd(), resolve(dir));
  return {
    path: shown && !shown.startsWith('..') ? shown : dir,
    format: 'model-repository',
    verdict,
    findings,
    details,
  };
}
