/**
 * Zip-based artifacts: PyTorch checkpoints (torch.save since 1.6), TorchScript archives, numpy .npz and
 * any other zip. One module because the kind is only known after reading the central directory (the
 * first bytes of all of them are `PK\x03\x04`).
 *   - every pickle entry is analysed, whatever its folder or name: *.pkl, *.pickle, *.debug_pkl, and any
 *     entry whose first bytes are a protocol 2-5 pickle (sniffed from the bytes read with its header);
 *   - tensor data entries are never read beyond their first bytes: the cost follows the pickles;
 *   - .npy members are parsed as numpy does; other members of a plain zip get full detection (nesting).
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import * as crcRule from '../containers/rules/zip-crc-mismatch.js';
import * as encFlag from '../containers/rules/zip-encryption-flag.js';
import { MemorySource, sliceSource } from '../containers/sync-source.js';
import {
  openZip,
  readEntry,
  readEntryHead,
  type ZipArchive,
  type ZipEntry,
  ZipReadError,
} from '../containers/zip.js';
import { zipIssueFindings } from '../containers/zip-findings.js';
import { isPickleOpcode, isZip, sniffPickle, walkPickle } from '../detect.js';
import type { Policy } from '../pickle/api.js';
import type { ByteSource } from '../source.js';
import { NPY_HEAD, scanNpyBytes } from './numpy.js';
import { scanPickleStream } from './pickle-stream.js';
import * as limit from './rules/limit-exceeded.js';
import * as unanalysable from './rules/unanalysable.js';
import { analyzeCode, type CodeFile, torchscriptPolicy } from './torchscript.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

type Kind = 'pytorch-zip' | 'torchscript' | 'npz' | 'zip';

const PICKLE_NAME = /(\.pkl|\.pickle|debug_pkl)$/i;
const CODE_NAME = /(^|\/)code\/.*\.py$/;
/** Bytes sniffed from an unnamed entry that starts like a protocol 2+ pickle. */
const SNIFF_BYTES = 4096;
/** Bytes read from an unnamed entry that starts with a protocol 0/1 opcode. */
const TEXT_SNIFF_BYTES = 512;

export function classifyZip(entries: readonly ZipEntry[]): Kind {
  const names = entries.map((e) => e.name);
  // The suffix tests only skip the regular expressions for names that cannot match them.
  if (
    names.some(
      (n) =>
        (n.endsWith('.pkl') && /(^|\/)constants\.pkl$/.test(n)) || (n.endsWith('.py') && CODE_NAME.test(n)),
    )
  )
    return 'torchscript';
  if (names.some((n) => /(^|\/)data\.pkl$/.test(n))) return 'pytorch-zip';
  if (names.length && names.every((n) => n.endsWith('.npy') || n.endsWith('/'))) return 'npz';
  return 'zip';
}

interface Acc {
  findings: Finding[];
  complete: boolean;
  pickles: number;
  globals: Set<string>;
  decompressed: number;
}

async function readOrReport(
  zip: ZipArchive,
  en: ZipEntry,
  where: Location,
  acc: Acc,
): Promise<Uint8Array | null> {
  try {
    const remaining = LIMITS.archive.maxDecompressedBytes - acc.decompressed;
    const r = await readEntry(zip, en, Math.min(LIMITS.archive.maxEntryBytes, Math.max(0, remaining)));
    acc.decompressed += r.bytes.length;
    if (!r.crcMatches) acc.findings.push(crcRule.check(`entry "${en.name}" does not match its CRC`, where));
    if (r.plaintextDespiteFlag) {
      acc.findings.push(
        encFlag.check(`entry "${en.name}" is flagged as encrypted but holds plain data`, where),
      );
    }
    return r.bytes;
  } catch (err) {
    if (!(err instanceof ZipReadError)) throw err;
    acc.complete = false;
    const rule = err.reason === 'limit' ? limit : unanalysable;
    const hint: Record<ZipReadError['reason'], string> = {
      encrypted: 'it cannot be analysed without the password; decrypt the archive and scan its contents',
      method: 'unpack the archive with a tool that reads it and scan the contents',
      corrupt: 'a loader may still read part of it; re-export the file from its source',
      limit: 'raise the limit only for a file you trust',
    };
    acc.findings.push(
      rule.check(`entry "${en.name}" ${err.message}: ${hint[err.reason]}`, where, { reason: err.reason }),
    );
    return null;
  }
}

