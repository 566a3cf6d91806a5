import type { Command } from 'commander';
import { AntidoteError } from '../core/errors.js';
import { action } from './run.js';

// Placeholder until its issue lands: registered so that help lists it, fails with exit 2.
export function registerBom(program: Command): void {
  program
    .command('bom')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new AntidoteError('E_USAGE', '`antidote bom` is not available in this build yet');
      }),
    );
}
