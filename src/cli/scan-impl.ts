/**
 * Everything `antidote scan` runs, in one module graph. The build also bundles this graph into
 * dist/cli/scan.bundle.js (esbuild): one file instead of ~200 modules (zod alone is 95) is most of the
 * scan's start-up time. src/cli/scan.ts loads the bundle when it is up to date and this module otherwise.
 */
export { ruleCatalog } from '../artifacts/rules.js';
export { scanPaths } from '../artifacts/scan.js';
export { createProgress } from '../core/progress.js';
export { renderScanJson } from '../report/json.js';
export { emit } from '../report/output.js';
export { renderScanSarif } from '../report/sarif.js';
export { renderScanText } from '../report/text.js';
