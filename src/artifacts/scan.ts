/**
 * `antidote scan`: the orchestrator. Paths are expanded (folders walked, minus --exclude and the working directory's .antidoteignore),
 * the references between a folder's files are followed first (index files, OpenVINO IR; ONNX external data
 * from the ONNX scan), each file is detected by content and handed to one format module (formats/index.ts),
 * and each gets one result whose verdict follows --fail-on. Fail closed at every level: an exception while
 * scanning a file is a blocking `scan/internal-error` finding for that file (the scan goes on), and a result
 * whose format did not analyse everything (`complete: false`, a required field) always blocks.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { pushAll } from '../core/arrays.js';
import { describeFsError, usageError } from '../core/errors.js';
import type { Finding, Location } from '../core/finding.js';
import { LIMITS } from '../core/limits.js';
import type { Progress } from '../core/progress.js';
import { makeFinding } from '../core/rule.js';
import { atLeast, type Severity } from '../core/severity.js';
import { verdictOf } from '../core/verdict.js';
import { toolVersion } from '../core/version.js';
import type { FileResult, ScanReport, SkippedPath } from '../report/types.js';
import { readAt, SyncFileSource } from './containers/sync-source.js';
import { pickleEvidence, wrapperKind } from './detect.js';
import { FORMATS } from './formats/index.js';
import { pickleFormat } from './formats/pickle.js';
import { loadScanPolicy } from './formats/pickle-stream.js';
import * as incomplete from './formats/rules/incomplete.js';
import * as internalError from './formats/rules/internal-error.js';
import * as limitRule from './formats/rules/limit-exceeded.js';
import * as symlinkRule from './formats/rules/symlink.js';
import * as unanalysable from './formats/rules/unanalysable.js';
import * as walkLimit from './formats/rules/walk-limit.js';
import { repoShardFormat } from './formats/rules-meta.js';
import { scanTensorData } from './formats/tensor-data.js';
import {
  type DetectInput,
  type FileRole,
  type FormatResult,
  type FormatScanner,
  HEAD_BYTES,
  type ScanContext,
} from './formats/types.js';
import { rootOf } from './hub-names.js';
import type { Policy } from './pickle/api.js';
import { collectReferences } from './references.js';
import type { ByteSource } from './source.js';
import { walkFolder } from './walk.js';

export interface ScanOptions {
  failOn: Severity;
  /** Extra fully qualified names to allow (from --allow). */
  allow: string[];
  /** Path of a policy file (from --policy). */
  policyFile?: string;
  progress?: Progress;
  /** Globs of files and folders not to scan (from --exclude), on top of the working directory's .antidoteignore. */
  exclude?: string[];
}

/** Formats that read pickles themselves; a file claimed by any other format is also checked for a pickle start. */
const PICKLE_AWARE = new Set(['zip', 'npy', 'pytorch-legacy', 'tar', 'pickle', 'joblib', 'unknown']);

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

function joinEntry(outer: string | undefined, inner: string | undefined): string | undefined {
  if (outer && inner) return `${outer}!${inner}`;
  return outer ?? inner;
}

/** Re-home findings of a nested scan under the outer file and entry. */
function relocate(findings: Finding[], file: string, outer: Location): Finding[] {
  return findings.map((f) => {
    const loc: Location = { ...outer, ...f.location, file };
    const entry = joinEntry(outer.entry, f.location?.entry);
    if (entry !== undefined) loc.entry = entry;
    return { ...f, location: loc };
  });
}

/** The format that claims a file: the first in registry order (structure first, pickle last). */
export function detectFormat(input: DetectInput): FormatScanner {
  const format = FORMATS.find((f) => f.detect(input));
  if (!format) throw new Error('no format claimed the file (the registry lacks its catch-all)');
  return format;
}

/** Formats a shard named by an index file must have, for the loader the index is read by. */
const SHARD_FORMATS: Record<Extract<FileRole, { kind: 'shard' }>['expect'], RegExp> = {
  safetensors: /^safetensors$/,
  pytorch: /^(pytorch-zip|pytorch-legacy|pickle|torchscript)$/,
};

export interface SourceScanOptions {
  policy: Policy;
  failOn: Severity;
  displayPath: string;
  depth?: number;
  /** What the file is to a file that references it (a shard of an index, tensor data of a model). */
  role?: FileRole;
}

