import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';

interface DiffFlags {
  output?: string;
  format: string;
  failOn: string;
  allow?: string[];
  policy?: string;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description(
      'compare a model with the base it claims to come from: surgical edits, fine-tunes, adapter forensics',
    )
    .argument(
      '<base>',
      'the base model: a safetensors, PyTorch or GGUF file, a shard index, or a model folder',
    )
    .argument('<candidate>', 'the derived model (same forms), or a PEFT adapter folder')
    .option('-o, --output <file>', 'write the report to FILE (default: stdout)')
    .option('-f, --format <format>', 'text, json or html', 'text')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity', 'high')
    .option(
      '--allow <name>',
      'allow a fully qualified global in the pre-scan of PyTorch files (repeatable)',
      collect,
    )
    .option('--policy <file>', 'policy file (JSON) for the pre-scan of PyTorch files')
    .addHelpText(
      'after',
      '\nExamples:\n  antidote diff gpt2/ downloaded-gpt2/\n  antidote diff base.safetensors edited.safetensors -f html -o diff.html\n  antidote diff llama-base/ my-lora-adapter/ -f json',
    )
    .action(
      action(async (basePath: string, candPath: string, flags: DiffFlags) => {
        const format = flags.format.toLowerCase();
        if (!['text', 'json', 'html'].includes(format))
          throw usageError(`--format must be text, json or html (got "${flags.format}")`);
        const failOn = parseSeverity(flags.failOn);
        const { diffModels } = await import('../weights/diff/index.js');
        const report = await diffModels(basePath, candPath, { allow: flags.allow, policyFile: flags.policy });
        const { renderDiffText, renderDiffHtml } = await import('../weights/render.js');
        const text =
          format === 'json'
            ? `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`
            : format === 'html'
              ? renderDiffHtml(report, failOn)
              : renderDiffText(report, { colour: useColour(flags.output), failOn });
        const { emit } = await import('../report/output.js');
        await emit(text, flags.output);
        const { atLeast } = await import('../core/severity.js');
        return report.findings.some((f) => atLeast(f.severity, failOn)) ? EXIT.findings : EXIT.ok;
      }),
    );
}
