import type { Command } from 'commander';
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
import { parsePositiveInt } from './hash.js';
import { action, EXIT, useColour } from './run.js';

interface LockFlags extends CommonFlags {
  output: string;
  algorithm: string;
  workers?: string;
  progress?: boolean;
}

interface VerifyFlags extends CommonFlags {
  lock: string;
  format: string;
  output?: string;
  workers?: string;
  progress?: boolean;
}

/** An existing output inside the signed or locked folder may be replaced only when it is an earlier lock file. */
const REPLACEABLE = (head: string) => /^\{\s*"lockVersion"/.test(head);

export function registerLock(program: Command): void {
  const cmd = program
    .command('lock')
    .description(
      'record every file of artifacts (path, type, size, digest; symlinks with targets) in a lock file',
    )
    .argument('<path...>', 'files or folders to record')
    .option('-a, --algorithm <name>', 'digest algorithm', 'sha256');
  digestOptions(cmd);
  outputOption(cmd, 'lock file to write', 'antidote.lock');
  commonOptions(cmd);
  examples(cmd, [
    'antidote lock ./models',
    'antidote lock model.safetensors tokenizer.json -o release.lock',
    'antidote lock ./models -o antidote.lock --force -a sha512',
  ]);
  cmd.action(
    action(async (paths: string[], flags: LockFlags) => {
      checkIo(
        paths.map((path) => ({ path, dirOk: true })),
        [{ path: flags.output, flag: '-o', replaceable: REPLACEABLE }],
        { force: flags.force },
      );
      const { normaliseAlgorithm } = await import('../provenance/algorithms.js');
      const algorithm = normaliseAlgorithm(flags.algorithm);
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      const { buildLock } = await import('../provenance/lock.js');
      const { createProgress } = await import('../core/progress.js');
      const progress = createProgress({ unit: 'MB', enabled: progressEnabled(flags) });
      const { lock, findings } = await buildLock(paths, flags.output, algorithm, {
        workers,
        progress,
      }).finally(() => progress.stop());
      const { writeFileAtomic } = await import('../core/atomic-write.js');
      await writeFileAtomic(flags.output, `${JSON.stringify(lock, null, 2)}\n`);
      const files = lock.roots.reduce((s, r) => s + r.entries.length, 0);
      if (!flags.quiet)
        process.stdout.write(
          `wrote ${flags.output}: ${files} file${files === 1 ? '' : 's'} in ${lock.roots.length} artifact${lock.roots.length === 1 ? '' : 's'} (${algorithm})\n`,
        );
      if (findings.length) {
        const { renderFindings } = await import('../provenance/render.js');
        process.stdout.write(renderFindings('recorded, but', findings, useColour(), ''));
        return EXIT.findings;
      }
      return EXIT.ok;
    }),
  );
}

export function registerVerify(program: Command): void {
  const cmd = program
    .command('verify')
    .description('check artifacts against a lock file: names every added, removed, changed or re-typed file')
    .argument('[path...]', 'files or folders to check (default: every artifact in the lock file)')
    .option('-l, --lock <file>', 'lock file', 'antidote.lock');
  digestOptions(cmd);
  formatOption(cmd, ['text', 'json']);
  outputOption(cmd, 'write the report to FILE instead of stdout');
  commonOptions(cmd);
  examples(cmd, [
    'antidote verify',
    'antidote verify ./models -l release.lock',
    'antidote verify -l antidote.lock -f json -o verify.json',
  ]);
  cmd.action(
    action(async (paths: string[], flags: VerifyFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      checkIo(
        [{ path: flags.lock, flag: '--lock' }, ...paths.map((path) => ({ path, dirOk: true }))],
        [flags.output ? { path: flags.output, flag: '-o' } : undefined],
        { force: flags.force },
      );
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      const { verifyLock } = await import('../provenance/lock.js');
      const { createProgress } = await import('../core/progress.js');
      const progress = createProgress({ unit: 'MB', enabled: progressEnabled(flags) });
      const result = await verifyLock(flags.lock, paths, { workers, progress }).finally(() =>
        progress.stop(),
      );
      const { emit } = await import('../report/output.js');
      const ok = result.findings.length === 0;
      if (format === 'json') {
        const { renderJson } = await import('../report/json.js');
        const { toolVersion } = await import('../core/version.js');
        await emit(
          renderJson({
            version: 1,
            tool: { name: 'antidote', version: toolVersion() },
            lock: flags.lock,
            verified: ok,
            checked: result.checked,
            findings: result.findings,
          }),
          flags.output,
        );
      } else if (flags.output || !flags.quiet) {
        const { renderFindings } = await import('../provenance/render.js');
        const files = result.checked.reduce((s, c) => s + c.files, 0);
        await emit(
          renderFindings(
            `verification against ${flags.lock} FAILED`,
            result.findings,
            useColour(flags.output),
            `verified: ${files} file${files === 1 ? '' : 's'} match ${flags.lock}`,
          ),
          flags.output,
        );
      }
      return ok ? EXIT.ok : EXIT.findings;
    }),
  );
}