/** Detect and scan one byte source (a file or a nested member). Never throws. */
export async function scanSource(source: ByteSource, opts: SourceScanOptions): Promise<FormatResult> {
  const depth = opts.depth ?? 0;
  const where: Location = { file: opts.displayPath };
  try {
    const head = await readAt(source, 0, Math.min(source.size, HEAD_BYTES));
    const format = detectFormat({ head, size: source.size, name: source.name });
    const evidence = pickleEvidence(head, source.size);
    const ctx: ScanContext = {
      policy: opts.policy,
      failOn: opts.failOn,
      displayPath: opts.displayPath,
      depth,
      scanNested: async (inner, location) => {
        if (depth + 1 > LIMITS.archive.maxArchiveDepth) {
          return {
            format: 'nested',
            findings: [
              limitRule.check(`archives nest deeper than ${LIMITS.archive.maxArchiveDepth} levels`, {
                ...where,
                ...location,
              }),
            ],
            complete: false,
          };
        }
        const r = await scanSource(inner, { ...opts, role: undefined, depth: depth + 1 });
        return { ...r, findings: relocate(r.findings, opts.displayPath, location) };
      },
    };
    const role = opts.role;
    // Tensor bytes another file reads at offsets: what no structural format claims is that, not an unknown
    // file and not a pickle by chance (a genuine pickle is still read as one, below).
    const tensorRole =
      role?.kind === 'tensor-data' &&
      ((format.id === 'unknown' && wrapperKind(head) === null) ||
        (format.id === 'pickle' && evidence !== 'genuine'))
        ? role
        : undefined;
    let r = tensorRole ? scanTensorData(source, tensorRole) : await format.scan(source, ctx);
    // A pickle dressed as another format: a loader chosen by name would still unpickle it.
    if ((tensorRole || !PICKLE_AWARE.has(format.id)) && evidence === 'genuine') {
      const p = await pickleFormat.scan(source, ctx);
      r = {
        format: r.format,
        complete: r.complete && p.complete,
        findings: [...r.findings, ...p.findings],
        details: { ...r.details, polyglotPickle: p.details ?? {} },
      };
    }
    if (role?.kind === 'shard' && !SHARD_FORMATS[role.expect].test(r.format)) {
      const f = makeFinding(
        repoShardFormat,
        `${role.by} lists this file as a ${role.expect} shard, but it is ${r.format}`,
        {
          location: where,
          evidence: { index: role.by, expected: role.expect, found: r.format },
        },
      );
      r = { ...r, findings: [...r.findings, f] };
    }
    return r;
  } catch (err) {
    return {
      format: 'unknown',
      findings: [
        internalError.check(`scanning failed unexpectedly: ${errorMessage(err)}`, where, {
          error: errorMessage(err),
        }),
      ],
      complete: false,
    };
  }
}

function finish(path: string, r: FormatResult, failOn: Severity, size?: number): FileResult {
  const findings = [...r.findings];
  if (!r.complete && !findings.some((f) => atLeast(f.severity, failOn))) {
    findings.push(incomplete.check('part of the file that a loader reads was not analysed', { file: path }));
  }
  // Not analysed completely: blocks whatever the findings' severities and --fail-on say.
  const verdict = r.complete ? verdictOf(findings, failOn) : 'block';
  const res: FileResult = { path, format: r.format, verdict, findings };
  if (size !== undefined) res.size = size;
  res.details = { ...r.details, complete: r.complete };
  return res;
}

export async function scanFile(
  path: string,
  display: string,
  policy: Policy,
  failOn: Severity,
): Promise<FileResult> {
  return (await scanOne(path, display, policy, failOn)).result;
}

/** What a folder's reference pass knows about one file before it is scanned. */
interface FileContext {
  role?: FileRole;
  /** Findings about references the file holds (a missing shard of an index). */
  findings?: Finding[];
  /** What the file is read as by the reference pass (an index, an OpenVINO IR), when detection says unknown. */
  format?: string;
}