async function scanPickleEntry(
  bytes: Uint8Array,
  policy: Policy,
  where: Location,
  ctx: ScanContext,
  acc: Acc,
): Promise<void> {
  const s = await scanPickleStream(bytes, { policy, location: where, depth: ctx.depth });
  acc.findings.push(...s.findings);
  acc.pickles += s.pickles.length;
  for (const g of s.globals) acc.globals.add(g);
  if (!s.complete) acc.complete = false;
}

/**
 * Does an unnamed entry hold a pickle? Random tensor bytes must not look like one, so only two shapes
 * count: a protocol 2-5 stream (PROTO first) that stays well formed, and a protocol 0/1 stream whose first
 * bytes import a name written out as text (GLOBAL or INST with two Python names).
 */
function ruledOutByHeader(en: ZipEntry): boolean {
  // The first two bytes came with the local header: most tensors are ruled out without a read (and
  // without an async call: a checkpoint has tens of thousands of them).
  return (
    en.uncompressedSize < 2 || (en.method === 0 && (en.rawHead16 < 0 || !isPickleOpcode(en.rawHead16 & 0xff)))
  );
}

async function entryLooksLikePickle(zip: ZipArchive, en: ZipEntry): Promise<boolean> {
  if (ruledOutByHeader(en)) return false;
  let lo: number;
  let hi: number;
  if (en.method === 0) {
    lo = en.rawHead16 & 0xff;
    hi = en.rawHead16 >> 8;
  } else {
    const h = await readEntryHead(zip, en, 2);
    if (h.length < 2) return false;
    lo = h[0];
    hi = h[1];
  }
  if (!isPickleOpcode(lo)) return false;
  if (lo === 0x80 && hi >= 2 && hi <= 5) {
    const head = await readEntryHead(zip, en, SNIFF_BYTES);
    const complete = head.length >= en.uncompressedSize;
    const s = sniffPickle(head, 0, {
      requireProto: true,
      minPrefixOpcodes: complete ? Number.POSITIVE_INFINITY : 16,
    });
    return s === 'pickle' || s === 'pickle-prefix';
  }
  return walkPickle(await readEntryHead(zip, en, TEXT_SNIFF_BYTES)).namedImports;
}

/** `name.toLowerCase().endsWith('.npy')`, without lower-casing every name (only 'y' and 'Y' lower to 'y'). */
function endsWithNpy(name: string): boolean {
  return (name.charCodeAt(name.length - 1) | 0x20) === 0x79 && name.toLowerCase().endsWith('.npy');
}

function memberSource(zip: ZipArchive, en: ZipEntry, bytes: Uint8Array | null): ByteSource {
  if (bytes) return new MemorySource(en.name, bytes);
  return sliceSource(en.name, zip.source, en.dataOffset, en.compressedSize);
}

