/**
 * antidote guard: watch a promoted model in production for triggered backdoors. A command group; each
 * subcommand registers itself on the `guard` command created here:
 *   guard fit     fit a guard profile from the model and the trusted set (this file)
 *   guard proxy   the sidecar in front of a serving endpoint, and
 *   guard replay  the same checks over logged requests: added beside `fit` by their own register functions,
 *                 each taking the `guard` Command returned by registerGuard.
 * Exit codes: 0 done, 2 bad input (one line on stderr).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import type { GuardProfile, Threshold } from '../guard/profile.js';
import { type CommonFlags, commonOptions, examples, outputOption, status } from './conventions.js';
import { registerGuardProxy, registerGuardReplay } from './guard-watch.js';
import { action, collect, EXIT } from './run.js';

interface FitFlags extends CommonFlags {
  model: string;
  trusted: string;
  label: string;
  id?: string;
  features?: string[];
  layer?: string[];
  audit?: string[];
  gate?: string[];
  slices?: string[];
  fpr: string;
  seed: string;
  stripPerturbations?: string;
  stripMix?: string;
  strip?: boolean;
  occlusion?: boolean;
  output?: string;
}

/** Create the `guard` group with its `fit` subcommand; returns the group for other subcommands. */
export function registerGuard(program: Command): Command {
  const guard = program
    .command('guard')
    .description('watch a promoted model in production for triggered backdoors (fit, proxy, replay)');
  registerGuardFit(guard);
  registerGuardProxy(guard);
  registerGuardReplay(guard);
  return guard;
}

/** `--help` marks required flags, as main.ts does for top-level commands (call after adding the options). */
export function markRequired(cmd: Command): void {
  for (const o of cmd.options)
    if (o.mandatory && !o.description.endsWith('(required)')) o.description = `${o.description} (required)`;
}

/** An --audit or --gate argument: the report.json itself, or the --out-dir folder that holds it. */
function reportFile(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? join(path, 'report.json') : path;
}

function numberFlag(
  value: string | undefined,
  flag: string,
  ok: (x: number) => boolean,
  what: string,
): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x) || !ok(x)) throw usageError(`${flag} must be ${what} (got "${value}")`);
  return x;
}

export function registerGuardFit(guard: Command): void {
  const cmd = guard
    .command('fit')
    .description(
      'fit a guard profile: output distributions, activation statistics, known triggers, calibrated thresholds',
    )
    .requiredOption(
      '--model <model>',
      'the promoted model: .onnx file (activations read) or http(s):// endpoint (KServe v1 JSON)',
    )
    .requiredOption('--trusted <file>', 'trusted, curated rows (CSV, TSV, JSONL, Parquet) with labels')
    .requiredOption('--label <col>', 'label column')
    .option('--id <col>', 'row id column (never sent to the model)')
    .option(
      '--features <cols>',
      'columns feeding a single 2-D float ONNX input, in order (comma-separated)',
      collect,
    )
    .option(
      '--layer <name>',
      'ONNX tensor whose activations are profiled (repeatable; default: the input of the last Gemm/MatMul)',
      collect,
    )
    .option(
      '--audit <report.json>',
      'report.json (or --out-dir folder) of `antidote audit`: its trigger findings become known triggers (repeatable)',
      collect,
    )
    .option(
      '--gate <report.json>',
      'report.json (or --out-dir folder) of `antidote gate`: its confirmed probe triggers become known triggers (repeatable)',
      collect,
    )
    .option(
      '--slices <cols>',
      'columns whose values are slices of the output distribution (default: every feature column)',
      collect,
    )
    .option(
      '--fpr <rate>',
      'false-alarm rate the thresholds are calibrated to, on held-back trusted rows',
      '0.01',
    )
    .option('--strip-perturbations <n>', 'perturbed copies per instance for STRIP (default 16)')
    .option(
      '--strip-mix <share>',
      'share of words (text; the rest of the pool row is inserted) or values (tabular) replaced in each STRIP copy (default 0 for text, 0.5 for tabular)',
    )
    .option('--no-strip', 'do not calibrate STRIP (the check is then unavailable to proxy and replay)')
    .option(
      '--no-occlusion',
      'do not fit guard/occlusion (the check is then unavailable to proxy and replay)',
    )
    .option('--seed <n>', 'seed of the fit/calibration split and the perturbations', '1');
  outputOption(cmd, 'write the profile here (required)');
  commonOptions(cmd);
  markRequired(cmd);
  examples(cmd, [
    'antidote guard fit --model model.onnx --trusted trusted.csv --label label -o guard.json',
    'antidote guard fit --model model.onnx --trusted trusted.csv --label y --layer hidden --audit audit/report.json --gate gate/report.json --fpr 0.005 -o guard.json',
    'antidote guard fit --model http://127.0.0.1:8501/v1/models/m:predict --trusted trusted.csv --label y -o guard.json',
  ]);
  cmd.action(
    action(async (flags: FitFlags) => {
      if (!flags.output) throw usageError('guard fit needs -o FILE for the profile');
      const isPath = !/^https?:\/\//i.test(flags.model);
      checkIo(
        [
          { path: flags.trusted, flag: '--trusted' },
          isPath ? { path: flags.model, flag: '--model' } : undefined,
          ...(flags.audit ?? []).map((p) => ({ path: p, flag: '--audit', dirOk: true })),
          ...(flags.gate ?? []).map((p) => ({ path: p, flag: '--gate', dirOk: true })),
        ],
        [{ path: flags.output, flag: '-o' }],
        { force: flags.force },
      );
      const fpr = numberFlag(
        flags.fpr,
        '--fpr',
        (x) => x > 0 && x < 0.5,
        'a rate between 0 and 0.5, e.g. 0.01',
      ) as number;
      const seed = numberFlag(flags.seed, '--seed', Number.isInteger, 'an integer') as number;
      const perturbations = numberFlag(
        flags.stripPerturbations,
        '--strip-perturbations',
        (x) => Number.isInteger(x) && x >= 2 && x <= 1000,
        'an integer from 2 to 1000',
      );
      const mix = numberFlag(flags.stripMix, '--strip-mix', (x) => x >= 0 && x <= 1, 'a share from 0 to 1');
      const { fitProfile } = await import('../guard/fit.js');
      const profile = await fitProfile({
        model: flags.model,
        trusted: flags.trusted,
        label: flags.label,
        id: flags.id,
        features: flags.features,
        layers: flags.layer,
        audit: flags.audit?.map(reportFile),
        gate: flags.gate?.map(reportFile),
        slices: flags.slices,
        fpr,
        seed,
        strip: { perturbations, mix, off: flags.strip === false },
        occlusion: { off: flags.occlusion === false },
      });
      const { writeProfile } = await import('../guard/profile.js');
      await writeProfile(flags.output, profile);
      const t = profile.thresholds.checks;
      const parts = [
        `${profile.trusted.rows} trusted rows (${profile.trusted.calibrationRows} held back)`,
        profile.activation
          ? `activation on ${profile.activation.layers.map((l) => `${l.name} [${l.dim}]`).join(', ')} > ${t['guard/activation']?.threshold.toFixed(3)}`
          : `activation skipped (${profile.skipped['guard/activation'] ?? 'off'})`,
        t['guard/strip'] ? `STRIP > ${t['guard/strip'].threshold.toFixed(3)}` : 'STRIP skipped',
        t['guard/occlusion']
          ? `occlusion > ${t['guard/occlusion'].threshold.toFixed(3)}`
          : 'occlusion skipped',
        `${profile.triggers.filter((x) => !x.disabled).length} known triggers`,
        `${profile.outputs.slices.length} slices`,
      ];
      status(
        flags,
        `guard profile ${flags.output}: ${parts.join('; ')}; false-alarm rate ${profile.thresholds.fpr}`,
      );
      const short = calibrationShortfall(profile);
      if (short) process.stderr.write(`antidote guard fit: warning: ${short}\n`);
      return EXIT.ok;
    }),
  );
}

