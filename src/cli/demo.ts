/**
 * antidote demo: run the whole poisoned-retrain loop on the bundled SST-2 slice (audit, two candidates, gate)
 * and name the HTML reports. Exit 0 when the story came out as expected (raw candidate blocked, audited
 * candidate promoted), 1 when it did not, 2 on error.
 */

import { existsSync, readdirSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import { type CommonFlags, commonOptions, examples, outDirOf, outDirOption } from './conventions.js';
import { postDemo, postOption, postTarget } from './post.js';
import { action, EXIT, useColour } from './run.js';

interface DemoFlags extends CommonFlags {
  post?: string;
  out?: string;
  outDir?: string;
  seed: string;
}

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run a poisoned retrain end to end on bundled data: audit, train two candidates, gate them')
    .option('--seed <n>', 'seed of the poisoning and of the checks', '7')
    .addOption(postOption());
  outDirOption(cmd, 'folder for the data, the audit and the gate reports', 'antidote-demo');
  commonOptions(cmd);
  examples(cmd, ['antidote demo', 'antidote demo --out-dir /tmp/demo --seed 11', 'antidote demo --force']);
  cmd.action(
    action(async (flags: DemoFlags) => {
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed) || seed < 0)
        throw usageError(`--seed must be a non-negative integer (got "${flags.seed}")`);
      postTarget(flags.post);
      const out = outDirOf(flags, cmd) as string;
      checkIo([], [{ path: out, flag: '--out-dir', dir: true }]);
      if (!flags.force && existsSync(out) && readdirSync(out).length > 0)
        throw usageError(
          `--out-dir ${out}: already holds files`,
          'pass --force to replace them, or choose a new folder',
        );
      const c = useColour();
      const say = (line: string) => {
        if (!flags.quiet) process.stdout.write(`${line}\n\n`);
      };
      const { runDemo } = await import('../demo/run.js');
      say(
        c
          ? pc.bold('Antidote demo: a poisoned retraining batch, caught twice.')
          : 'Antidote demo: a poisoned retraining batch, caught twice.',
      );
      const r = await runDemo({ out, seed, say });
      await postDemo(flags.post, r);
      const lines = [
        'Reports (open in a browser):',
        `  audit of the incoming batch   ${r.audit.report}`,
        `  gate, candidate A (raw batch) ${r.gateRaw.report}`,
        `  gate, candidate B (audited)   ${r.gateAudited.report}`,
        '',
        r.ok
          ? `Done in ${r.seconds.toFixed(0)} s: the poisoned candidate was blocked and the one trained on audited data was promoted.`
          : `Done in ${r.seconds.toFixed(0)} s, but the story did not come out as expected: ${r.problems.join('; ')}.`,
      ];
      if (!flags.quiet) process.stdout.write(`${lines.join('\n')}\n`);
      return r.ok ? EXIT.ok : EXIT.findings;
    }),
  );
}
