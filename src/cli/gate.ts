/**
 * antidote gate: promote a retrained model only after the trusted holdout, slices, the comparison with the
 * incumbent, live-versus-trusted and trigger probes agree. Trigger probes run by default (--no-probe skips
 * them); a skipped check makes the decision "promote with caveats" at best. Exit 0 promote (with or
 * without caveats), 1 block, 2 error.
 */

import { join } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { checkIo, readRegularFile } from '../core/paths.js';
import {
  type CommonFlags,
  commonOptions,
  examples,
  formatOption,
  outDirOf,
  outDirOption,
  outputOption,
  parseFormat,
} from './conventions.js';
import { postIfAsked, postOption, postTarget } from './post.js';
import { action, collect, EXIT, useColour } from './run.js';

interface GateFlags extends CommonFlags {
  post?: string;
  trusted: string;
  label: string;
  id?: string;
  incumbent: string;
  candidate: string;
  live?: string;
  slices?: string[];
  probe?: string | false;
  audit?: string;
  out?: string;
  outDir?: string;
  output?: string;
  format: string;
  signKey?: string;
  features?: string[];
  seed: string;
  margin?: string;
  timeout?: string;
  deadline?: string;
}

export function registerGate(program: Command): void {
  const cmd = program
    .command('gate')
    .description(
      'decide whether a retrained model may replace the incumbent (exit 0 promote, 1 block, 2 error)',
    )
    .requiredOption('--trusted <file>', 'trusted, curated holdout (CSV, TSV, JSONL, Parquet) with labels')
    .requiredOption('--label <col>', 'label column')
    .option('--id <col>', 'row id column (needed for predictions files)')
    .requiredOption(
      '--incumbent <model>',
      'current model: .onnx file, http(s):// endpoint (KServe v1 JSON) or predictions file',
    )
    .requiredOption('--candidate <model>', 'retrained model, same kinds as --incumbent')
    .option(
      '--live <file>',
      'recent labelled live data: block a candidate that gains there but loses on the trusted set',
    )
    .option(
      '--slices <cols>',
      'columns whose values are slices to check (comma-separated, repeatable)',
      collect,
    )
    .option(
      '--probe <auto|file>',
      'trigger probes: auto (the default), or a file with one trigger per line (token, or column=value)',
    )
    .option(
      '--no-probe',
      'skip the trigger probes (the decision then says so and is at best a promote with caveats)',
    )
    .option('--audit <dir>', 'output folder of `antidote audit`: its trigger candidates are probed')
    .option(
      '--features <cols>',
      'columns feeding a single 2-D float ONNX input, in order (comma-separated)',
      collect,
    )
    .option(
      '--sign-key <pem>',
      'sign the decision (in-toto statement in a DSSE envelope) with this PEM private key',
    )
    .option(
      '--margin <points>',
      'practical margin of an accuracy regression, in accuracy points (default 0.5)',
    )
    .option('--seed <n>', 'seed for bootstrap and probes', '1')
    .option('--timeout <ms>', 'timeout of one HTTP request to a model endpoint')
    .option('--deadline <ms>', 'total time one model endpoint may take to score the data (default 600000)')
    .addOption(postOption());
  outDirOption(cmd, 'write report.json, report.html (and decision.dsse.json with --sign-key) here');
  outputOption(cmd, 'write the text or JSON report to FILE instead of stdout');
  formatOption(cmd, ['text', 'json']);
  commonOptions(cmd);
  examples(cmd, [
    'antidote gate --trusted holdout.csv --label y --incumbent current.onnx --candidate new.onnx',
    'antidote gate --trusted holdout.parquet --label y --id id --incumbent prod.csv --candidate new.csv --out-dir gate-report',
    'antidote gate --trusted holdout.csv --label y --incumbent a.onnx --candidate b.onnx --live live.csv --out-dir out --sign-key key.pem',
  ]);
  cmd.action(
    action(async (flags: GateFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      const outDir = outDirOf(flags, cmd);
      postTarget(flags.post);
      if (flags.signKey && !outDir)
        throw usageError('--sign-key needs --out-dir DIR to write the signed decision to');
      const isPath = (m: string) => !/^https?:\/\//i.test(m);
      const inputs = [
        { path: flags.trusted, flag: '--trusted' },
        isPath(flags.incumbent) ? { path: flags.incumbent, flag: '--incumbent' } : undefined,
        isPath(flags.candidate) ? { path: flags.candidate, flag: '--candidate' } : undefined,
        flags.live ? { path: flags.live, flag: '--live' } : undefined,
        typeof flags.probe === 'string' && flags.probe !== 'auto'
          ? { path: flags.probe, flag: '--probe' }
          : undefined,
        flags.audit ? { path: flags.audit, flag: '--audit', dirOk: true } : undefined,
        flags.signKey ? { path: flags.signKey, flag: '--sign-key' } : undefined,
      ];
      const dirOutputs = outDir
        ? ['report.json', 'report.html', ...(flags.signKey ? ['decision.dsse.json'] : [])].map((f) => ({
            path: join(outDir, f),
            flag: '--out-dir',
          }))
        : [];
      checkIo(
        inputs,
        [
          outDir ? { path: outDir, flag: '--out-dir', dir: true } : undefined,
          ...dirOutputs,
          flags.output ? { path: flags.output, flag: '-o' } : undefined,
        ],
        { force: flags.force },
      );
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw usageError(`--seed must be an integer (got "${flags.seed}")`);
      const margin = flags.margin === undefined ? undefined : Number(flags.margin);
      if (margin !== undefined && !(margin >= 0 && margin < 100))
        throw usageError(`--margin must be between 0 and 100 accuracy points (got "${flags.margin}")`);
      const timeout = flags.timeout === undefined ? undefined : Number(flags.timeout);
      if (timeout !== undefined && !(timeout > 0))
        throw usageError(`--timeout must be a positive number of milliseconds`);
      const deadline = flags.deadline === undefined ? undefined : Number(flags.deadline);
      if (deadline !== undefined && !(deadline > 0))
        throw usageError(`--deadline must be a positive number of milliseconds`);
      let keyPem: Buffer | undefined;
      if (flags.signKey) {
        const { loadPrivateKey } = await import('../provenance/dsse.js');
        keyPem = await readRegularFile(flags.signKey, LIMITS.files.maxKeyBytes, '--sign-key');
        loadPrivateKey(keyPem, `--sign-key ${flags.signKey}`);
      }
      const { runGate } = await import('../gate/gate.js');
      const { DEFAULT_SETTINGS } = await import('../gate/context.js');
      const report = await runGate({
        trusted: flags.trusted,
        label: flags.label,
        id: flags.id,
        incumbent: flags.incumbent,
        candidate: flags.candidate,
        live: flags.live,
        slices: flags.slices,
        probe: flags.probe,
        audit: flags.audit,
        features: flags.features,
        settings: {
          seed,
          ...(margin !== undefined
            ? { margins: { ...DEFAULT_SETTINGS.margins, accuracy: margin / 100 } }
            : {}),
        },
        http: timeout || deadline ? { timeoutMs: timeout, deadlineMs: deadline } : undefined,
      });
      if (outDir) await writeGateOutputs(report, outDir, keyPem);
      await postIfAsked(flags.post, 'gate', report);
      const { emit } = await import('../report/output.js');
      if (format === 'json') {
        const { renderJson } = await import('../report/json.js');
        await emit(renderJson(report), flags.output);
      } else if (flags.output || !flags.quiet) {
        const { renderGateText } = await import('../gate/render.js');
        await emit(renderGateText(report, { colour: useColour(flags.output) }), flags.output);
      }
      const { promotes } = await import('../gate/decision.js');
      return promotes(report.decision) ? EXIT.ok : EXIT.findings;
    }),
  );
}