async function scanOne(
  path: string,
  display: string,
  policy: Policy,
  failOn: Severity,
  fc: FileContext = {},
): Promise<{ result: FileResult; references: string[] }> {
  let src: SyncFileSource;
  try {
    src = SyncFileSource.open(path, display);
  } catch (err) {
    const f = unanalysable.check(`the file cannot be read: ${describeFsError(display, err).message}`, {
      file: display,
    });
    return {
      result: finish(display, { format: 'unknown', findings: [f], complete: false }, failOn),
      references: [],
    };
  }
  try {
    let r = await scanSource(src, { policy, failOn, displayPath: display, role: fc.role });
    if (fc.format && r.format === 'unknown' && r.complete) {
      // Read as what the reference pass found (its unknown-format note no longer applies).
      r = { ...r, format: fc.format, findings: r.findings.filter((f) => f.rule !== 'scan/unknown-format') };
    }
    if (fc.findings?.length) r = { ...r, findings: [...r.findings, ...fc.findings] };
    return { result: finish(display, r, failOn, src.size), references: r.references ?? [] };
  } finally {
    await src.close().catch(() => {});
  }
}

type RepoAnalyser = (dir: string, results: FileResult[]) => unknown;
let repoAnalyser: Promise<RepoAnalyser | null> | undefined;

/** The folder-level analysis (repo.ts), loaded when a folder is scanned. */
function loadRepoAnalyser(): Promise<RepoAnalyser | null> {
  repoAnalyser ??= import('./repo.js').then((m: { analyzeRepository?: RepoAnalyser }) =>
    typeof m.analyzeRepository === 'function' ? m.analyzeRepository : null,
  );
  return repoAnalyser;
}

async function repositoryResults(
  dir: string,
  display: string,
  results: FileResult[],
  failOn: Severity,
): Promise<FileResult[]> {
  try {
    const fn = await loadRepoAnalyser();
    if (!fn) return [];
    const r = (await fn(dir, results)) as
      | FileResult
      | FileResult[]
      | { findings?: Finding[]; format?: string }
      | undefined
      | null;
    if (!r) return [];
    const list = Array.isArray(r) ? r : [r];
    return list
      .filter((x) => x && Array.isArray(x.findings))
      .map((x) => {
        const fr = x as Partial<FileResult>;
        return finish(
          fr.path ?? display,
          {
            format: fr.format ?? 'repository',
            complete: true,
            findings: fr.findings ?? [],
            details: fr.details,
          },
          failOn,
        );
      });
  } catch (err) {
    const f = internalError.check(`the repository analysis failed: ${errorMessage(err)}`, { file: display });
    return [finish(display, { format: 'repository', findings: [f], complete: false }, failOn)];
  }
}

/**
 * A config that a loader reads by its name (tokenizer_config.json, chat_template.jinja, config.json...) given
 * on its own: the checks a folder scan makes of it (chat templates, auto_map code) run on the file alone and
 * their findings join its result, so scanning the file says what scanning its folder would.
 */
async function withLoaderChecks(path: string, result: FileResult, failOn: Severity): Promise<FileResult> {
  const abs = resolve(path);
  const dir = dirname(abs);
  // additional_chat_templates/NAME.jinja is rendered from the repository folder above it.
  const inExtra = basename(dir) === 'additional_chat_templates';
  // Any other file (a weights file, say) skips the repository analysis and never loads it.
  if (rootOf(inExtra ? `additional_chat_templates/${basename(abs)}` : basename(abs)) === undefined)
    return result;
  const root = inExtra ? dirname(dir) : dir;
  const repo = await repositoryResults(root, result.path, [{ ...result, path: abs }], failOn);
  const extra = repo.flatMap((r) => r.findings).filter((f) => f.rule !== 'repo/summary');
  if (!extra.length) return result;
  const findings = [...result.findings, ...extra];
  const complete = result.details?.complete !== false && repo.every((r) => r.details?.complete !== false);
  return finish(
    result.path,
    { format: result.format, findings, complete, details: result.details },
    failOn,
    result.size,
  );
}

