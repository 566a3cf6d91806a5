import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { action, collect, EXIT } from './run.js';

interface ConvertFlags {
  output?: string;
  allow?: string[];
  policy?: string;
  force?: boolean;
  key?: string;
  format: string;
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert a PyTorch checkpoint (zip or legacy) to safetensors without running its pickle')
    .argument(
      '<checkpoint>',
      'checkpoint written by torch.save: a mapping of names to tensors (a state dict)',
    )
    .option('-o, --output <file>', 'safetensors file to write (required)')
    .option('--allow <name>', 'allow a fully qualified global in the pre-scan (repeatable)', collect)
    .option('--policy <file>', 'policy file (JSON) for the pre-scan')
    .option('--force', 'replace the output file if it exists')
    .option(
      '--key <name>',
      'the entry of a training checkpoint that holds the state dict, e.g. model (default: found when only one entry is a state dict)',
    )
    .option('-f, --format <format>', 'summary format: text or json', 'text')
    .action(
      action(async (checkpoint: string, flags: ConvertFlags) => {
        if (!flags.output) throw usageError('convert needs -o <out.safetensors>');
        const format = flags.format.toLowerCase();
        if (format !== 'text' && format !== 'json')
          throw usageError(`--format must be text or json (got "${flags.format}")`);
        const { convertCheckpoint, ConvertBlockedError } = await import('../artifacts/convert/index.js');
        try {
          const r = await convertCheckpoint(checkpoint, flags.output, {
            allow: flags.allow,
            policyFile: flags.policy,
            force: flags.force,
            key: flags.key,
          });
          if (format === 'json') {
            process.stdout.write(`${JSON.stringify({ version: 1, ...r }, null, 2)}\n`);
          } else {
            const views = r.tensors.filter((t) => t.materialised).length;
            const mb = (r.bytes / 1e6).toFixed(1);
            process.stdout.write(
              `converted ${r.tensors.length} tensors (${mb} MB${views ? `, ${views} non-contiguous views materialised` : ''}) from ${r.format}${r.key !== undefined ? ` (entry ${r.key})` : ''} to ${r.output}; output re-read and every tensor digest verified\n`,
            );
          }
          return EXIT.ok;
        } catch (err) {
          if (err instanceof ConvertBlockedError) {
            process.stderr.write(`antidote: refused: ${err.oneLine()}\n`);
            for (const f of err.findings.slice(0, 10))
              process.stderr.write(`  ${f.severity} ${f.rule}: ${f.message}\n`);
            return EXIT.findings;
          }
          throw err;
        }
      }),
    );
}
