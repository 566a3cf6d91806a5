import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import {
  type CommonFlags,
  commonOptions,
  digestOptions,
  examples,
  formatOption,
  outputOption,
  parseFormat,
  progressEnabled,
} from './conventions.js';
import { action, EXIT } from './run.js';
import { loadScriptBundle } from './script-bundle.js';

interface HashFlags extends CommonFlags {
  algorithm: string;
  format: string;
  output?: string;
  files?: boolean;
  shardSize?: string;
  workers?: string;
  progress?: boolean;
}

export function parsePositiveInt(value: string, flag: string): number {
  if (!/^\d+$/.test(value.trim()))
    throw usageError(`${flag} must be a positive whole number (got "${value}")`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw usageError(`${flag} must be a positive whole number (got "${value}")`);
  return n;
}

type HashImpl = typeof import('./hash-impl.js');

/** The bundled hash (dist/cli/hash.script.js, with its code cache) when newer than the compiled code, else the modules. */
async function loadImpl(): Promise<HashImpl> {
  const script = new URL('./hash.script.js', import.meta.url);
  let fresh = false;
  try {
    fresh =
      statSync(script).mtimeMs >= statSync(new URL('../provenance/hashing.js', import.meta.url)).mtimeMs;
  } catch {
    // no bundle (a development build): fall through
  }
  return fresh ? loadScriptBundle<HashImpl>(script).exports : import('./hash-impl.js');
}

export function registerHash(program: Command): void {
  const cmd = program
    .command('hash')
    .description('digests of files and folders (SHA-256 by default), hashed in parallel on worker threads')
    .argument('<path...>', 'files or folders')
    .option(
      '-a, --algorithm <name>',
      'digest algorithm: sha256, sha384, sha512, sha3-256, blake2b512, ...',
      'sha256',
    )
    .option('--files', 'text output: list every file of a folder (sha256sum-compatible lines)')
    .option(
      '--shard-size <bytes>',
      'also give digests of fixed-size shards of each file (OpenSSF model-signing style)',
    );
  digestOptions(cmd, 'files hashed at once, on worker threads (default: one per core)');
  formatOption(cmd, ['text', 'json']);
  outputOption(cmd, 'write to FILE instead of stdout');
  commonOptions(cmd);
  examples(cmd, [
    'antidote hash model.safetensors',
    'antidote hash ./models --files',
    'antidote hash ./models -a blake2b512 -f json -o digests.json',
  ]);
  cmd.action(
    action(async (paths: string[], flags: HashFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      checkIo(
        paths.map((path) => ({ path, dirOk: true })),
        [flags.output ? { path: flags.output, flag: '-o' } : undefined],
        { force: flags.force },
      );
      const { normaliseAlgorithm, hashPaths, createProgress, emit, renderJson, renderHashText } =
        await loadImpl();
      const algorithm = normaliseAlgorithm(flags.algorithm);
      const shardSize = flags.shardSize ? parsePositiveInt(flags.shardSize, '--shard-size') : undefined;
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      const progress = createProgress({ unit: 'MB', enabled: progressEnabled(flags) });
      const report = await hashPaths(paths, algorithm, { shardSize, workers, progress }).finally(() =>
        progress.stop(),
      );
      if (format === 'json') {
        await emit(renderJson(report), flags.output);
        return EXIT.ok;
      }
      await emit(renderHashText(report, { files: flags.files }), flags.output);
      return EXIT.ok;
    }),
  );
}
