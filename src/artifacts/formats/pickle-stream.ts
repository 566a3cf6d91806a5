/**
 * The bridge between format modules and the pickle analyser (src/artifacts/pickle, its contract in
 * pickle/api.ts). Loaders call pickle.load once or several times on one stream; `scanPickleStream` analyses
 * every pickle a loader could read from it, one after the other, and guarantees the fail-closed rule the
 * orchestrator relies on: a stream that did not parse to the end carries a blocking finding.
 */

import { pushAll } from '../../core/arrays.js';
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { atLeast } from '../../core/severity.js';
import { isPickleOpcode } from '../detect.js';
import type { AnalyzeOptions, GlobalRef, PickleResult, Policy } from '../pickle/api.js';
import * as incomplete from './rules/incomplete.js';
import * as internalError from './rules/internal-error.js';
import * as limitExceeded from './rules/limit-exceeded.js';
import * as trailing from './rules/trailing-data.js';

interface PickleApi {
  analyzePickle(bytes: Uint8Array, opts: AnalyzeOptions): PickleResult | Promise<PickleResult>;
  loadPolicy?(file?: string, allow?: string[]): Policy | Promise<Policy>;
  defaultPolicy?(): Policy;
  pickleRules?: unknown;
}

let apiPromise: Promise<PickleApi> | undefined;

/** The pickle analyser's module, loaded lazily (start-up time matters for `antidote scan`). */
export function pickleApi(): Promise<PickleApi> {
  apiPromise ??= import('../pickle/api.js').then((m) => m as unknown as PickleApi);
  return apiPromise;
}

export async function loadScanPolicy(file: string | undefined, allow: string[]): Promise<Policy> {
  const api = await pickleApi();
  if (typeof api.loadPolicy === 'function') return api.loadPolicy(file, allow);
  if (typeof api.defaultPolicy === 'function') {
    const p = api.defaultPolicy();
    return { ...p, allowed: new Set([...p.allowed, ...allow]) };
  }
  return { allowed: new Set(allow), profiles: [] };
}

export interface StreamResult {
  findings: Finding[];
  pickles: PickleResult[];
  /** Every pickle parsed to STOP, and the stream ended where a loader would stop. */
  complete: boolean;
  /** Offset after the last pickle analysed. */
  end: number;
  globals: string[];
}

export interface StreamOptions {
  policy: Policy;
  location: Location;
  start?: number;
  depth?: number;
  /** Exactly this many pickles are read by the loader (legacy torch: 5); the rest is not pickle data. */
  count?: number;
  /** Read further pickles while the bytes after STOP start with an opcode (default true). */
  followTrailing?: boolean;
  /**
   * Build walkable symbolic values (default false: the analyser's lean mode, same findings and globals,
   * far less allocation). Only a format that reads a pickle's value asks for them.
   */
  values?: boolean;
}

function blocks(fs: readonly Finding[]): boolean {
  return fs.some((f) => atLeast(f.severity, 'high'));
}

/** Analyse the pickle(s) in `bytes` from `start`. Never throws: analyser errors become blocking findings. */
export async function scanPickleStream(bytes: Uint8Array, opts: StreamOptions): Promise<StreamResult> {
  const findings: Finding[] = [];
  const pickles: PickleResult[] = [];
  const names = new Set<string>();
  let off = opts.start ?? 0;
  let complete = true;
  const api = await pickleApi();
  if (typeof api.analyzePickle !== 'function') {
    findings.push(internalError.check('the pickle analyser is not available in this build', opts.location));
    return { findings, pickles, complete: false, end: off, globals: [] };
  }
  const max = opts.count ?? LIMITS.pickle.maxStreamsPerFile;
  for (let n = 0; ; n++) {
    if (n >= max) {
      if (opts.count === undefined && off < bytes.length && isPickleOpcode(bytes[off])) {
        findings.push(
          limitExceeded.check(`more than ${max} pickles in one stream`, { ...opts.location, offset: off }),
        );
        complete = false;
      }
      break;
    }
    let r: PickleResult;
    try {
      r = await api.analyzePickle(bytes, {
        policy: opts.policy,
        location: opts.location,
        start: off,
        depth: opts.depth ?? 0,
        values: opts.values ?? false,
      });
    } catch (err) {
      findings.push(
        internalError.check(`the pickle analyser failed: ${(err as Error)?.message ?? String(err)}`, {
          ...opts.location,
          offset: off,
        }),
      );
      complete = false;
      break;
    }
    pickles.push(r);
    pushAll(findings, r.findings);
    for (const g of r.globals as GlobalRef[]) names.add(`${g.module}.${g.name}`);
    if (!r.complete) {
      complete = false;
      if (!blocks(r.findings)) {
        findings.push(
          incomplete.check('the pickle did not parse to its STOP opcode', {
            ...opts.location,
            offset: r.end,
          }),
        );
      }
      break;
    }
    if (!(r.end > off)) {
      complete = false;
      findings.push(
        incomplete.check('the pickle analyser made no progress', { ...opts.location, offset: off }),
      );
      break;
    }
    off = r.end;
    if (off >= bytes.length) {
      if (opts.count !== undefined && n + 1 < opts.count) {
        complete = false;
        findings.push(
          incomplete.check(`the stream ends after ${n + 1} of the ${opts.count} pickles its loader reads`, {
            ...opts.location,
            offset: off,
          }),
        );
      }
      break;
    }
    if (opts.count !== undefined) continue;
    if (opts.followTrailing === false || !isPickleOpcode(bytes[off])) {
      findings.push(
        trailing.check(`${bytes.length - off} bytes after the pickle's STOP are not read by pickle.load`, {
          ...opts.location,
          offset: off,
        }),
      );
      break;
    }
  }
  return { findings, pickles, complete, end: off, globals: [...names].sort() };
}
