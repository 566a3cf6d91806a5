import type { Command } from 'commander';
import { AntidoteError } from '../core/errors.js';
import { action } from './run.js';

// Placeholder until its issue lands.
export function registerLock(program: Command): void {
  program.command('lock').description('(not yet available)').allowUnknownOption().action(action(async () => {
    throw new AntidoteError('E_USAGE', '`antidote lock` is not available in this build yet');
  }));
}
export function registerVerify(program: Command): void {
  program.command('verify').description('(not yet available)').allowUnknownOption().action(action(async () => {
    throw new AntidoteError('E_USAGE', '`antidote verify` is not available in this build yet');
  }));
}
