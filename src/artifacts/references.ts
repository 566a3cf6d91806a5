/**
 * The references loaders follow between the files of a folder, read before the files are scanned:
 *   - `*.index.json` weight maps (transformers' sharded checkpoints): every listed shard must be in the
 *     folder, inside it, and of the format the index promises (safetensors or torch);
 *   - OpenVINO IR: `model.xml` reads its constants from `model.bin` at the offsets and sizes its layers name.
 * Each referenced file gets a role (what it is to the file that names it), so it is scanned as what its loader
 * takes it for; each broken reference is a finding on the file that holds it. ONNX external data is found by
 * the ONNX scanner itself (formats/onnx.ts) and comes back as the model's `references`.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Finding } from '../core/finding.js';
import { LIMITS } from '../core/limits.js';
import { makeFinding } from '../core/rule.js';
import { repoEscapingReference, repoMissingReference } from './formats/rules-meta.js';
import { isJsonObject, parseStrictJson } from './formats/strict-json.js';
import type { FileRole } from './formats/types.js';
import type { WalkedFile } from './walk.js';

export interface FolderReferences {
  /** Role of each referenced file, by absolute path. */
  roles: Map<string, FileRole>;
  /** Broken references, by the absolute path of the file that holds them. */
  findings: Map<string, Finding[]>;
  /** Format each referencing file was read as (for the file's own result). */
  formats: Map<string, string>;
}

const MAX_XML = 64 * 1024 * 1024;

interface Present {
  has(path: string): boolean;
}

/** Why a relative reference cannot be followed safely, or undefined when it stays inside `root`. */
export function escapeReason(ref: string, from: string, root: string): string | undefined {
  if (ref.includes('\0')) return 'contains a NUL byte';
  if (isAbsolute(ref) || /^[A-Za-z]:/.test(ref) || ref.startsWith('\\')) return 'is an absolute path';
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return 'is a URL';
  const full = resolve(from, ...ref.split(/[\\/]+/));
  const rel = relative(resolve(root), full);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    return 'leads outside the repository folder';
  return undefined;
}

export async function collectReferences(
  files: readonly WalkedFile[],
  excluded: readonly string[] = [],
): Promise<FolderReferences> {
  const out: FolderReferences = { roles: new Map(), findings: new Map(), formats: new Map() };
  // A file left out by --exclude or .antidoteignore is there (and listed as skipped), not missing.
  const walked = new Set(files.map((f) => resolve(f.path)));
  const skipped = excluded.map((p) => resolve(p));
  const present: Present = {
    has: (p) => walked.has(p) || skipped.some((s) => p === s || p.startsWith(s + sep)),
  };
  const add = (file: string, f: Finding) => {
    const list = out.findings.get(file) ?? [];
    list.push(f);
    out.findings.set(file, list);
  };
  for (const f of files) {
    const name = basename(f.path);
    if (/\.index(\.\w+)?\.json$/i.test(name)) await indexFile(f, present, out, add);
    else if (/\.xml$/i.test(name)) await openVinoXml(f, present, out, add);
  }
  return out;
}

async function indexFile(
  f: WalkedFile,
  present: Present,
  out: FolderReferences,
  add: (file: string, f: Finding) => void,
): Promise<void> {
  const abs = resolve(f.path);
  let doc: ReturnType<typeof parseStrictJson>;
  try {
    if ((await stat(abs)).size > LIMITS.headers.maxJsonConfig) return;
    doc = parseStrictJson(await readFile(abs), { bigIntegers: 'keep' });
  } catch {
    return; // not JSON: the file's own scan reports what it is
  }
  if (!isJsonObject(doc) || !isJsonObject(doc.weight_map)) return;
  out.formats.set(abs, 'weights-index');
  const expect = /safetensors/i.test(basename(abs)) ? 'safetensors' : 'pytorch';
  const shards = new Set<string>();
  for (const v of Object.values(doc.weight_map)) if (typeof v === 'string') shards.add(v);
  const where = { file: f.display };
  for (const shard of shards) {
    // Loaders join shard names to the folder of the index: that folder is the repository's boundary.
    const reason = escapeReason(shard, dirname(abs), dirname(abs));
    if (reason) {
      add(
        abs,
        makeFinding(
          repoEscapingReference,
          `shard ${JSON.stringify(shard)} listed in ${basename(abs)} ${reason}`,
          {
            location: where,
            evidence: { shard, reason },
          },
        ),
      );
      continue;
    }
    const full = resolve(dirname(abs), ...shard.split(/[\\/]+/));
    if (!present.has(full)) {
      add(
        abs,
        makeFinding(
          repoMissingReference,
          `shard ${JSON.stringify(shard)} listed in ${basename(abs)} is not in the folder; the loader would fetch or fail on it`,
          { location: where, evidence: { shard } },
        ),
      );
      continue;
    }
    out.roles.set(full, { kind: 'shard', expect, by: f.display });
  }
}

/** OpenVINO IR: `<net ...>` with `<data offset=".." size=".."/>` on its Const layers. */
async function openVinoXml(
  f: WalkedFile,
  present: Present,
  out: FolderReferences,
  add: (file: string, f: Finding) => void,
): Promise<void> {
  const abs = resolve(f.path);
  let text: string;
  try {
    if ((await stat(abs)).size > MAX_XML) return;
    text = (await readFile(abs)).toString('utf8');
  } catch {
    return;
  }
  if (!/<net\s[^>]*version\s*=/.test(text.slice(0, 4096))) return;
  out.formats.set(abs, 'openvino-ir');
  const bin = abs.replace(/\.xml$/i, '.bin');
  let end = 0;
  for (const m of text.matchAll(/<data\b[^>]*>/g)) {
    const off = /\boffset\s*=\s*"(\d+)"/.exec(m[0]);
    const size = /\bsize\s*=\s*"(\d+)"/.exec(m[0]);
    if (off && size) end = Math.max(end, Number(off[1]) + Number(size[1]));
  }
  const where = { file: f.display };
  if (!present.has(bin)) {
    if (end > 0)
      add(
        abs,
        makeFinding(
          repoMissingReference,
          `OpenVINO weights ${basename(bin)} read by ${basename(abs)} are not in the folder`,
          {
            location: where,
            evidence: { weights: basename(bin) },
          },
        ),
      );
    return;
  }
  const binSize = (await stat(bin)).size;
  if (end > binSize) {
    add(
      abs,
      makeFinding(
        repoMissingReference,
        `${basename(abs)} reads its constants up to byte ${end} of ${basename(bin)}, which has ${binSize} bytes`,
        { location: where, evidence: { weights: basename(bin), end, size: binSize } },
      ),
    );
  }
  out.roles.set(bin, { kind: 'tensor-data', format: 'openvino-weights', by: f.display });
}
