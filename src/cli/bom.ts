import type { Command } from 'commander';
import { parsePositiveInt } from './hash.js';
import { action, collect, EXIT } from './run.js';

interface BomFlags {
  output?: string;
  dataset?: string[];
  scan: boolean;
  workers?: string;
}

export function registerBom(program: Command): void {
  program
    .command('bom')
    .description(
      'CycloneDX 1.6 ML bill of materials: models (hashes, format, model card, base model, scan verdict) and datasets',
    )
    .argument('<path...>', 'model files or folders, one machine-learning-model component each')
    .option('-o, --output <file>', 'write the BOM to FILE (default: stdout)')
    .option(
      '--dataset <path>',
      'a dataset file or folder to include as a data component (repeatable)',
      collect,
    )
    .option('--no-scan', 'do not run the scanner (verdicts recorded as not-scanned)')
    .option('--workers <n>', 'worker threads for hashing (default: one per core)')
    .action(
      action(async (paths: string[], flags: BomFlags) => {
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
        if (flags.output) {
          const lines = summary.map(
            (s) => `  ${s.path}: ${s.files} file${s.files === 1 ? '' : 's'}, scan ${s.verdict}`,
          );
          process.stderr.write(`wrote ${flags.output} (CycloneDX 1.6, validated)\n${lines.join('\n')}\n`);
        }
        return EXIT.ok;
      }),
    );
}
