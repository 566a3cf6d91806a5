/**
 * antidote gate: promote a retrained model only after the trusted holdout, slices, the comparison with the
 * incumbent, live-versus-trusted and trigger probes agree. Exit 0 promote, 1 block, 2 error.
 */
import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { action, collect, EXIT, useColour } from './run.js';

interface GateFlags {
  trusted: string;
  label: string;
  id?: string;
  incumbent: string;
  candidate: string;
  live?: string;
  slices?: string[];
  probe?: string;
  audit?: string;
  out?: string;
  format: string;
  signKey?: string;
  features?: string[];
  seed: string;
  margin?: string;
  timeout?: string;
  deadline?: string;
}

export function registerGate(program: Command): void {
  program
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
      'trigger probes: auto, or a file with one trigger per line (token, or column=value)',
    )
    .option('--audit <dir>', 'output folder of `antidote audit`: its trigger candidates are probed')
    .option(
      '--features <cols>',
      'columns feeding a single 2-D float ONNX input, in order (comma-separated)',
      collect,
    )
    .option('--out <dir>', 'write report.json, report.html (and decision.dsse.json with --sign-key) here')
    .option('--format <format>', 'stdout format: text or json', 'text')
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
    .action(
      action(async (flags: GateFlags) => {
        if (flags.format !== 'text' && flags.format !== 'json')
          throw usageError(`--format must be text or json (got "${flags.format}")`);
        if (flags.signKey && !flags.out)
          throw usageError('--sign-key needs --out DIR to write the signed decision to');
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
        const { readFile } = await import('node:fs/promises');
        if (flags.signKey) {
          const { describeFsError } = await import('../core/errors.js');
          const { loadPrivateKey } = await import('../provenance/dsse.js');
          try {
            keyPem = await readFile(flags.signKey);
          } catch (err) {
            throw describeFsError(flags.signKey, err);
          }
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
        if (flags.out) await writeGateOutputs(report, flags.out, keyPem);
        const { emit } = await import('../report/output.js');
        if (flags.format === 'json') {
          const { renderJson } = await import('../report/json.js');
          await emit(renderJson(report));
        } else {
          const { renderGateText } = await import('../gate/render.js');
          await emit(renderGateText(report, { colour: useColour() }));
        }
        return report.decision === 'promote' ? EXIT.ok : EXIT.findings;
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
    const { ioError } = await import('../core/errors.js');
    throw ioError(`cannot write the gate report to ${dir}: ${(err as Error).message}`, err);
  }
}
