import type { Finding } from '../core/finding.js';
import type { Verdict } from '../core/verdict.js';

/** The result for one scanned file (or one folder summary). */
export interface FileResult {
  path: string;
  /** Detected format id, e.g. `pickle`, `pytorch-zip`, `pytorch-legacy`, `joblib`, `npy`, `safetensors`, `unknown`. */
  format: string;
  verdict: Verdict;
  findings: Finding[];
  /** Size in bytes, when known. */
  size?: number;
  /** Optional facts about the file (tensor count, pickle globals seen, ...). JSON-serialisable. */
  details?: Record<string, unknown>;
}

/** `antidote scan --format json` output. Versioned; see schemas/scan-report.v1.json. */
export interface ScanReport {
  version: 1;
  tool: { name: 'antidote'; version: string };
  results: FileResult[];
  /** Files and folders not scanned because --exclude or .antidoteignore named them. */
  skipped?: SkippedPath[];
}

export interface SkippedPath {
  path: string;
  /** The pattern that excluded it and where it came from, e.g. `--exclude docs/**`. */
  reason: string;
}
