/**
 * Exclusion globs for folder scans: `--exclude GLOB` (repeatable) and a `.antidoteignore` file at the root of
 * the scanned folder, with gitignore's syntax for the common cases: one pattern a line, `#` comments, `!` to
 * re-include, `*` and `?` within a path segment, `**` across segments, a trailing `/` for folders only, and a
 * pattern without a slash matching a name at any depth (with one, a path from the folder root).
 * Hand-written because Node 20 has no glob matcher (path.matchesGlob arrived in Node 22).
 */
export interface IgnoreRule {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
  /** Where the pattern came from, for the report: `--exclude PATTERN` or `.antidoteignore:LINE PATTERN`. */
  source: string;
}

function segmentRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` any folders (including none), `/**` everything below, `**` alone anything
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) out += '\\[';
      else {
        const body = glob
          .slice(i + 1, close)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return out;
}

export function parseIgnoreRule(line: string, source: string): IgnoreRule | undefined {
  let p = line.replace(/\r$/, '');
  if (!p.trim() || p.startsWith('#')) return undefined;
  p = p.replace(/(?<!\\)\s+$/, '');
  let negate = false;
  if (p.startsWith('!')) {
    negate = true;
    p = p.slice(1);
  }
  let dirOnly = false;
  if (p.endsWith('/')) {
    dirOnly = true;
    p = p.slice(0, -1);
  }
  const anchored = p.includes('/');
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('./')) p = p.slice(2);
  if (!p) return undefined;
  const body = segmentRegex(p);
  const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`);
  return { regex, negate, dirOnly, source };
}

export function parseIgnoreFile(text: string, name: string): IgnoreRule[] {
  const out: IgnoreRule[] = [];
  text.split('\n').forEach((line, i) => {
    const r = parseIgnoreRule(line, `${name}:${i + 1} ${line.trim()}`);
    if (r) out.push(r);
  });
  return out;
}

/** The rule that excludes `rel` (a path from the folder root, with `/`), or undefined when it is scanned. */
export function excludedBy(
  rules: readonly IgnoreRule[],
  rel: string,
  isDir: boolean,
): IgnoreRule | undefined {
  let hit: IgnoreRule | undefined;
  for (const r of rules) {
    if (r.dirOnly && !isDir) continue;
    if (r.regex.test(rel)) hit = r.negate ? undefined : r;
  }
  return hit;
}
