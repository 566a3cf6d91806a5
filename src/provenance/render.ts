/** Text renderings of provenance results (hash listings, verification findings). */
import type { Finding } from '../core/finding.js';
import { termSafe, termSafeDeep } from '../report/terminal.js';
import { renderFindingLine } from '../report/text.js';
import type { HashReport } from './hashing.js';

const joinPath = (root: string, rel: string) => (rel === '.' ? root : `${root.replace(/\/+$/, '')}/${rel}`);

/**
 * sha256sum-style lines: `<digest>  <path>`. A folder gives one line `<digest>  <folder>/` (the
 * folder digest), or with `files` one line per file (these lines `sha256sum -c` accepts) and symlinks
 * as comments.
 */
export function renderHashText(raw: HashReport, opts: { files?: boolean } = {}): string {
  const report = termSafeDeep(raw);
  const out: string[] = [];
  for (const r of report.results) {
    if (r.kind === 'file') {
      out.push(`${r.digest}  ${r.path}`);
      for (const s of r.entries[0].shards ?? []) out.push(`${s.digest}  ${r.path}:${s.start}:${s.end}`);
      continue;
    }
    if (!opts.files) {
      out.push(`${r.digest}  ${r.path.replace(/\/+$/, '')}/`);
      continue;
    }
    for (const e of r.entries) {
      const p = joinPath(r.path, e.path);
      if (e.type === 'file') {
        out.push(`${e.digest}  ${p}`);
        for (const s of e.shards ?? []) out.push(`${s.digest}  ${p}:${s.start}:${s.end}`);
      } else if (e.type === 'symlink') out.push(`# symlink ${p} -> ${e.target}`);
      else out.push(`# special file ${p}`);
    }
    out.push(`# ${report.algorithm} folder digest (${report.folderDigest}) of ${r.path}: ${r.digest}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderFindings(
  title: string,
  findings: readonly Finding[],
  colour: boolean,
  okLine: string,
): string {
  if (findings.length === 0) return `${termSafe(okLine)}\n`;
  const lines = [`${termSafe(title)}: ${findings.length} finding${findings.length === 1 ? '' : 's'}`];
  for (const f of findings) lines.push(renderFindingLine(f, colour));
  return `${lines.join('\n')}\n`;
}
