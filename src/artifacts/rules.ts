/**
 * The catalogue of every artifact rule's metadata, by id: the scanner's own rules (containers, formats,
 * orchestration), the pickle analyser's rules and the other format modules' rules. Used by SARIF
 * (rule descriptors) and the README's rule table. Loads no scanner code.
 */
import type { RuleMeta } from '../core/rule.js';
import * as tarLink from './containers/rules/tar-link.js';
import * as tarMalformed from './containers/rules/tar-malformed.js';
import * as tarUnsafePath from './containers/rules/tar-unsafe-path.js';
import * as zipAmbiguousEnd from './containers/rules/zip-ambiguous-end.js';
import * as zipCaseCollision from './containers/rules/zip-case-collision.js';
import * as zipCrcMismatch from './containers/rules/zip-crc-mismatch.js';
import * as zipDuplicateName from './containers/rules/zip-duplicate-name.js';
import * as zipEncryptionFlag from './containers/rules/zip-encryption-flag.js';
import * as zipHeaderMismatch from './containers/rules/zip-header-mismatch.js';
import * as zipMalformed from './containers/rules/zip-malformed.js';
import * as zipOverlap from './containers/rules/zip-overlap.js';
import * as zipUnaccounted from './containers/rules/zip-unaccounted-data.js';
import * as zipUnsafePath from './containers/rules/zip-unsafe-path.js';
import * as zip64 from './containers/rules/zip64.js';
import { templateRules } from './formats/jinja/check.js';
import * as incomplete from './formats/rules/incomplete.js';
import * as internalError from './formats/rules/internal-error.js';
import * as lfsPointer from './formats/rules/lfs-pointer.js';
import * as limitExceeded from './formats/rules/limit-exceeded.js';
import * as numpyHeader from './formats/rules/numpy-header.js';
import * as numpySize from './formats/rules/numpy-size.js';
import * as symlink from './formats/rules/symlink.js';
import * as legacyStorage from './formats/rules/torch-legacy-storage.js';
import * as trailingData from './formats/rules/trailing-data.js';
import * as unanalysable from './formats/rules/unanalysable.js';
import * as unknownFormat from './formats/rules/unknown-format.js';
import * as walkLimit from './formats/rules/walk-limit.js';

/** The scanner's own rules (this module's siblings). */
export const scannerRules: readonly RuleMeta[] = [
  internalError,
  unanalysable,
  lfsPointer,
  limitExceeded,
  incomplete,
  walkLimit,
  symlink,
  unknownFormat,
  trailingData,
  zipMalformed,
  zipHeaderMismatch,
  zipDuplicateName,
  zipCaseCollision,
  zipUnsafePath,
  zipOverlap,
  zipUnaccounted,
  zipAmbiguousEnd,
  zipEncryptionFlag,
  zipCrcMismatch,
  zip64,
  tarMalformed,
  tarUnsafePath,
  tarLink,
  numpyHeader,
  numpySize,
  legacyStorage,
  ...templateRules,
].map((m) => m.meta);

function isMeta(x: unknown): x is RuleMeta {
  return (
    !!x &&
    typeof x === 'object' &&
    typeof (x as RuleMeta).id === 'string' &&
    typeof (x as RuleMeta).title === 'string'
  );
}

/** Accepts a RuleMeta[], a Map or record of them, or modules exporting `meta`. */
function metasOf(x: unknown): RuleMeta[] {
  if (!x) return [];
  const items =
    x instanceof Map ? [...x.values()] : Array.isArray(x) ? x : typeof x === 'object' ? Object.values(x) : [];
  return items
    .map((i) =>
      isMeta(i) ? i : isMeta((i as { meta?: unknown })?.meta) ? (i as { meta: RuleMeta }).meta : undefined,
    )
    .filter(isMeta);
}

async function optional(load: () => Promise<Record<string, unknown>>, name: string): Promise<RuleMeta[]> {
  try {
    return metasOf((await load())[name]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') return [];
    throw err;
  }
}

let cached: Promise<Map<string, RuleMeta>> | undefined;

/** Every artifact rule's metadata by id (pickle analyser, format modules, scanner). */
export function ruleCatalog(): Promise<Map<string, RuleMeta>> {
  cached ??= (async () => {
    const all = [
      ...(await optional(() => import('./pickle/api.js'), 'pickleRules')),
      ...(await optional(() => import('./formats/rules-meta.js'), 'formatRules')),
      // Adapter forensics reports into scans of adapter folders.
      ...(await optional(() => import('../weights/rules.js'), 'adapterForensicsRules')),
      ...scannerRules,
    ];
    const map = new Map<string, RuleMeta>();
    for (const m of all) if (!map.has(m.id)) map.set(m.id, m);
    return map;
  })();
  return cached;
}
