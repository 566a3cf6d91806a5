/**
 * Everything `antidote scan` runs, in one module graph. The build also bundles this graph into
 * dist/cli/scan.script.js (esbuild, loaded with V8's code cache through dist/cli/scan.bundle.js): one file
 * instead of ~200 modules, compiled once at build time, is most of the scan's start-up time. src/cli/scan.ts
 * loads the bundle when it is up to date and this module otherwise.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type ScanOptions, scanPaths as scanAll } from '../artifacts/scan.js';
import type { ScanReport } from '../report/types.js';

export { ruleCatalog } from '../artifacts/rules.js';
export { createProgress } from '../core/progress.js';
export { renderScanJson } from '../report/json.js';
export { emit } from '../report/output.js';
export { renderScanSarif } from '../report/sarif.js';
export { renderScanText } from '../report/text.js';

/** A folder, or a file this large, has hot loops worth compiling on the spot (below). */
const LARGE_INPUT = 1024 * 1024;
let tuned = false;

// A scan runs each hot loop (20,000 zip headers, 640,000 pickle opcodes) once, cold. With concurrent
// on-stack replacement the loop keeps running in the interpreter until a background thread has compiled
// it, which on a busy machine is most of the loop; compiling on the spot cost about 25% less CPU on the
// 20,000-tensor checkpoint (bench/scan.bench.ts). The flag is read when a loop is replaced, so setting it
// before the scan takes effect; it changes no result. Small inputs skip it and the cost of loading node:v8.
function tuneFor(paths: readonly string[]): void {
  if (tuned) return;
  const large = paths.some((p) => {
    try {
      const st = statSync(p);
      return st.isDirectory() || st.size >= LARGE_INPUT;
    } catch {
      return false; // the scan reports it
    }
  });
  if (!large) return;
  tuned = true;
  (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString(
    '--no-concurrent-osr',
  );
}

export function scanPaths(paths: string[], opts: ScanOptions): Promise<ScanReport> {
  tuneFor(paths);
  return scanAll(paths, opts);
}
