/**
 * Everything `antidote hash` runs, in one module graph. The build also bundles it into dist/cli/hash.script.js,
 * loaded with V8's code cache (scripts/bundle-cli.mjs), as for the scan: a hash of a large folder is
 * measured against openssl, process start included. src/cli/hash.ts loads the bundle when it is up to date
 * and this module otherwise.
 */
export { createProgress } from '../core/progress.js';
export { normaliseAlgorithm } from '../provenance/algorithms.js';
export { hashPaths } from '../provenance/hashing.js';
export { renderHashText } from '../provenance/render.js';
export { renderJson } from '../report/json.js';
export { emit } from '../report/output.js';
