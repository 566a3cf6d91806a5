import type { Command } from 'commander';
import { DEFAULT_FAIL_ON } from '../core/verdict.js';
import { usageError } from '../core/errors.js';
import { action, collect, EXIT, parseSeverity, useColour } from './run.js';

interface ScanFlags {
  format: string;
  output?: string;
  failOn: string;
  allow?: string[];
  policy?: string;
  verbose?: boolean;
  progress?: boolean;
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('scan model artifacts without executing them (allowlist first, fail closed)')
    .argument('<path...>', 'files or folders to scan; folders are walked, one result per file')
    .option('-f, --format <format>', 'output format: text, json or sarif', 'text')
    .option('-o, --output <file>', 'write the report to FILE instead of stdout')
    .option('--fail-on <severity>', 'block a file with a finding at or above this severity', DEFAULT_FAIL_ON)
    .option('--allow <name>', 'allow a fully qualified global, e.g. mypkg.layers.Custom (repeatable)', collect)
    .option('--policy <file>', 'policy file (JSON) with allowlist profiles and extra allowed names')
    .option('-v, --verbose', 'also show informational findings in text output')
    .option('--no-progress', 'never show a progress bar')
    .action(
      action(async (paths: string[], flags: ScanFlags) => {
        const format = flags.format.toLowerCase();
        if (!['text', 'json', 'sarif'].includes(format)) {
          throw usageError(`--format must be text, json or sarif (got "${flags.format}")`);
        }
        const failOn = parseSeverity(flags.failOn);
        const { scanPaths } = await import('../artifacts/scan.js');
        const { createProgress } = await import('../core/progress.js');
        const progress = createProgress({ enabled: flags.progress === false ? false : undefined, unit: 'files' });
        let report: Awaited<ReturnType<typeof scanPaths>>;
        try {
          report = await scanPaths(paths, { failOn, allow: flags.allow ?? [], policyFile: flags.policy, progress });
        } finally {
          progress.stop();
        }
        const { emit } = await import('../report/output.js');
        if (format === 'json') {
          const { renderScanJson } = await import('../report/json.js');
          await emit(renderScanJson(report), flags.output);
        } else if (format === 'sarif') {
          const { renderScanSarif } = await import('../report/sarif.js');
          const { ruleCatalog } = await import('../artifacts/rules.js');
          await emit(renderScanSarif(report, ruleCatalog()), flags.output);
        } else {
          const { renderScanText } = await import('../report/text.js');
          await emit(renderScanText(report, { colour: useColour(flags.output), verbose: flags.verbose }), flags.output);
        }
        return report.results.some((r) => r.verdict === 'block') ? EXIT.findings : EXIT.ok;
      }),
    );
}
