// PLACEHOLDER: replaced by the scanner implementation (issue 2).
import type { Progress } from '../core/progress.js';
import type { Severity } from '../core/severity.js';
import { AntidoteError } from '../core/errors.js';
import type { ScanReport } from '../report/types.js';

export interface ScanOptions {
  failOn: Severity;
  /** Extra fully qualified names to allow (from --allow). */
  allow: string[];
  /** Path of a policy file (from --policy). */
  policyFile?: string;
  progress?: Progress;
}

export async function scanPaths(_paths: string[], _opts: ScanOptions): Promise<ScanReport> {
  throw new AntidoteError('E_INTERNAL', 'scanner not implemented yet');
}
