/**
 * `antidote bom`: a CycloneDX 1.6 JSON bill of materials for models and datasets. The document is
 * built as plain JSON because the library's object models (v10) do not cover `modelCard`, `data` or
 * `pedigree`; it is then validated with the library's CycloneDX 1.6 JSON schema validator before
 * anything is written.
 *
 * One `machine-learning-model` component per model path (a folder's files are nested `file`
 * components with their SHA-256), model-card facts from config.json and the README front matter, base
 * models as pedigree ancestors, one `data` component per `--dataset`, and the scanner's verdicts as
 * `antidote:scan:*` properties.
 */
import { randomUUID } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';
import { toolVersion } from '../../core/version.js';
import type { FileResult, ScanReport } from '../../report/types.js';
import { type HashedRoot, hashTrees } from '../hashing.js';
import { type Tree, walk } from '../tree.js';
import { type ModelCardFacts, readModelCard } from './model-card.js';

type Json = Record<string, unknown>;

const FORMAT_BY_EXT: Record<string, string> = {
  '.safetensors': 'safetensors',
  '.gguf': 'gguf',
  '.onnx': 'onnx',
  '.pt': 'pytorch',
  '.pth': 'pytorch',
  '.bin': 'pytorch',
  '.ckpt': 'pytorch',
  '.pkl': 'pickle',
  '.pickle': 'pickle',
  '.joblib': 'joblib',
  '.h5': 'keras-h5',
  '.hdf5': 'keras-h5',
  '.keras': 'keras',
  '.npy': 'npy',
  '.npz': 'npz',
  '.tflite': 'tflite',
  '.pb': 'tensorflow',
};

export function formatByExtension(path: string): string | undefined {
  return FORMAT_BY_EXT[extname(path).toLowerCase()];
}

export interface BomOptions {
  datasets?: string[];
  /** Run the scanner for verdicts (default true). */
  scan?: boolean;
  workers?: number;
}

export interface BomModelSummary {
  path: string;
  verdict: string;
  files: number;
}

const prop = (name: string, value: string | number) => ({ name, value: String(value) });

interface ScanOutcome {
  byRel: Map<string, FileResult>;
  error?: string;
}

async function scanModel(path: string, kind: 'file' | 'dir'): Promise<ScanOutcome> {
  const byRel = new Map<string, FileResult>();
  try {
    const { scanPaths } = await import('../../artifacts/scan.js');
    const report: ScanReport = await scanPaths([path], { failOn: 'high', allow: [] });
    const root = resolve(path);
    for (const r of report.results) {
      const abs = resolve(r.path);
      let rel: string;
      if (kind === 'file') rel = '.';
      else if (abs.startsWith(`${root}/`)) rel = abs.slice(root.length + 1);
      else rel = r.path;
      byRel.set(rel, r);
    }
    return { byRel };
  } catch (err) {
    return { byRel, error: (err as Error).message.split('\n')[0] };
  }
}

function uniqueRef(base: string, used: Set<string>): string {
  let ref = base;
  for (let i = 2; used.has(ref); i++) ref = `${base}-${i}`;
  used.add(ref);
  return ref;
}

function hfPurl(name: string): string | undefined {
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(name)) return undefined;
  return `pkg:huggingface/${name.split('/').map(encodeURIComponent).join('/')}`;
}

function modelCardJson(facts: ModelCardFacts): Json | undefined {
  const params: Json = {};
  if (facts.task) params.task = facts.task;
  if (facts.modelType) params.architectureFamily = facts.modelType;
  if (facts.architecture) params.modelArchitecture = facts.architecture;
  if (facts.datasets.length) params.datasets = facts.datasets.map((name) => ({ type: 'dataset', name }));
  const properties = [
    ...facts.languages.map((l) => prop('huggingface:language', l)),
    ...facts.tags.map((t) => prop('huggingface:tag', t)),
    ...(facts.libraryName ? [prop('huggingface:library_name', facts.libraryName)] : []),
    ...facts.sources.map((s) => prop('antidote:model-card-source', s)),
  ];
  if (!Object.keys(params).length && !properties.length) return undefined;
  const card: Json = {};
  if (Object.keys(params).length) card.modelParameters = params;
  if (properties.length) card.properties = properties;
  return card;
}

const sha256 = (hex?: string) => (hex ? [{ alg: 'SHA-256', content: hex }] : undefined);

