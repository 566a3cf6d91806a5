/**
 * antidote: the command-line entry point. Each command lives in its own file and registers its flags;
 * heavy implementations are imported lazily inside the action so `antidote scan` starts fast.
 */
import { Command, CommanderError } from 'commander';
import { installInterruptCleanup } from '../core/atomic-write.js';
import { toolVersion } from '../core/version.js';
import { termSafe } from '../report/terminal.js';
import { registerAudit } from './audit.js';
import { registerBom } from './bom.js';
import { registerConvert } from './convert.js';
import { registerDemo } from './demo.js';
import { registerDiff } from './diff.js';
import { registerGate } from './gate.js';
import { registerGuard } from './guard.js';
import { registerHash } from './hash.js';
import { registerLock, registerVerify } from './lock.js';
import { EXIT, reportError } from './run.js';
import { registerScan } from './scan.js';
import { registerServe } from './serve.js';
import { registerSign, registerVerifySignature } from './sign.js';

const program = new Command();
program
  .name('antidote')
  .description('Defend machine-learning systems against poisoning: artifacts, training data, promotion.')
  .version(toolVersion(), '-V, --version')
  .option('--debug', 'show stack traces for errors')
  .option('--no-color', 'disable colours in text output')
  .exitOverride()
  .configureOutput({
    // A usage error is one line like every other error, ending with what to do. Arguments echoed in it
    // are data too: no escape sequence reaches the terminal.
    outputError: (str, write) => {
      const [first = '', ...more] = str.trim().split('\n').map(termSafe);
      const extra = more.map((l) => ` ${l.trim()}`).join('');
      write(`antidote: ${first}${extra}; run with --help for usage\n`);
    },
  });

program.addHelpText(
  'after',
  `
Examples:
  $ antidote scan ./my-model-repo
  $ antidote audit --trusted reference.csv --incoming batch.csv --label label
  $ antidote gate --trusted holdout.csv --label y --incumbent current.onnx --candidate new.onnx

Conventions: -o/--output FILE (one report), --out-dir DIR (a set of outputs), -f/--format, --force to
replace an existing output, -q/--quiet. Exit codes: 0 ok, 1 findings/block, 2 error, 130 interrupted.
`,
);

registerScan(program);
registerAudit(program);
registerGate(program);
registerGuard(program);
registerDemo(program);
registerServe(program);
registerConvert(program);
registerDiff(program);
registerHash(program);
registerLock(program);
registerVerify(program);
registerSign(program);
registerVerifySignature(program);
registerBom(program);

for (const cmd of program.commands) {
  cmd.exitOverride();
  // --help marks the flags a command cannot run without.
  for (const o of cmd.options) if (o.mandatory) o.description = `${o.description} (required)`;
}

// Ctrl-C and SIGTERM remove this run's temporary files and exit 130 / 143.
installInterruptCleanup();

// A reader that stops early (`antidote ... | head`) closes the pipe: stop quietly, as other tools do.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

process.on('unhandledRejection', (err) => {
  reportError(err);
  process.exit(EXIT.error);
});

// No top-level await: the build also makes this graph a plain script that V8 can cache (scripts/bundle-cli.mjs).
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; every usage error exits 2 (commander already printed the message).
    const ok =
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help';
    process.exitCode = ok ? EXIT.ok : EXIT.error;
  } else {
    reportError(err);
    process.exitCode = EXIT.error;
  }
});