/**
 * When the held-back rows were too few for the thresholds to hold the profile's false-alarm rate, what to expect
 * instead and what to do (printed even with --quiet: it changes what the profile promises).
 */
export function calibrationShortfall(profile: GuardProfile): string | undefined {
  const checks = Object.entries(profile.thresholds.checks) as Array<[string, Threshold | undefined]>;
  const expected = checks.reduce((a, [, t]) => a + (t?.expectedFpr ?? t?.fpr ?? 0), 0);
  const extrapolated = checks.filter(([, t]) => t?.extrapolated).map(([id]) => id.slice('guard/'.length));
  if (expected <= profile.thresholds.fpr && !extrapolated.length) return undefined;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  // Trusted rows for every check's every class to hold its share of the rate with 90% confidence (the largest of
  // n scores misses it with probability (1 - share)^n), scaled from the share of the trusted file each class's
  // calibration rows are now.
  let rows = profile.trusted.rows;
  for (const [, t] of checks) {
    if (!t) continue;
    const need = Math.ceil(Math.log(0.1) / Math.log1p(-t.fpr));
    for (const n of t.classRows ?? [t.calibrationRows])
      if (n > 0 && n < need) rows = Math.max(rows, Math.ceil((need * profile.trusted.rows) / n));
  }
  const give = `Give about ${rows.toLocaleString('en-US')} trusted rows or more`;
  const held = `${profile.trusted.calibrationRows} held-back trusted rows are too few`;
  if (expected > profile.thresholds.fpr) {
    const each = checks
      .map(([id, t]) => `${id.slice('guard/'.length)} ${pct(t?.expectedFpr ?? 0)}`)
      .join(', ');
    return `${held} to hold a false-alarm rate of ${pct(profile.thresholds.fpr)}: expect about ${pct(expected)} of clean traffic flagged (${each}). ${give}, or accept the higher rate.`;
  }
  const names =
    extrapolated.length > 1
      ? `${extrapolated.slice(0, -1).join(', ')} and ${extrapolated.at(-1)}`
      : extrapolated[0];
  return `${held} to measure a false-alarm rate of ${pct(profile.thresholds.fpr)}: the ${names} thresholds were extrapolated past the largest calibration score from the tail of the scores, so the rate is an estimate and only inputs scoring beyond every trusted row are flagged. ${give} to measure it.`;
}
