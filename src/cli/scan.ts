import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { AntidoteError, type ErrorCode, usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import type { Severity } from '../core/severity.js';
import { DEFAULT_FAIL_ON } from '../core/verdict.js';
import {
  type CommonFlags,
  commonOptions,
  examples,
  formatOption,
  outputOption,
  parseFormat,
  progressEnabled,
} from './conventions.js';
import { postIfAsked, postOption, postTarget } from './post.js';
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';
import { loadScriptBundle } from './script-bundle.js';

interface ScanFlags extends CommonFlags {
  format: string;
  output?: string;
  failOn: string;
  allow?: string[];
  post?: string;
  policy?: string;
  verbose?: boolean;
  exclude?: string[];
  sarifLevel?: string;
}

type ScanImpl = typeof import('./scan-impl.js');

/**
 * The bundled scan (dist/cli/scan.script.js, loaded with its code cache) when the build made one after the
 * last compile, else the module graph. A bundle older than the compiled scanner is never used, so a tsc-only
 * rebuild is safe.
 */
async function loadImpl(): Promise<ScanImpl> {
  const script = new URL('./scan.script.js', import.meta.url);
  let fresh = false;
  try {
    fresh = statSync(script).mtimeMs >= statSync(new URL('../artifacts/scan.js', import.meta.url)).mtimeMs;
  } catch {
    // no bundle (a development build): fall through
  }
  return fresh ? loadScriptBundle<ScanImpl>(script).exports : import('./scan-impl.js');
}

/**
 * The bundle carries its own copy of AntidoteError, which `instanceof` in ./run.js does not recognise: a
 * user error (a missing file, a bad policy) thrown by the bundled scan would be reported as an internal
 * error without its hint. Such an error is re-made as this module graph's AntidoteError.
 */
function asCliError(err: unknown): unknown {
  if (err instanceof AntidoteError || !(err instanceof Error) || err.name !== 'AntidoteError') return err;
  const e = err as Error & { code?: unknown; hint?: string };
  if (typeof e.code !== 'string') return err;
  const out = new AntidoteError(e.code as ErrorCode, e.message, { hint: e.hint, cause: e.cause });
  out.stack = e.stack;
  return out;
}

export function registerScan(program: Command): void {
  const cmd = program
    .command('scan')
    .description('scan model artifacts without executing them (allowlist first, fail closed)')
    .argument('<path...>', 'files or folders to scan; folders are walked, one result per file');
  formatOption(cmd, ['text', 'json', 'sarif']);
  outputOption(cmd, 'write the report to FILE (atomically) instead of stdout');
  commonOptions(cmd);
  examples(cmd, [
    'antidote scan model.pt',
    'antidote scan ./my-model-repo -f sarif -o antidote.sarif',
    'antidote scan checkpoints/ --allow mypkg.layers.Custom --fail-on medium',
  ]);
  cmd
    .option('--fail-on <severity>', 'block a file with a finding at or above this severity', DEFAULT_FAIL_ON)
    .option(
      '--allow <name>',
      'allow a fully qualified global, e.g. mypkg.layers.Custom (repeatable)',
      collect,
    )
    .option('--policy <file>', 'policy file (JSON): {"profiles": [...], "allow": [...]}')
    .addOption(postOption())
    .option('-v, --verbose', 'also show informational findings in text output')
    .option('--no-progress', 'never show a progress bar')
    .option(
      '--exclude <glob>',
      'do not scan files or folders matching GLOB in a scanned folder (repeatable)',
      collect,
    )
    .option(
      '--sarif-level <severity>',
      'lowest severity that becomes a SARIF result (default: the --fail-on level)',
    )
    .action(
      action(async (paths: string[], flags: ScanFlags) => {
        const format = parseFormat(flags.format, ['text', 'json', 'sarif']);
        const failOn = parseSeverity(flags.failOn);
        postTarget(flags.post);
        if (flags.sarifLevel !== undefined) parseSeverity(flags.sarifLevel, '--sarif-level');
        checkIo(
          [
            ...paths.map((path) => ({ path, dirOk: true })),
            flags.policy ? { path: flags.policy, flag: '--policy' } : undefined,
          ],
          [flags.output ? { path: flags.output, flag: '-o' } : undefined],
          { force: flags.force },
        );
        try {
          return await runScan(paths, flags, format, failOn);
        } catch (err) {
          throw asCliError(err);
        }
      }),
    );
}

async function runScan(paths: string[], flags: ScanFlags, format: string, failOn: Severity): Promise<number> {
  const impl = await loadImpl();
  const progress = impl.createProgress({ enabled: progressEnabled(flags), unit: 'files' });
  let report: Awaited<ReturnType<ScanImpl['scanPaths']>>;
  try {
    report = await impl.scanPaths(paths, {
      failOn,
      allow: flags.allow ?? [],
      policyFile: flags.policy,
      progress,
      exclude: flags.exclude ?? [],
    });
  } finally {
    progress.stop();
  }
  if (report.results.length === 0)
    throw usageError(`nothing was scanned: ${paths.join(', ')} holds no files`, 'check the path or the glob');
  let text: string;
  if (format === 'json') text = impl.renderScanJson(report);
  else if (format === 'sarif')
    text = impl.renderScanSarif(report, await impl.ruleCatalog(), {
      minSeverity: flags.sarifLevel !== undefined ? parseSeverity(flags.sarifLevel, '--sarif-level') : failOn,
    });
  else text = impl.renderScanText(report, { colour: useColour(flags.output), verbose: flags.verbose });
  if (!(flags.quiet && format === 'text' && !flags.output)) await impl.emit(text, flags.output);
  await postIfAsked(flags.post, 'scan', report);
  return report.results.some((r) => r.verdict === 'block') ? EXIT.findings : EXIT.ok;
}