function fileComponent(root: HashedRoot, rel: string, scan: ScanOutcome, fallbackFormat?: string): Json {
  const e = root.entries.find((x) => x.path === rel)!;
  const r = scan.byRel.get(rel);
  const props = [prop('antidote:size', e.size)];
  const format = r && r.format !== 'unknown' ? r.format : (fallbackFormat ?? formatByExtension(rel));
  if (format) props.push(prop('antidote:format', format));
  if (e.type === 'symlink') props.push(prop('antidote:symlink-target', e.target ?? ''));
  if (r) {
    props.push(prop('antidote:scan:verdict', r.verdict), prop('antidote:scan:findings', r.findings.length));
  }
  const c: Json = { type: 'file', name: rel };
  const h = sha256(e.digest);
  if (h) c.hashes = h;
  c.properties = props;
  return c;
}

export async function buildBom(
  models: readonly string[],
  opts: BomOptions = {},
): Promise<{ bom: Json; summary: BomModelSummary[] }> {
  const datasets = opts.datasets ?? [];
  const trees: Tree[] = [];
  for (const p of [...models, ...datasets]) trees.push(await walk(p, { asLoaded: true }));
  const hashed = await hashTrees(trees, 'sha256', { workers: opts.workers });
  const used = new Set<string>();
  const components: Json[] = [];
  const summary: BomModelSummary[] = [];

  for (let i = 0; i < models.length; i++) {
    const root = hashed[i];
    const tree = trees[i];
    const name = basename(resolve(models[i]));
    const scan: ScanOutcome =
      opts.scan === false
        ? { byRel: new Map(), error: 'scan disabled' }
        : await scanModel(models[i], tree.kind);
    const facts =
      tree.kind === 'dir'
        ? await readModelCard(models[i])
        : { baseModels: [], datasets: [], languages: [], tags: [], sources: [] };
    const scanned = [...scan.byRel.values()];
    const verdict =
      scan.error !== undefined
        ? 'not-scanned'
        : scanned.some((r) => r.verdict === 'block')
          ? 'block'
          : 'pass';
    const formats = [
      ...new Set(
        (tree.kind === 'file' ? ['.'] : root.entries.map((e) => e.path))
          .map((rel) => {
            const r = scan.byRel.get(rel);
            return r && r.format !== 'unknown' ? r.format : formatByExtension(rel === '.' ? models[i] : rel);
          })
          .filter((f): f is string => !!f),
      ),
    ];
    const props = [
      prop('antidote:scan:verdict', verdict),
      prop(
        'antidote:scan:findings',
        scanned.reduce((s, r) => s + r.findings.length, 0),
      ),
      ...(scan.error !== undefined ? [prop('antidote:scan:error', scan.error)] : []),
      ...formats.map((f) => prop('antidote:format', f)),
      prop('antidote:size', root.size),
      prop('antidote:files', root.entries.length),
    ];
    const c: Json = {
      type: 'machine-learning-model',
      'bom-ref': uniqueRef(`model:${name}`, used),
      name,
    };
    if (facts.license) c.licenses = [{ license: { name: facts.license } }];
    if (tree.kind === 'file') {
      c.hashes = sha256(root.digest);
    } else {
      props.push(prop('antidote:folder-digest', `sha256:${root.digest}`));
      c.components = root.entries.map((e) => fileComponent(root, e.path, scan));
    }
    if (facts.baseModels.length) {
      c.pedigree = {
        ancestors: facts.baseModels.map((b) => {
          const a: Json = { type: 'machine-learning-model', name: b };
          const purl = hfPurl(b);
          if (purl) a.purl = purl;
          return a;
        }),
      };
    }
    const card = modelCardJson(facts);
    if (card) c.modelCard = card;
    c.properties = props;
    if (tree.kind === 'file') {
      const r = scan.byRel.get('.');
      if (r) c.properties = [...props, prop('antidote:scan:file-verdict', r.verdict)];
    }
    components.push(c);
    summary.push({ path: models[i], verdict, files: root.entries.length });
  }

  for (let j = 0; j < datasets.length; j++) {
    const root = hashed[models.length + j];
    const name = basename(resolve(datasets[j]));
    const c: Json = { type: 'data', 'bom-ref': uniqueRef(`data:${name}`, used), name };
    if (root.kind === 'file') c.hashes = sha256(root.digest);
    else
      c.components = root.entries
        .filter((e) => e.type === 'file')
        .map((e) => ({ type: 'file', name: e.path, hashes: sha256(e.digest) }));
    c.data = [{ type: 'dataset', name, description: `${root.entries.length} file(s), ${root.size} bytes` }];
    c.properties = [
      prop('antidote:size', root.size),
      ...(root.kind === 'dir' ? [prop('antidote:folder-digest', `sha256:${root.digest}`)] : []),
    ];
    components.push(c);
  }

  const bom: Json = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      tools: { components: [{ type: 'application', name: 'antidote', version: toolVersion() }] },
    },
    components,
  };
  return { bom, summary };
}
