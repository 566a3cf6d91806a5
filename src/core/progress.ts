/**
 * A progress bar on stderr for long jobs. Silent unless stderr is a TTY, and only appears after
 * `delayMs`, so quick runs and pipes/CI logs stay clean.
 */
export interface Progress {
  /** Set the total (units: files, rows, bytes: the caller decides). */
  total(n: number): void;
  tick(n?: number): void;
  label(text: string): void;
  stop(): void;
}

const noop: Progress = { total() {}, tick() {}, label() {}, stop() {} };

export function createProgress(opts: { enabled?: boolean; delayMs?: number; unit?: string } = {}): Progress {
  const enabled = opts.enabled ?? (Boolean(process.stderr.isTTY) && !process.env.CI);
  if (!enabled) return noop;
  const delay = opts.delayMs ?? 800;
  const started = Date.now();
  let bar: import('cli-progress').SingleBar | undefined;
  let total = 0;
  let value = 0;
  let text = '';
  let loading = false;
  const ensure = () => {
    if (bar || loading || Date.now() - started < delay) return;
    loading = true;
    // Lazy: cli-progress is only loaded when a bar is actually shown.
    import('cli-progress').then((cp) => {
      bar = new cp.SingleBar(
        {
          format: `{bar} {percentage}% | {value}/{total} ${opts.unit ?? ''} | {text}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cp.Presets.shades_classic,
      );
      bar.start(total || 1, value, { text });
    });
  };
  return {
    total(n) {
      total = n;
      bar?.setTotal(n);
    },
    tick(n = 1) {
      value += n;
      ensure();
      bar?.update(value, { text });
    },
    label(t) {
      text = t;
    },
    stop() {
      bar?.stop();
    },
  };
}
