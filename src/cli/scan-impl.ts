/**
 * Everything `antidote scan` runs, in one module graph. The build also bundles this graph into
 * dist/cli/scan.bundle.js (esbuild): one file instead of ~200 modules (zod alone is 95) is most of the
 * scan's start-up time. src/cli/scan.ts loads the bundle when it is up to date and this module otherwise.
 */
import { setFlagsFromString } from 'node:v8';

export { ruleCatalog } from '../artifacts/rules.js';
export { scanPaths } from '../artifacts/scan.js';
export { createProgress } from '../core/progress.js';
export { renderScanJson } from '../report/json.js';
export { emit } from '../report/output.js';
export { renderScanSarif } from '../report/sarif.js';
export { renderScanText } from '../report/text.js';

// A scan runs each hot loop (20,000 zip headers, 640,000 pickle opcodes) once, cold. With concurrent
// on-stack replacement the loop keeps running in the interpreter until a background thread has compiled
// it, which on a busy machine is most of the loop; compiling on the spot cost about 25% less CPU on the
// 20,000-tensor checkpoint (bench/scan.bench.ts). The flag is read when a loop is replaced, so setting it
// here, before any scan, takes effect; it changes no result.
setFlagsFromString('--no-concurrent-osr');
