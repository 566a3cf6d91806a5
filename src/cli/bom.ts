import type { Command } from 'commander';
import { checkIo } from '../core/paths.js';
import {
  type CommonFlags,
  commonOptions,
  examples,
  formatOption,
  outputOption,
  parseFormat,
} from './conventions.js';
import { parsePositiveInt } from './hash.js';
import { action, collect, EXIT } from './run.js';

interface BomFlags extends CommonFlags {
  output?: string;
  dataset?: string[];
  scan: boolean;
  workers?: string;
  format: string;
}

export function registerBom(program: Command): void {
  const cmd = program
    .command('bom')
    .description(
      'CycloneDX 1.6 ML bill of materials: models (hashes, format, model card, base model, scan verdict) and datasets',
    )
    .argument('<path...>', 'model files or folders, one machine-learning-model component each')
    .option(
      '--dataset <path>',
      'a dataset file or folder to include as a data component (repeatable)',
      collect,
    )
    .option('--no-scan', 'do not run the scanner (verdicts recorded as not-scanned)')
    .option('--workers <n>', 'worker threads for hashing (default: one per core)');
  outputOption(cmd, 'write the BOM to FILE (default: stdout)');
  formatOption(cmd, ['json'], 'json');
  commonOptions(cmd);
  examples(cmd, [
    'antidote bom ./my-model -o bom.cdx.json',
    'antidote bom model.safetensors --dataset data/train.csv -o bom.cdx.json',
    'antidote bom models/ --no-scan --workers 2',
  ]);
  cmd.action(
    action(async (paths: string[], flags: BomFlags) => {
      parseFormat(flags.format, ['json']);
      checkIo(
        [
          ...paths.map((path) => ({ path, dirOk: true })),
          ...(flags.dataset ?? []).map((path) => ({ path, flag: '--dataset', dirOk: true })),
        ],
        [flags.output ? { path: flags.output, flag: '-o' } : undefined],
        { force: flags.force },
      );
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      const { buildBom } = await import('../provenance/bom/build.js');
      const { assertValidBom } = await import('../provenance/bom/validate.js');
      const { bom, summary } = await buildBom(paths, {
        datasets: flags.dataset,
        scan: flags.scan,
        workers,
      });
      const json = `${JSON.stringify(bom, null, 2)}\n`;
      await assertValidBom(json);
      const { emit } = await import('../report/output.js');
      await emit(json, flags.output);
      if (flags.output && !flags.quiet) {
        const lines = summary.map(
          (s) => `  ${s.path}: ${s.files} file${s.files === 1 ? '' : 's'}, scan ${s.verdict}`,
        );
        process.stderr.write(`wrote ${flags.output} (CycloneDX 1.6, validated)\n${lines.join('\n')}\n`);
      }
      return EXIT.ok;
    }),
  );
}
