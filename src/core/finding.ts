import type { Severity } from './severity.js';

/**
 * Where a finding points. Only the fields that fit are set: a scanner sets file/entry/offset/opcode,
 * the audit sets rows/column, the gate sets slice.
 */
export interface Location {
  /** File path as given on the command line (or relative to a scanned folder). */
  file?: string;
  /** Archive member (zip/tar entry) inside `file`. */
  entry?: string;
  /** Byte offset inside the file or entry. */
  offset?: number;
  /** Index of the pickle opcode, counting from 0 within one pickle. */
  opcode?: number;
  /** Row ids (data layer); truncated to a sample when long, with `rowCount` giving the total. */
  rows?: Array<string | number>;
  rowCount?: number;
  column?: string;
  tensor?: string;
  /** Slice / region description (gate). */
  slice?: string;
  line?: number;
}

/** The one finding type shared by every layer. */
export interface Finding {
  /** Stable rule id, e.g. `pickle/unsafe-global`. */
  rule: string;
  severity: Severity;
  /** One sentence a person can act on. */
  message: string;
  location?: Location;
  /** Small facts that prove the finding (names, counts, statistics). Must be JSON-serialisable. */
  evidence?: Record<string, unknown>;
  /** MITRE ATLAS technique id where one fits. */
  atlas?: string;
}
