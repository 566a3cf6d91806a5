/**
 * antidote: the command-line entry point. Each command lives in its own file and registers its flags;
 * heavy implementations are imported lazily inside the action so `antidote scan` starts fast.
 */
import { Command, CommanderError } from 'commander';
import { toolVersion } from '../core/version.js';
import { registerAudit } from './audit.js';
import { registerBom } from './bom.js';
import { registerConvert } from './convert.js';
import { registerDemo } from './demo.js';
import { registerDiff } from './diff.js';
import { registerGate } from './gate.js';
import { registerHash } from './hash.js';
import { registerLock, registerVerify } from './lock.js';
import { EXIT, reportError } from './run.js';
import { registerScan } from './scan.js';
import { registerSign, registerVerifySignature } from './sign.js';

const program = new Command();
program
  .name('antidote')
  .description('Defend machine-learning systems against poisoning: artifacts, training data, promotion.')
  .version(toolVersion(), '-V, --version')
  .option('--debug', 'show stack traces for errors')
  .option('--no-color', 'disable colours in text output')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) });

registerScan(program);
registerAudit(program);
registerGate(program);
registerDemo(program);
registerConvert(program);
registerDiff(program);
registerHash(program);
registerLock(program);
registerVerify(program);
registerSign(program);
registerVerifySignature(program);
registerBom(program);

for (const cmd of program.commands) cmd.exitOverride();

process.on('unhandledRejection', (err) => {
  reportError(err);
  process.exit(EXIT.error);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
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
}
