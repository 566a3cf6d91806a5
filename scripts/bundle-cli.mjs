/**
 * Bundle the CLI entry (dist/cli/main.js) and everything it imports statically (commander, the command
 * registrations, a few small core modules) into dist/cli/main.bundle.js: one file instead of ~20, and
 * commander as ESM instead of CommonJS parsed by the ESM loader, which is most of `antidote --version`.
 * Every dynamic import() stays a separate module loaded when a command runs, so a command still pays
 * only for what it uses. bin/antidote.js uses the bundle when it is newer than dist/cli/main.js.
 */
import { build } from 'esbuild';

const lazy = {
  name: 'keep-dynamic-imports-lazy',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
    );
  },
};

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/cli/main.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [lazy],
  // commander is CommonJS and requires node built-ins: give the ESM bundle a real require.
  banner: { js: "import { createRequire as __antidoteRequire } from 'node:module'; const require = __antidoteRequire(import.meta.url);" },
  // Less source for V8 to parse at every start; names are kept so --debug stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  logLevel: 'warning',
});
