/**
 * Bundles for a fast start (run by `npm run build` after tsc). Node 20 has no compile cache for ES modules,
 * and compiling the CLI's JavaScript, then lazily compiling each function a command calls, is most of what
 * `antidote` costs before it does any work. So the two hot paths are built as plain scripts, each run once
 * here so that V8 compiles what a run calls, and the bytecode V8 made is saved beside the script
 * (`<script>.cache`); src/cli/script-bundle.ts loads a script with its cache.
 *
 * 1. dist/cli/main.script.js: the CLI entry (dist/cli/main.js) and everything it imports statically
 *    (commander, the command registrations, a few small core modules). Every dynamic import() stays a
 *    separate module loaded when a command runs, so a command still pays only for what it uses.
 *    bin/antidote.js runs it when it is newer than dist/cli/main.js.
 * 2. dist/cli/scan.script.js: everything `antidote scan` runs (dist/cli/scan-impl.js), loaded by src/cli/scan.ts;
 *    dist/cli/scan.bundle.js is an ES module that loads it and re-exports what scan-impl exports (benchmarks).
 * 3. dist/cli/hash.script.js: everything `antidote hash` runs (dist/cli/hash-impl.js), loaded by src/cli/hash.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { cacheFileOf, loadScriptBundle, wrapSource } from '../dist/cli/script-bundle.js';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Less source for V8 to parse at every start; names are kept so --debug stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
  // The script runs inside the function src/cli/script-bundle.ts wraps it in, which supplies this.
  define: { 'import.meta.url': '__importMetaUrl' },
};

// Dynamic imports stay separate modules, loaded when a command runs.
const lazy = {
  name: 'keep-dynamic-imports-lazy',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
    );
  },
};

// commander requires node:child_process (with net, dgram and streams behind it, ~5 ms) only to run executable
// subcommands, which antidote has none of: it gets a stand-in that loads the module when first used.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes('node_modules') ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, k) => require('node:child_process')[k] });",
      loader: 'js',
    }));
  },
};

/**
 * Bundle `entry` as a plain script (a CommonJS body). Every `import()` goes through the loader, an ES module
 * in the same folder (a script compiled with node:vm has no module loader of its own), so relative and
 * package specifiers resolve as they would from `out`.
 */
async function buildScript(entry, out, opts) {
  const r = await build({ ...common, entryPoints: [entry], write: false, outfile: out, ...opts });
  writeFileSync(out, wrapSource(r.outputFiles[0].text.replace(/\bimport\(/g, '__dynamicImport(')));
}

await buildScript('dist/cli/main.js', 'dist/cli/main.script.js', { plugins: [lazy, lazyChildProcess] });
// The former ES-module bundle of the same entry: never newer than main.js again, so never used; removed.
rmSync('dist/cli/main.bundle.js', { force: true });

// Packages the scan loads from node_modules at run time (native code, wasm, or optional codecs).
const external = [
  'h5wasm',
  'onnxruntime-node',
  'cli-progress',
  'commander',
  'xz-decompress',
  'seek-bzip',
];
await buildScript('dist/cli/scan-impl.js', 'dist/cli/scan.script.js', { external });
await buildScript('dist/cli/hash-impl.js', 'dist/cli/hash.script.js', { external });

// A small scan of each common kind (a safetensors file, a pickle), with text and JSON reports: what most scans
// run. Its files are made here, in a temporary folder removed afterwards.
const work = mkdtempSync(join(tmpdir(), 'antidote-bundle-'));
try {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const st = join(work, 'model.safetensors');
  writeFileSync(st, Buffer.concat([len, header, Buffer.alloc(8)]));
  const pkl = join(work, 'model.pkl');
  writeFileSync(pkl, Buffer.from('80027d710058010000006171014b01732e', 'hex')); // protocol 2: {'a': 1}

  // The scan script, in this process (node's default flags, as `antidote` runs with).
  const scanUrl = new URL('../dist/cli/scan.script.js', import.meta.url);
  const loaded = loadScriptBundle(scanUrl, { useCache: false });
  const impl = loaded.exports;
  for (const file of [st, pkl]) {
    const report = await impl.scanPaths([file], { failOn: 'high', allow: [] });
    if (report.results[0]?.verdict !== 'pass') throw new Error(`bundle warm-up: ${file} did not pass`);
    impl.renderScanText(report, { colour: false });
    impl.renderScanJson(report);
  }
  writeFileSync(cacheFileOf(fileURLToPath(scanUrl)), loaded.script.createCachedData());
  const names = Object.keys(impl).sort();
  writeFileSync(
    'dist/cli/scan.bundle.js',
    `// Generated by scripts/bundle-cli.mjs: the scan's code (scan.script.js), loaded with its V8 code cache.
import { loadScriptBundle } from './script-bundle.js';
const m = loadScriptBundle(new URL('./scan.script.js', import.meta.url)).exports;
export const { ${names.join(', ')} } = m;
`,
  );

  // The hash script: a folder of small files (hashed on this thread), both reports.
  const hashUrl = new URL('../dist/cli/hash.script.js', import.meta.url);
  const hashed = loadScriptBundle(hashUrl, { useCache: false });
  const report = await hashed.exports.hashPaths([work], hashed.exports.normaliseAlgorithm('sha256'), {});
  hashed.exports.renderHashText(report, { files: true });
  hashed.exports.renderJson(report);
  writeFileSync(cacheFileOf(fileURLToPath(hashUrl)), hashed.script.createCachedData());

  // The CLI script runs a command when loaded, so it is warmed in a process of its own: `antidote scan -q`.
  const mainScript = fileURLToPath(new URL('../dist/cli/main.script.js', import.meta.url));
  const bin = fileURLToPath(new URL('../bin/antidote.js', import.meta.url));
  const warm = `
import { writeFileSync } from 'node:fs';
import { cacheFileOf, loadScriptBundle } from ${JSON.stringify(new URL('../dist/cli/script-bundle.js', import.meta.url).href)};
process.argv = [process.execPath, ${JSON.stringify(bin)}, 'scan', '-q', ${JSON.stringify(st)}, ${JSON.stringify(pkl)}];
const { script } = loadScriptBundle(new URL(${JSON.stringify(new URL('../dist/cli/main.script.js', import.meta.url).href)}), { useCache: false });
process.on('exit', (code) => {
  if (code === 0) writeFileSync(cacheFileOf(${JSON.stringify(mainScript)}), script.createCachedData());
});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', warm], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle warm-up of the CLI failed (${r.status}): ${r.stderr || r.stdout}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
