/**
 * Bundles for a fast start (run by `npm run build` after tsc):
 *
 * 1. dist/cli/main.bundle.js: the CLI entry (dist/cli/main.js) and everything it imports statically (commander,
 *    the command registrations, a few small core modules) in one file instead of ~20, and commander as ESM
 *    instead of CommonJS parsed by the ESM loader. Every dynamic import() stays a separate module loaded when a
 *    command runs, so a command still pays only for what it uses. bin/antidote.js uses the bundle when it is
 *    newer than dist/cli/main.js.
 *
 * 2. dist/cli/scan.script.js: everything `antidote scan` runs (dist/cli/scan-impl.js) as one plain script, with
 *    the bytecode V8 compiles for it saved beside it (scan.script.js.cache) after one small scan, so a scan
 *    starts without compiling ~450 KB of JavaScript; dist/cli/scan.bundle.js is the ES module that loads it
 *    (src/cli/script-bundle.ts) and re-exports what scan-impl exports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Less source for V8 to parse at every start; names are kept so --debug stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
};

const lazy = {
  name: 'keep-dynamic-imports-lazy',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
    );
  },
};

await build({
  ...common,
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/main.bundle.js',
  format: 'esm',
  plugins: [lazy],
  // commander is CommonJS and requires node built-ins: give the ESM bundle a real require. It requires
  // node:child_process (with net, dgram and streams behind it, ~5 ms) only to run executable subcommands,
  // which antidote has none of: that module is loaded when a property of it is first read.
  banner: {
    js: `import { createRequire as __antidoteRequire } from 'node:module';
const __antidoteReq = __antidoteRequire(import.meta.url);
const __antidoteLazy = (id) => new Proxy({}, { get: (_, k) => __antidoteReq(id)[k] });
const require = (id) => (id === 'node:child_process' ? __antidoteLazy(id) : __antidoteReq(id));`,
  },
});

// Packages the scan loads from node_modules at run time (native code, wasm, or optional codecs).
const external = [
  'h5wasm',
  'onnxruntime-node',
  'picocolors',
  'cli-progress',
  'commander',
  'xz-decompress',
  'seek-bzip',
];
const scanOut = await build({
  ...common,
  entryPoints: ['dist/cli/scan-impl.js'],
  write: false,
  outfile: 'dist/cli/scan.script.js',
  format: 'cjs',
  external,
  // The script runs inside the function src/cli/script-bundle.ts wraps it in, which supplies these two.
  define: { 'import.meta.url': '__importMetaUrl' },
});
let script = scanOut.outputFiles[0].text;
// import() of an external package: through the loader, an ES module in the same folder (a script compiled
// with node:vm has no module loader of its own).
script = script.replace(/\bimport\((?=["'`])/g, '__dynamicImport(');
const left = /\bimport\(/.exec(script);
if (left)
  throw new Error(`scan.script.js: an import() the build cannot route: ${script.slice(left.index, left.index + 60)}`);
writeFileSync('dist/cli/scan.script.js', script);

// Load it once without a cache, run a small scan of each common kind so V8 compiles what a scan calls, then
// save the bytecode. This process runs with node's default flags, as `antidote` does.
const { loadScriptBundle, cacheFileOf } = await import('../dist/cli/script-bundle.js');
const scriptUrl = new URL('../dist/cli/scan.script.js', import.meta.url);
const loaded = loadScriptBundle(scriptUrl, { useCache: false });
const impl = loaded.exports;
const work = mkdtempSync(join(tmpdir(), 'antidote-bundle-'));
try {
  const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(join(work, 'model.safetensors'), Buffer.concat([len, header, Buffer.alloc(8)]));
  // protocol 2: {'a': 1}
  writeFileSync(join(work, 'model.pkl'), Buffer.from('80027d710058010000006171014b01732e', 'hex'));
  for (const name of ['model.safetensors', 'model.pkl']) {
    const report = await impl.scanPaths([join(work, name)], { failOn: 'high', allow: [] });
    if (report.results[0]?.verdict !== 'pass') throw new Error(`bundle warm-up: ${name} did not pass`);
    impl.renderScanText(report, { colour: false });
    impl.renderScanJson(report);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeFileSync(cacheFileOf(fileURLToPath(scriptUrl)), loaded.script.createCachedData());

const names = Object.keys(impl).sort();
writeFileSync(
  'dist/cli/scan.bundle.js',
  `// Generated by scripts/bundle-cli.mjs: the scan's code (scan.script.js), loaded with its V8 code cache.
import { loadScriptBundle } from './script-bundle.js';
const m = loadScriptBundle(new URL('./scan.script.js', import.meta.url)).exports;
export const { ${names.join(', ')} } = m;
`,
);
