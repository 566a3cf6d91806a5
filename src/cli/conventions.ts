/**
 * One convention for every command's flags, so a user learns them once:
 *   -o, --output FILE   a single report (stdout when absent)
 *   --out-dir DIR       a set of outputs (audit, gate, demo); `--out` stays as a hidden alias
 *   -f, --format FMT    the report's format
 *   --force             replace outputs that exist (without it an existing output is exit 2)
 *   -q, --quiet         no progress bar, no status lines; the report still goes where it was asked
 * Required flags are marked "(required)" and every --help ends with examples.
 */
import { type Command, Option } from 'commander';
import { usageError } from '../core/errors.js';

export interface CommonFlags {
  force?: boolean;
  quiet?: boolean;
  progress?: boolean;
}

/** `--force` and `-q/--quiet`, on every command that writes or prints. */
export function commonOptions(cmd: Command, opts: { force?: boolean } = { force: true }): Command {
  if (opts.force !== false) cmd.option('--force', 'replace output files that already exist');
  cmd.option('-q, --quiet', 'no progress bar and no status lines (errors still go to stderr)');
  return cmd;
}

/** `--workers` and `--no-progress`, shared by the commands that digest many files (hash, lock, sign, verify). */
export function digestOptions(cmd: Command, workers = 'worker threads (default: one per core)'): Command {
  return cmd.option('--workers <n>', workers).option('--no-progress', 'never show a progress bar');
}

/** `-o/--output FILE` for a command's single report. */
export function outputOption(cmd: Command, what: string, defaultValue?: string): Command {
  const o = new Option('-o, --output <file>', what);
  if (defaultValue !== undefined) o.default(defaultValue);
  return cmd.addOption(o);
}

/** `--out-dir DIR` for a command's set of outputs, with `--out` kept as a hidden alias. */
export function outDirOption(cmd: Command, what: string, defaultValue?: string): Command {
  const o = new Option('--out-dir <dir>', what);
  if (defaultValue !== undefined) o.default(defaultValue);
  cmd.addOption(o);
  cmd.addOption(new Option('--out <dir>', 'old spelling of --out-dir').hideHelp());
  return cmd;
}

/** The folder given by --out-dir or its old spelling --out (the explicit one wins over a default). */
export function outDirOf(flags: { outDir?: string; out?: string }, cmd?: Command): string | undefined {
  if (flags.out !== undefined && flags.outDir !== undefined && cmd?.getOptionValueSource('outDir') === 'cli')
    throw usageError('give --out-dir once (--out is its old spelling)');
  return flags.out ?? flags.outDir;
}

const listOf = (xs: readonly string[]) =>
  xs.length === 1 ? xs[0] : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;

/** `-f/--format`; check the value with parseFormat. */
export function formatOption(cmd: Command, formats: string[], defaultValue = 'text'): Command {
  return cmd.option('-f, --format <format>', `output format: ${listOf(formats)}`, defaultValue);
}

export function parseFormat<F extends string>(value: string, formats: readonly F[]): F {
  const v = value.toLowerCase();
  if (!(formats as readonly string[]).includes(v)) {
    const list =
      formats.length === 2 ? formats.join(' or ') : `${formats.slice(0, -1).join(', ')} or ${formats.at(-1)}`;
    throw usageError(`--format must be ${list} (got "${value}")`);
  }
  return v as F;
}

/** "Examples:" at the end of --help. */
export function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** Progress is shown unless --no-progress or --quiet. */
export function progressEnabled(flags: CommonFlags): false | undefined {
  return flags.progress === false || flags.quiet ? false : undefined;
}

/** Write a status line to stderr unless --quiet. */
export function status(flags: CommonFlags, line: string): void {
  if (!flags.quiet) process.stderr.write(`${line}\n`);
}
