#!/usr/bin/env node
import { readFileSync, statSync } from 'node:fs';

// `antidote --version` alone needs no argument parser: answer it before loading one.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
  process.exit(0);
}

// The bundled entry (one script with V8's code cache, built by scripts/bundle-cli.mjs) when it is at least as
// new as the compiled one; otherwise the module graph (a tsc-only rebuild, a development checkout).
const script = new URL('../dist/cli/main.script.js', import.meta.url);
let main;
try {
  main = statSync(new URL('../dist/cli/main.js', import.meta.url)).mtimeMs;
} catch {
  // A fresh clone before `npm run build`: say what to do, not a module-resolution stack trace.
  process.stderr.write('antidote: not built yet: run `npm run build` in the clone, then run this again\n');
  process.exit(2);
}
let fresh = false;
try {
  fresh = statSync(script).mtimeMs >= main;
} catch {
  // no bundle: fall through
}
if (fresh) (await import('../dist/cli/script-bundle.js')).loadScriptBundle(script);
else await import('../dist/cli/main.js');
