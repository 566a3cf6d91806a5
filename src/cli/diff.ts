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
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';

interface DiffFlags extends CommonFlags {
  output?: string;
  format: string;
  failOn: string;
  allow?: string[];
  policy?: string;
}

export function registerDiff(program: Command): void {
  const cmd = program
    .command('diff')
    .description(
      'compare a model with the base it claims to come from: surgical edits, fine-tunes, adapter forensics',
    )
    .argument(
      '<base>',
      'the base model: a safetensors, PyTorch or GGUF file, a shard index, or a model folder',
    )
    .argument('<candidate>', 'the derived model (same forms), or a PEFT adapter folder')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity', 'high')
    .option(
      '--allow <name>',
      'allow a fully qualified global in the pre-scan of PyTorch files (repeatable)',
      collect,
    )
    .option('--policy <file>', 'policy file (JSON) for the pre-scan of PyTorch files');
  outputOption(cmd, 'write the report to FILE instead of stdout');
  formatOption(cmd, ['text', 'json', 'html']);
  commonOptions(cmd);
  examples(cmd, [
    'antidote diff gpt2/ downloaded-gpt2/',
    'antidote diff base.safetensors edited.safetensors -f html -o diff.html',
    'antidote diff llama-base/ my-lora-adapter/ -f json',
  ]);
  cmd.action(
    action(async (basePath: string, candPath: string, flags: DiffFlags) => {
      const format = parseFormat(flags.format, ['text', 'json', 'html']);
      const failOn = parseSeverity(flags.failOn);
      checkIo(
        [
          { path: basePath, dirOk: true },
          { path: candPath, dirOk: true },
          flags.policy ? { path: flags.policy, flag: '--policy' } : undefined,
        ],
        [flags.output ? { path: flags.output, flag: '-o' } : undefined],
        { force: flags.force },
      );
      const { diffModels } = await import('../weights/diff/index.js');
      const report = await diffModels(basePath, candPath, { allow: flags.allow, policyFile: flags.policy });
      const { renderDiffText, renderDiffHtml } = await import('../weights/render.js');
      const { emit } = await import('../report/output.js');
      if (format === 'json')
        await emit(
          `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`,
          flags.output,
        );
      else if (format === 'html') await emit(renderDiffHtml(report, failOn), flags.output);
      else if (flags.output || !flags.quiet)
        await emit(renderDiffText(report, { colour: useColour(flags.output), failOn }), flags.output);
      const { atLeast } = await import('../core/severity.js');
      return report.findings.some((f) => atLeast(f.severity, failOn)) ? EXIT.findings : EXIT.ok;
    }),
  );
}
