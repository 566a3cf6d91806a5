import type { Command } from 'commander';
import { AntidoteError } from '../core/errors.js';
import { action } from './run.js';

// Placeholder until its issue lands: registered so that help lists it, fails with exit 2.
export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new AntidoteError('E_USAGE', '`antidote convert` is not available in this build yet');
      }),
    );
}
