/** Turns the zip reader's facts (ZipIssue) into findings, one rule module per kind of issue. */
import type { Finding, Location } from '../../core/finding.js';
import * as limit from '../formats/rules/limit-exceeded.js';
import * as ambiguousEnd from './rules/zip-ambiguous-end.js';
import * as caseCollision from './rules/zip-case-collision.js';
import * as duplicateName from './rules/zip-duplicate-name.js';
import * as headerMismatch from './rules/zip-header-mismatch.js';
import * as malformed from './rules/zip-malformed.js';
import * as overlap from './rules/zip-overlap.js';
import * as unaccounted from './rules/zip-unaccounted-data.js';
import * as unsafePath from './rules/zip-unsafe-path.js';
import * as zip64 from './rules/zip64.js';
import type { ZipArchive, ZipIssueKind } from './zip.js';

const BY_KIND: Record<ZipIssueKind, { check: typeof malformed.check }> = {
  malformed,
  'header-mismatch': headerMismatch,
  'duplicate-name': duplicateName,
  'case-collision': caseCollision,
  'unsafe-path': unsafePath,
  overlap,
  'unaccounted-data': unaccounted,
  'ambiguous-end': ambiguousEnd,
  zip64,
  limit,
};

export function zipIssueFindings(zip: ZipArchive, where: Location): Finding[] {
  const out: Finding[] = [];
  if (zip.fatal) out.push(malformed.check(`not a readable zip archive: ${zip.fatal}`, where));
  for (const i of zip.issues) {
    const loc: Location = { ...where };
    if (i.entry !== undefined) loc.entry = where.entry ? `${where.entry}!${i.entry}` : i.entry;
    if (i.offset !== undefined) loc.offset = i.offset;
    out.push(BY_KIND[i.kind].check(i.message, loc, i.evidence));
  }
  return out;
}
