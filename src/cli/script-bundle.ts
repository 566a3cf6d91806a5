/**
 * Load a bundle built as a plain script (scripts/bundle-cli.mjs) with V8's code cache. Node 20 has no
 * compile cache for ES modules, and compiling the scanner's ~450 KB bundle, then lazily compiling each
 * function the first scan calls, is a large part of `antidote scan`'s start-up. The build runs one small
 * scan and saves the bytecode V8 made (`<bundle>.cache`); here V8 reads it back instead of compiling.
 *
 * Same code either way: V8 refuses a cache made by another V8 version or with other flags (it then compiles
 * the source as usual), and a cache older than its bundle is not offered at all, so a rebuilt bundle is never
 * run with another build's bytecode.
 *
 * The build writes the bundle wrapped as a function of (exports, require, module, __filename, __dirname,
 * importMetaUrl, dynamicImport) (wrapSource): `import.meta.url` and `import()` are handed in from here, an ES
 * module in the same folder, so they resolve as they would in the bundle's own file.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const PARAMS = '(exports, require, module, __filename, __dirname, __importMetaUrl, __dynamicImport)';

export function wrapSource(source: string): string {
  return `(function ${PARAMS} {${source}\n})`;
}

export function cacheFileOf(file: string): string {
  return `${file}.cache`;
}

function cacheFor(file: string, cacheFile: string): Buffer | undefined {
  try {
    if (statSync(cacheFile).mtimeMs < statSync(file).mtimeMs) return undefined;
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

export interface LoadedBundle<T> {
  exports: T;
  script: Script;
  /** The cache was offered and V8 used it. */
  cached: boolean;
}

/** Compile (from the cache when V8 accepts it) and run the wrapped bundle at `url`; returns its exports. */
export function loadScriptBundle<T>(url: URL, opts: { useCache?: boolean } = {}): LoadedBundle<T> {
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const cachedData = opts.useCache === false ? undefined : cacheFor(file, cacheFileOf(file));
  const script = new Script(source, { filename: file, cachedData });
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as T };
  fn(
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
    url.href,
    (specifier: string) => import(specifier),
  );
  return { exports: module.exports, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}
