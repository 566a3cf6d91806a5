import type { Command } from 'commander';
import { AntidoteError } from '../core/errors.js';
import { action } from './run.js';

// Placeholder until its issue lands.
export function registerSign(program: Command): void {
  program.command('sign').description('(not yet available)').allowUnknownOption().action(action(async () => {
    throw new AntidoteError('E_USAGE', '`antidote sign` is not available in this build yet');
  }));
}
export function registerVerifySignature(program: Command): void {
  program.command('verify-signature').description('(not yet available)').allowUnknownOption().action(action(async () => {
    throw new AntidoteError('E_USAGE', '`antidote verify-signature` is not available in this build yet');
  }));
}