export async function scanPaths(paths: string[], opts: ScanOptions): Promise<ScanReport> {
  if (!paths.length) throw usageError('no path to scan', 'give one or more files or folders');
  // Every argument must exist before anything is scanned: a typo is a usage error (exit 2), not a result.
  const kinds: Array<'file' | 'dir'> = [];
  for (const p of paths) {
    try {
      const st = await stat(p);
      if (st.isDirectory()) kinds.push('dir');
      else if (st.isFile()) kinds.push('file');
      else throw usageError(`${p}: not a regular file or folder`);
    } catch (err) {
      if ((err as { code?: string }).code === 'E_USAGE') throw err;
      throw describeFsError(p, err);
    }
  }
  const policy = await loadScanPolicy(opts.policyFile, opts.allow);
  const progress = opts.progress;
  const results: FileResult[] = [];
  const skipped: SkippedPath[] = [];
  const plan: Array<
    | { kind: 'file'; path: string; display: string }
    | { kind: 'dir'; path: string; display: string; walk: Awaited<ReturnType<typeof walkFolder>> }
  > = [];
  let total = 0;
  for (let i = 0; i < paths.length; i++) {
    if (kinds[i] === 'file') {
      plan.push({ kind: 'file', path: paths[i], display: paths[i] });
      total++;
    } else {
      const walk = await walkFolder(paths[i], paths[i], undefined, { exclude: opts.exclude ?? [] });
      pushAll(
        skipped,
        walk.skipped.map((s) => ({ path: s.display, reason: s.reason })),
      );
      plan.push({ kind: 'dir', path: paths[i], display: paths[i], walk });
      total += walk.files.length;
    }
  }
  progress?.total(total);
  const one = async (path: string, display: string, fc?: FileContext) => {
    progress?.label(display);
    const r = await scanOne(path, display, policy, opts.failOn, fc);
    progress?.tick();
    return r;
  };
  for (const item of plan) {
    if (item.kind === 'file') {
      const { result } = await one(item.path, item.display);
      results.push(await withLoaderChecks(item.path, result, opts.failOn));
      continue;
    }
    const mine: FileResult[] = [];
    const refs = await collectReferences(
      item.walk.files,
      item.walk.skipped.map((s) => s.path),
    );
    const contextOf = (p: string): FileContext => ({
      role: refs.roles.get(resolve(p)),
      findings: refs.findings.get(resolve(p)),
      format: refs.formats.get(resolve(p)),
    });
    const referenced = new Map<string, string>();
    for (const f of item.walk.files) {
      const { result, references } = await one(f.path, f.display, contextOf(f.path));
      mine.push(result);
      for (const r of references) if (!referenced.has(resolve(r))) referenced.set(resolve(r), f.display);
    }
    // ONNX external data is known only once its model is parsed: re-read those files as tensor data.
    for (let i = 0; i < item.walk.files.length; i++) {
      const f = item.walk.files[i];
      const abs = resolve(f.path);
      const by = referenced.get(abs);
      if (by === undefined || refs.roles.has(abs)) continue;
      const fc = contextOf(f.path);
      fc.role = { kind: 'tensor-data', format: 'onnx-external-data', by };
      mine[i] = (await scanOne(f.path, f.display, policy, opts.failOn, fc)).result;
    }
    for (const l of item.walk.links) {
      const f = l.insideTree
        ? makeFinding(
            symlinkRule.meta,
            `symbolic link to ${l.target} not followed; its target inside the folder is scanned where it lies`,
            {
              location: { file: l.display },
            },
          )
        : makeFinding(
            symlinkRule.meta,
            `symbolic link to ${l.target || 'an unreadable target'} leads out of the folder and was not followed; scan its target directly`,
            {
              location: { file: l.display },
              severity: 'medium',
            },
          );
      mine.push(
        finish(
          l.display,
          { format: 'symlink', complete: l.insideTree, findings: [f], details: { target: l.target } },
          opts.failOn,
        ),
      );
    }
    for (const e of item.walk.errors) {
      const f = unanalysable.check(`cannot be read: ${e.message}`, { file: e.display });
      mine.push(finish(e.display, { format: 'unknown', findings: [f], complete: false }, opts.failOn));
    }
    if (item.walk.limit) {
      const f = walkLimit.check(`the walk stopped: ${item.walk.limit}; files beyond it were not scanned`, {
        file: item.display,
      });
      mine.push(finish(item.display, { format: 'folder', findings: [f], complete: false }, opts.failOn));
    }
    pushAll(mine, await repositoryResults(resolve(item.path), item.display, mine, opts.failOn));
    pushAll(results, mine);
  }
  const report: ScanReport = { version: 1, tool: { name: 'antidote', version: toolVersion() }, results };
  if (skipped.length) report.skipped = skipped;
  return report;
}
