import type { Command } from 'commander';
import { checkIo } from '../core/paths.js';
import { type CommonFlags, commonOptions, examples, formatOption, parseFormat } from './conventions.js';
import { action, collect, EXIT } from './run.js';

interface ConvertFlags extends CommonFlags {
  output: string;
  allow?: string[];
  policy?: string;
  key?: string;
  format: string;
}

export function registerConvert(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a PyTorch checkpoint (zip or legacy) to safetensors without running its pickle')
    .argument(
      '<checkpoint>',
      'checkpoint written by torch.save: a mapping of names to tensors (a state dict)',
    )
    .requiredOption('-o, --output <file>', 'safetensors file to write')
    .option('--allow <name>', 'allow a fully qualified global in the pre-scan (repeatable)', collect)
    .option('--policy <file>', 'policy file (JSON) for the pre-scan')
    .option(
      '--key <name>',
      'the entry of a training checkpoint that holds the state dict, e.g. model (default: found when only one entry is a state dict)',
    );
  formatOption(cmd, ['text', 'json']);
  commonOptions(cmd);
  examples(cmd, [
    'antidote convert pytorch_model.bin -o model.safetensors',
    'antidote convert ckpt.pt -o ckpt.safetensors --force -f json',
    'antidote convert model.pt -o model.safetensors --allow mypkg.layers.Custom',
    'antidote convert checkpoint-500/training_state.pt -o model.safetensors --key model',
  ]);
  cmd.action(
    action(async (checkpoint: string, flags: ConvertFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      checkIo(
        [{ path: checkpoint }, flags.policy ? { path: flags.policy, flag: '--policy' } : undefined],
        [{ path: flags.output, flag: '-o' }],
        { force: flags.force },
      );
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
        } else if (!flags.quiet) {
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