/** report.json, report.html and (with a key) decision.dsse.json, written together or not at all. */
export async function writeGateOutputs(
  report: import('../gate/decision.js').GateReport,
  dir: string,
  keyPem?: Buffer,
): Promise<void> {
  const { join } = await import('node:path');
  const { AtomicBatch } = await import('../core/atomic-write.js');
  const { renderGateHtml } = await import('../gate/report-html.js');
  const { renderJson } = await import('../report/json.js');
  report.outputs = { json: join(dir, 'report.json'), html: join(dir, 'report.html') };
  let envelope: string | undefined;
  if (keyPem) {
    report.outputs.statement = join(dir, 'decision.dsse.json');
    const { signDecision } = await import('../gate/sign.js');
    envelope = renderJson(signDecision(report, keyPem));
  }
  const batch = new AtomicBatch();
  try {
    await batch.write(report.outputs.json as string, renderJson(report));
    await batch.write(report.outputs.html as string, await renderGateHtml(report));
    if (envelope && report.outputs.statement) await batch.write(report.outputs.statement, envelope);
    await batch.commit();
  } catch (err) {
    await batch.abort();
    const { AntidoteError, ioError } = await import('../core/errors.js');
    if (err instanceof AntidoteError) throw err;
    throw ioError(`cannot write the gate report to ${dir}: ${(err as Error).message}`, err);
  }
}
