/**
 * `antidote guard proxy` and `antidote guard replay`, added to the `guard` group (src/cli/guard.ts).
 *   proxy   runs until stopped; exit 2 when it cannot start (bad flags, profile, state folder, address in use)
 *   replay  0 nothing at --fail-on, 1 findings at or above it, 2 bad input (unreadable file, bad lines over
 *           --max-bad-lines, bad flags)
 */

import { createHash } from 'node:crypto';
import { closeSync, constants, createReadStream, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { writeFileAtomic } from '../core/atomic-write.js';
import { AntidoteError, describeFsError, usageError } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import { checkIo } from '../core/paths.js';
import { atLeast as severityAtLeast } from '../core/severity.js';
import type { GuardEvent } from '../guard/watch/engine.js';
import { WINDOW_DEFAULTS, type WindowReport, type WindowSettings } from '../guard/watch/monitor.js';
import { type Policy, parsePolicy } from '../guard/watch/policy.js';
import {
  type CommonFlags,
  commonOptions,
  examples,
  formatOption,
  outputOption,
  parseFormat,
  status,
} from './conventions.js';
import { action, collect, EXIT, parseSeverity } from './run.js';

const MiB = 1024 * 1024;

/** `--help` marks required flags, as main.ts does for top-level commands. */
function markRequired(cmd: Command): void {
  for (const o of cmd.options)
    if (o.mandatory && !o.description.endsWith('(required)')) o.description = `${o.description} (required)`;
}

interface WatchFlags extends CommonFlags {
  profile: string;
  model?: string;
  policy?: string[];
  windowRows: string;
  windowSeconds: string;
  strip?: string;
  stripRate: string;
  stripSample: string;
  occlusion?: string;
  occlusionSample: string;
  maxInstances: string;
}

interface ProxyFlags extends WatchFlags {
  upstream: string;
  listen: string;
  state?: string;
  post?: string;
  findings?: string;
  timeout: string;
  maxBody: string;
}

interface ReplayFlags extends WatchFlags {
  output?: string;
  format: string;
  failOn: string;
  maxBadLines: string;
}

function intFlag(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const x = Number(value);
  if (!Number.isInteger(x) || x < min || x > max)
    throw usageError(`${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  return x;
}

function rateFlag(value: string, flag: string, max = 1): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x < 0 || x > max)
    throw usageError(`${flag} must be a number from 0 to ${max} (got "${value}")`);
  return x;
}

/** HOST:PORT, [IPv6]:PORT or PORT (loopback). */
export function parseListen(value: string): { host: string; port: number } {
  const m =
    /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value.trim()) ??
    /^()()(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port >= 0 && port <= 65535))
    throw usageError(
      `--listen "${value}" is not HOST:PORT`,
      'e.g. --listen 127.0.0.1:8600 (port 0 picks a free one)',
    );
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

function watchOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--profile <guard.json>', 'guard profile written by `antidote guard fit`')
    .option(
      '--model <model.onnx>',
      "the same ONNX model, to read activations (guard/activation); its digest must be the profile's",
    )
    .option('--window-rows <n>', 'instances per window (0: no count limit)', String(WINDOW_DEFAULTS.rows))
    .option(
      '--window-seconds <s>',
      'window length in seconds (0: no time limit)',
      String(WINDOW_DEFAULTS.ms / 1000),
    )
    .option(
      '--strip <mode>',
      'STRIP on: flagged (instances another check flagged), sample, all, off (default: flagged; replay with --model: all)',
    )
    .option('--strip-sample <rate>', 'share of instances perturbed with --strip sample', '0.01')
    .option(
      '--occlusion <mode>',
      'guard/occlusion (every part of the instance occluded and its deciding parts transplanted, one model answer per copy) on: flagged, sample, all, off (default: flagged; replay with --model: all)',
    )
    .option('--occlusion-sample <rate>', 'share of instances occluded with --occlusion sample', '0.01')
    .option('--max-instances <n>', 'instances accepted in one request', '1000');
}

function windowSettings(flags: WatchFlags): WindowSettings {
  const rows = intFlag(flags.windowRows, '--window-rows', 0);
  const secs = Number(flags.windowSeconds);
  if (!Number.isFinite(secs) || secs < 0)
    throw usageError(`--window-seconds must be 0 or more (got "${flags.windowSeconds}")`);
  if (rows === 0 && secs === 0)
    throw usageError('--window-rows and --window-seconds cannot both be 0', 'windows need an end');
  return { ...WINDOW_DEFAULTS, rows, ms: secs * 1000 };
}

const STRIP_MODES = ['flagged', 'sample', 'all', 'off'] as const;

/**
 * `offline`: replay with the ONNX model, where the copies STRIP and occlusion need are answered in process, so
 * every instance gets them by default; the proxy's copies load the upstream, so it runs them on flagged instances.
 */
async function loadWatch(flags: WatchFlags, offline = false) {
  const fallback = offline ? 'all' : 'flagged';
  const mode = (flags.strip ?? fallback) as (typeof STRIP_MODES)[number];
  if (!STRIP_MODES.includes(mode))
    throw usageError(`--strip must be flagged, sample, all or off (got "${flags.strip}")`);
  const policy: Policy = parsePolicy(flags.policy ?? []);
  const settings = windowSettings(flags);
  const rate = rateFlag(flags.stripSample, '--strip-sample');
  const occlusionMode = (flags.occlusion ?? fallback) as (typeof STRIP_MODES)[number];
  if (!STRIP_MODES.includes(occlusionMode))
    throw usageError(`--occlusion must be flagged, sample, all or off (got "${flags.occlusion}")`);
  const occlusionRate = rateFlag(flags.occlusionSample, '--occlusion-sample');
  const maxInstances = intFlag(flags.maxInstances, '--max-instances', 1, 1_000_000);
  checkIo(
    [
      { path: flags.profile, flag: '--profile' },
      flags.model ? { path: flags.model, flag: '--model' } : undefined,
    ],
    [],
  );
  const { readProfile } = await import('../guard/profile.js');
  const { createScorer } = await import('../guard/scorer.js');
  const profile = await readProfile(flags.profile);
  const bytes = await readFile(flags.profile);
  const profileId = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const scorer = await createScorer(profile, {
    model: flags.model,
    strip: { mode, rate },
    occlusion: { mode: occlusionMode, rate: occlusionRate },
  });
  return { profile, profileId, scorer, policy, settings, maxInstances };
}

export function registerGuardProxy(guard: Command): void {
  const cmd = guard
    .command('proxy')
    .description(
      'sidecar in front of a TF Serving / KServe v1 endpoint: forwards each predict request, checks every instance and every window, logs, flags or blocks',
    )
    .requiredOption(
      '--upstream <url>',
      'the model server, e.g. http://127.0.0.1:8501 (the request path is kept unless the URL has one)',
    )
    .requiredOption('--listen <host:port>', 'address to listen on, e.g. 127.0.0.1:8600');
  watchOptions(cmd)
    .option(
      '--policy <check=action>',
      'what a finding does: log (findings and metrics only), flag (header and answer field), block (403); checks: known-trigger, activation, strip, occlusion, learned-trigger, output-shift, class-burst, all (repeatable; default: every check flag)',
      collect,
    )
    .option(
      '--strip-rate <n>',
      'upstream requests per second STRIP and occlusion may spend on their copies',
      '20',
    )
    .option(
      '--state <dir>',
      'keep the open window here (journal, atomic window files) so a restart loses nothing recorded',
    )
    .option('--findings <file.jsonl>', 'append every finding here as one JSON line')
    .option('--post <url>', 'also record window reports on an antidote server (token in $ANTIDOTE_TOKEN)')
    .option('--timeout <ms>', 'upstream deadline per request (answer 502 after it)', '10000')
    .option('--max-body <bytes>', 'largest request body accepted (413 above it)', String(16 * MiB));
  commonOptions(cmd, { force: false });
  markRequired(cmd);
  cmd.addHelpText(
    'after',
    `
Defaults: every check's policy is flag: a flagged answer keeps the model's predictions, gains an
"antidote_guard" field and an "x-antidote-guard" header, and the finding is logged; nothing is blocked unless
you ask (--policy known-trigger=block). Window findings (output-shift, class-burst) flag or block the
requests of the next window that fall in their scope. Upstream down, slow (--timeout) or answering
nonsense: 502 with the reason. Requests over --max-body: 413; not readable as v1 instances: 400.
Without --state the open window is kept in memory only. /metrics serves Prometheus metrics, /healthz
the open window and alarms. Only POST .../predict is forwarded.`,
  );
  examples(cmd, [
    'antidote guard proxy --profile guard.json --upstream http://127.0.0.1:8501 --listen 127.0.0.1:8600 --state guard-state',
    'antidote guard proxy --profile guard.json --model model.onnx --upstream http://127.0.0.1:8501 --listen 0.0.0.0:8600 --policy known-trigger=block --findings findings.jsonl',
  ]);
  cmd.action(
    action(async (flags: ProxyFlags) => {
      const listen = parseListen(flags.listen);
      let upstreamUrl: URL;
      try {
        upstreamUrl = new URL(flags.upstream);
      } catch {
        throw usageError(
          `--upstream "${flags.upstream}" is not a URL`,
          'e.g. --upstream http://127.0.0.1:8501',
        );
      }
      if (upstreamUrl.protocol !== 'http:' && upstreamUrl.protocol !== 'https:')
        throw usageError(`--upstream must be an http(s) URL (got "${flags.upstream}")`);
      const timeout = intFlag(flags.timeout, '--timeout', 1, 600_000);
      const maxBody = intFlag(flags.maxBody, '--max-body', 1, 1024 * MiB);
      const stripRate = rateFlag(flags.stripRate, '--strip-rate', 100_000);
      if (flags.post) {
        const { TOKEN_ENV } = await import('./post.js');
        if (!process.env[TOKEN_ENV]) throw usageError(`--post needs a token in $${TOKEN_ENV}`);
      }
      const w = await loadWatch(flags);
      const { GuardEngine } = await import('../guard/watch/engine.js');
      const { describeTrigger } = await import('../guard/checks/known-trigger.js');
      const { WindowStore } = await import('../guard/watch/store.js');
      const { guardMetrics } = await import('../guard/watch/metrics.js');
      const { upstreamClient } = await import('../guard/watch/upstream.js');
      const { createProxy } = await import('../guard/watch/proxy.js');
      const { LIMITS } = await import('../core/limits.js');
      const metrics = guardMetrics();
      let findingsFd: number | undefined;
      if (flags.findings) {
        try {
          findingsFd = openSync(
            flags.findings,
            constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW,
            0o644,
          );
        } catch (err) {
          throw describeFsError(flags.findings, err, 'write');
        }
      }
      // Instance findings of the open window, posted with its report (the findings file has every one).
      let pending: Finding[] = [];
      let dropped = 0;
      const emit = (e: GuardEvent) => {
        metrics.findings.inc({ rule: e.finding.rule, action: e.action });
        if (flags.post && e.request) {
          if (pending.length < MAX_POSTED_INSTANCE_FINDINGS) pending.push(e.finding);
          else dropped++;
        }
        if (findingsFd !== undefined) writeSync(findingsFd, `${JSON.stringify(e)}\n`);
        if (!flags.quiet && !e.request) process.stderr.write(`antidote guard: ${e.finding.message}\n`);
      };
      const now = Date.now();
      const store = flags.state ? new WindowStore(flags.state, w.profile, w.profileId) : undefined;
      const recovered = store ? await store.open(now) : undefined;
      const engine = new GuardEngine(
        w.profile,
        w.scorer,
        w.settings,
        w.policy,
        emit,
        store,
        recovered?.window,
        now,
      );
      if (recovered?.lastReport) engine.restoreAlarms(recovered.lastReport);
      const learned = store?.loadLearned(w.profile.classes.length) ?? [];
      metrics.learned.set(learned.length);
      if (learned.length) {
        w.scorer.restoreLearned(learned);
        status(flags, `antidote guard: ${learned.length} learned triggers restored from ${flags.state}`);
      }
      engine.onLearned = (ls) => {
        metrics.learned.set(w.scorer.learned().length);
        for (const l of ls)
          status(
            flags,
            `antidote guard: learned trigger ${describeTrigger(l.trigger)} (answer "${w.profile.classes[l.cls]}", blamed on ${l.support} requests)`,
          );
      };
      if (recovered && recovered.requests > 0)
        status(
          flags,
          `antidote guard: window ${recovered.window.index} resumed with ${recovered.requests} requests (${recovered.instances} instances) from ${flags.state}`,
        );
      if (!store) status(flags, 'antidote guard: no --state: the open window is kept in memory only');
      engine.onReport = (r) => {
        metrics.alarms.set(engine.activeAlarms().length);
        const instanceFindings = { list: pending, more: dropped };
        pending = [];
        dropped = 0;
        if (flags.post)
          void postWindow(flags.post, w.profileId, r, instanceFindings).catch((err) =>
            process.stderr.write(
              `antidote guard: window ${r.window} not posted: ${(err as Error).message}\n`,
            ),
          );
      };
      const upstream = upstreamClient(upstreamUrl, timeout, LIMITS.gate.maxResponseBytes);
      const server = createProxy(engine, upstream, metrics, {
        maxBodyBytes: maxBody,
        maxInstances: w.maxInstances,
        stripRate,
        unavailable: w.scorer.unavailable as Record<string, string>,
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            new AntidoteError(
              'E_USAGE',
              `--listen ${flags.listen}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.code === 'EACCES' ? 'permission denied' : err.message}`,
              {
                hint: 'choose another address or port',
              },
            ),
          ),
        );
        server.listen(listen.port, listen.host, () => resolve());
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : listen.port;
      // The bound address on stdout, so a supervisor (or a test) started with port 0 learns the port.
      process.stdout.write(
        `antidote guard: listening on http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port} -> ${upstream.shown}\n`,
      );
      const timer = setInterval(() => engine.tick(Date.now()), 1000);
      timer.unref();
      await new Promise<void>((resolve) => server.once('close', () => resolve()));
      clearInterval(timer);
      store?.close();
      if (findingsFd !== undefined) closeSync(findingsFd);
      upstream.close();
      await w.scorer.close();
      return EXIT.ok;
    }),
  );
}

/** Instance findings posted with one window (the rest are counted in `instanceFindingsNotPosted`). */
const MAX_POSTED_INSTANCE_FINDINGS = 500;

/** A closed window as a `guard` run on an antidote server (schemas/guard-report.v1.json). */
async function postWindow(
  url: string,
  profileId: string,
  report: WindowReport,
  instance: { list: Finding[]; more: number },
): Promise<void> {
  const { sendRun } = await import('./post.js');
  const { toolVersion } = await import('../core/version.js');
  await sendRun(url, {
    kind: 'guard',
    report: {
      format: 'antidote-guard-window',
      version: 1,
      tool: { name: 'antidote', version: toolVersion() },
      createdAt: report.end,
      profile: profileId,
      ...report,
      findings: [...report.findings, ...instance.list],
      instanceFindingsNotPosted: instance.more,
    },
  });
}

export function registerGuardReplay(guard: Command): void {
  const cmd = guard
    .command('replay')
    .description(
      "the proxy's checks over logged requests and responses (JSON Lines), for pipelines without a proxy",
    )
    .argument(
      '<logs.jsonl>',
      'one JSON object per line: {"time"?, "id"?, "request": {"instances": [...]}, "response": {"predictions": [...]}}',
    );
  watchOptions(cmd)
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity', 'medium')
    .option(
      '--max-bad-lines <n>',
      'exit 2 when more lines than this cannot be read (all are counted and listed)',
      '0',
    );
  outputOption(cmd, 'write every finding here as JSON Lines');
  cmd.addHelpText(
    'after',
    `
Log format, one answered request per line (time and id optional; without time, windows close by count):
  {"time": "2026-03-01T00:00:00Z", "id": "req-1", "request": {"instances": [...]}, "response": {"predictions": [...]}}
Exit codes: 0 nothing at --fail-on, 1 a finding at or above it, 2 bad input (unreadable log or profile, more
bad lines than --max-bad-lines, no request at all; the report is printed first).`,
  );
  formatOption(cmd, ['text', 'json']);
  commonOptions(cmd);
  markRequired(cmd);
  examples(cmd, [
    'antidote guard replay --profile guard.json requests.jsonl',
    'antidote guard replay --profile guard.json --model model.onnx requests.jsonl -o findings.jsonl --format json',
  ]);
  cmd.action(
    action(async (logs: string, flags: ReplayFlags) => {
      const format = parseFormat(flags.format, ['text', 'json'] as const);
      const failOn = parseSeverity(flags.failOn);
      const maxBad = intFlag(flags.maxBadLines, '--max-bad-lines', 0);
      checkIo([{ path: logs }], [flags.output ? { path: flags.output, flag: '-o' } : undefined], {
        force: flags.force,
      });
      const w = await loadWatch(flags, Boolean(flags.model));
      const { replayLogs } = await import('../guard/watch/replay.js');
      const { renderReplay } = await import('../guard/watch/render.js');
      // STRIP's perturbed copies are answered by the same ONNX model, run locally (never an endpoint from a log).
      let onnx: Awaited<ReturnType<typeof import('../gate/models/onnx.js').loadOnnxModel>> | undefined;
      if (flags.model && (w.profile.strip || w.profile.occlusion)) {
        const { loadOnnxModel } = await import('../gate/models/onnx.js');
        onnx = await loadOnnxModel(flags.model, {
          classes: w.profile.classes.length,
          features: w.profile.model.features,
        });
        if (onnx.digest !== w.profile.model.digest) {
          await onnx.close();
          throw usageError(
            `--profile ${flags.profile} was fitted for another model than --model ${flags.model}`,
            'give the model the profile was fitted for, or fit a profile for this one',
          );
        }
      }
      const unavailable = { ...(w.scorer.unavailable as Record<string, string>) };
      if (!onnx && !unavailable['guard/strip'] && flags.strip !== 'off')
        unavailable['guard/strip'] =
          "replay answers STRIP's perturbed copies with the ONNX model: give --model";
      if (!onnx && !unavailable['guard/occlusion'] && flags.occlusion !== 'off')
        unavailable['guard/occlusion'] =
          'replay answers the occluded copies with the ONNX model: give --model';
      const events: string[] = [];
      let worst = false;
      const input = createReadStream(logs);
      const read = new Promise<never>((_, reject) =>
        input.once('error', (err) => reject(describeFsError(logs, err))),
      );
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      const report = await Promise.race([
        replayLogs(lines, {
          profile: w.profile,
          profilePath: flags.profile,
          scorer: w.scorer,
          unavailable,
          predict: onnx ? (b) => (onnx as NonNullable<typeof onnx>).score(b) : undefined,
          settings: w.settings,
          policy: w.policy,
          maxInstances: w.maxInstances,
          onEvent: (e) => {
            if (severityAtLeast(e.finding.severity, failOn)) worst = true;
            if (flags.output) events.push(JSON.stringify(e));
          },
        }),
        read,
      ]);
      await w.scorer.close();
      await onnx?.close();
      if (flags.output) await writeFileAtomic(flags.output, events.length ? `${events.join('\n')}\n` : '');
      process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderReplay(report));
      if (report.badLines.count > maxBad) {
        throw new AntidoteError(
          'E_INPUT',
          `${logs}: ${report.badLines.count} of ${report.lines} lines could not be read (first: line ${report.badLines.first[0]?.line}, ${report.badLines.first[0]?.reason})`,
          { hint: 'fix the log or allow them with --max-bad-lines N; the report above counts them' },
        );
      }
      if (report.requests === 0)
        throw new AntidoteError('E_INPUT', `${logs}: no logged request to check`, {
          hint: 'see `antidote guard replay --help` for the line format',
        });
      return worst ? EXIT.findings : EXIT.ok;
    }),
  );
}