export async function scanZip(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where: Location = { file: ctx.displayPath };
  const zip = await openZip(source);
  const acc: Acc = {
    findings: zipIssueFindings(zip, where),
    complete: !zip.fatal,
    pickles: 0,
    globals: new Set(),
    decompressed: 0,
  };
  if (zip.fatal) return { format: 'zip', findings: acc.findings, complete: false };
  const kind = classifyZip(zip.entries);
  let policy = ctx.policy;
  const at = (en: ZipEntry): Location => ({ file: where.file, entry: en.name });

  // TorchScript: read the code first; its classes are the `__torch__` names the pickles may use.
  const code: CodeFile[] = [];
  if (kind === 'torchscript') {
    const dec = new TextDecoder('utf-8', { fatal: false });
    for (const en of zip.entries) {
      if (!CODE_NAME.test(en.name)) continue;
      const bytes = await readOrReport(zip, en, at(en), acc);
      if (bytes) code.push({ name: en.name, text: dec.decode(bytes) });
    }
    policy = torchscriptPolicy(policy, code);
  }

  let nested = 0;
  for (const en of zip.entries) {
    if (en.name.endsWith('/') && en.uncompressedSize === 0) continue;
    if (kind === 'torchscript' && CODE_NAME.test(en.name)) continue;
    // The fast path of a checkpoint's tensor entries: nothing to read, no location to build.
    if (
      (kind === 'pytorch-zip' || kind === 'torchscript') &&
      (en.method === 0 || en.method === 8) &&
      !en.encryptedFlag &&
      ruledOutByHeader(en) &&
      !PICKLE_NAME.test(en.name) &&
      !endsWithNpy(en.name)
    )
      continue;
    const loc = at(en);
    if (en.method !== 0 && en.method !== 8) {
      acc.complete = false;
      acc.findings.push(
        unanalysable.check(
          `entry "${en.name}" uses compression method ${en.method}, which Antidote does not read`,
          loc,
        ),
      );
      continue;
    }
    // An entry flagged as encrypted is read in full: either it is plain data (and scanned) or it blocks.
    const flagged = en.encryptedFlag ? await readOrReport(zip, en, loc, acc) : null;
    if (en.encryptedFlag && !flagged) continue;

    if (PICKLE_NAME.test(en.name)) {
      const bytes = flagged ?? (await readOrReport(zip, en, loc, acc));
      if (bytes) await scanPickleEntry(bytes, policy, loc, ctx, acc);
      continue;
    }
    if (endsWithNpy(en.name) || kind === 'npz') {
      const head = flagged ?? (await readEntryHead(zip, en, NPY_HEAD));
      const readAll = async () => flagged ?? (await readOrReport(zip, en, loc, acc)) ?? new Uint8Array(0);
      const r = await scanNpyBytes(head, en.uncompressedSize, readAll, { ...ctx, policy }, loc);
      acc.findings.push(...r.findings);
      if (!r.complete) acc.complete = false;
      for (const g of (r.details?.globals as string[] | undefined) ?? []) acc.globals.add(g);
      continue;
    }
    if (kind === 'zip') {
      // A plain zip: each member is a file of its own, with full detection.
      if (ctx.depth + 1 > LIMITS.archive.maxArchiveDepth) {
        acc.complete = false;
        acc.findings.push(
          limit.check(`archives nest deeper than ${LIMITS.archive.maxArchiveDepth} levels`, loc),
        );
        break;
      }
      const bytes = flagged ?? (en.method === 0 ? null : await readOrReport(zip, en, loc, acc));
      if (en.method !== 0 && !bytes) continue;
      const r = await ctx.scanNested(memberSource(zip, en, bytes), { entry: en.name });
      nested++;
      acc.findings.push(...r.findings);
      if (!r.complete) acc.complete = false;
      for (const g of (r.details?.globals as string[] | undefined) ?? []) acc.globals.add(g);
      continue;
    }
    // PyTorch / TorchScript data entries: sniffed, never read unless they start like a pickle.
    if (
      flagged ? sniffPickle(flagged, 0, { requireProto: true }) !== 'no' : await entryLooksLikePickle(zip, en)
    ) {
      const bytes = flagged ?? (await readOrReport(zip, en, loc, acc));
      if (bytes) await scanPickleEntry(bytes, policy, loc, ctx, acc);
    }
  }

  if (kind === 'torchscript') {
    const c = await analyzeCode(code, where);
    acc.findings.push(...c.findings);
    if (!c.analysed) acc.complete = false;
  }
  if ((kind === 'pytorch-zip' || kind === 'torchscript') && acc.pickles === 0 && acc.complete) {
    acc.complete = false;
    acc.findings.push(
      unanalysable.check(
        'the archive looks like a PyTorch checkpoint but no pickle in it could be read',
        where,
      ),
    );
  }
  return {
    format: kind,
    findings: acc.findings,
    complete: acc.complete,
    details: {
      entries: zip.entries.length,
      pickles: acc.pickles,
      globals: [...acc.globals].sort(),
      ...(nested ? { members: nested } : {}),
      ...(zip.zip64 ? { zip64: true } : {}),
      ...(code.length ? { codeFiles: code.length } : {}),
      ...(policy !== ctx.policy
        ? { archiveAllowed: [...policy.allowed].filter((n) => !ctx.policy.allowed.has(n)).sort() }
        : {}),
    },
  };
}

export const zipFormat: FormatScanner = {
  id: 'zip',
  title: 'zip archive (PyTorch checkpoint, TorchScript, numpy .npz, other)',
  detect: ({ head }) => isZip(head),
  scan: scanZip,
};
