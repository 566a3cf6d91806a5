/**
 * The only place that turns outcomes into exit codes.
 *   0  success (scan: every file passes; audit: nothing at --fail-on; gate: promote)
 *   1  findings at or above the threshold (scan: a file is blocked; gate: block)
 *   2  usage, input or I/O error: one line on stderr, the stack only with --debug
 */
import { AntidoteError } from '../core/errors.js';
import { isSeverity, type Severity } from '../core/severity.js';
import { termSafe } from '../report/terminal.js';

export const EXIT = { ok: 0, findings: 1, error: 2 } as const;

export function isDebug(): boolean {
  return process.argv.includes('--debug') || process.env.ANTIDOTE_DEBUG === '1';
}

/**
 * Recognise an AntidoteError by shape as well as by class: the bundled scan and hash (dist/cli/*.script.js)
 * each carry their own copy of the class, so `instanceof` alone would report user errors as internal ones.
 */
function asUserError(err: unknown): { message: string; hint?: string } | undefined {
  if (err instanceof AntidoteError) return err;
  const e = err as { name?: unknown; code?: unknown; message?: unknown; hint?: unknown } | null;
  if (e && e.name === 'AntidoteError' && typeof e.code === 'string' && typeof e.message === 'string') {
    return { message: e.message, hint: typeof e.hint === 'string' ? e.hint : undefined };
  }
  return undefined;
}

export function reportError(err: unknown): void {
  const debug = isDebug();
  const user = asUserError(err);
  if (user) {
    const line = user.hint ? `${user.message}; ${user.hint}` : user.message;
    process.stderr.write(`antidote: error: ${termSafe(line)}\n`);
  } else {
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `antidote: internal error: ${termSafe(msg.split('\n')[0])}${debug ? '' : ' (run again with --debug for details)'}\n`,
    );
  }
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
}

/** Wrap a command's implementation: sets process.exitCode, never lets a stack trace reach the user. */
// biome-ignore lint/suspicious/noConfusingVoidType: an action may return nothing (exit 0) or an exit code.
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | undefined | void>) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (err) {
      reportError(err);
      process.exitCode = EXIT.error;
    }
  };
}

export function parseSeverity(value: string, flag = '--fail-on'): Severity {
  const v = value.toLowerCase();
  if (!isSeverity(v)) {
    throw new AntidoteError(
      'E_USAGE',
      `${flag} must be one of critical, high, medium, low, info (got "${value}")`,
    );
  }
  return v;
}

/** commander collector for repeatable options (`--allow a --allow b` or `--allow a,b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return previous.concat(
    value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** Should text output use colour? picocolors already honours NO_COLOR / FORCE_COLOR / --no-color. */
export function useColour(outputPath?: string): boolean {
  if (outputPath) return false;
  if (process.env.NO_COLOR || process.argv.includes('--no-color')) return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(process.stdout.isTTY);
}
