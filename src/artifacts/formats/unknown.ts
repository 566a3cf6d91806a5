/**
 * The last entry of the registry: files no format claimed. A compressed wrapper node:zlib can open (gzip)
 * is opened and its content scanned; any other archive or compression wrapper (7z, rar, xz, bzip2, zstd,
 * lz4, lzma) blocks as unanalysable, since what is inside could be anything. A file named like a model
 * format that matches none blocks too (a loader chosen by the name could still run it); anything else is
 * listed as unknown and passes. A Git LFS pointer (a clone made without LFS) is named as one: in place of a
 * model it blocks, since the model's bytes were never there to scan; elsewhere it is listed.
 */
import { LIMITS } from '../../core/limits.js';
import { DecompressError, gunzipBounded } from '../containers/compression.js';
import { MemorySource, readAt } from '../containers/sync-source.js';
import { extensionOf, MODEL_EXTENSIONS, wrapperKind } from '../detect.js';
import type { ByteSource } from '../source.js';
import * as lfsPointer from './rules/lfs-pointer.js';
import * as limit from './rules/limit-exceeded.js';
import * as unanalysable from './rules/unanalysable.js';
import * as unknownRule from './rules/unknown-format.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

export async function scanUnknown(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  const head = await readAt(source, 0, Math.min(source.size, 64));
  const wrapper = wrapperKind(head);
  if (wrapper === 'gzip') {
    if (ctx.depth + 1 > LIMITS.archive.maxArchiveDepth) {
      return {
        format: 'gzip',
        findings: [limit.check('archives nest too deeply', where)],
        complete: false,
      };
    }
    try {
      const max = Math.min(
        LIMITS.archive.maxDecompressedBytes,
        Math.max(source.size * LIMITS.archive.maxCompressionRatio, 1 << 20),
      );
      const inner = await gunzipBounded(await readAt(source, 0, source.size), max);
      const r = await ctx.scanNested(new MemorySource(`${source.name}!gunzip`, inner), { entry: '(gunzip)' });
      return {
        format: `gzip+${r.format}`,
        complete: r.complete,
        findings: r.findings,
        details: { ...r.details, decompressedBytes: inner.length },
      };
    } catch (err) {
      if (!(err instanceof DecompressError)) throw err;
      const rule = err.reason === 'limit' ? limit : unanalysable;
      return {
        format: 'gzip',
        findings: [rule.check(`the gzip stream ${err.message}`, where)],
        complete: false,
      };
    }
  }
  if (wrapper) {
    return {
      format: wrapper,
      findings: [
        unanalysable.check(
          `the file is a ${wrapper} archive or compressed stream that Antidote cannot open; unpack it and scan the contents`,
          where,
          {
            wrapper,
          },
        ),
      ],
      complete: false,
    };
  }
  const ext = extensionOf(source.name);
  const pointer =
    source.size < LFS_POINTER_MAX ? lfsPointerOf(await readAt(source, 0, source.size)) : undefined;
  if (pointer) {
    const what = `a Git LFS pointer to a file of ${pointer.size.toLocaleString('en-US')} bytes (sha256 ${pointer.oid.slice(0, 12)}…), not the file itself: it was never fetched`;
    if (MODEL_EXTENSIONS.has(ext))
      return {
        format: 'lfs-pointer',
        findings: [
          lfsPointer.check(
            `${what}, so the model was not scanned; run \`git lfs pull\` (or download the file) and scan again`,
            where,
            { oid: `sha256:${pointer.oid}`, size: pointer.size },
          ),
        ],
        complete: false,
      };
    return {
      format: 'lfs-pointer',
      findings: [unknownRule.check(`${what} (not named like a model)`, where)],
      complete: true,
    };
  }
  if (MODEL_EXTENSIONS.has(ext)) {
    return {
      format: 'unknown',
      findings: [
        unanalysable.check(
          `the file is named like a model (.${ext}) but its content matches no format Antidote reads${ext === 'bin' ? '; if it is tensor data an ONNX or OpenVINO model reads, scan the folder that holds both' : ''}`,
          where,
          {
            extension: ext,
            firstBytes: Buffer.from(head.subarray(0, 16)).toString('hex'),
          },
        ),
      ],
      complete: false,
    };
  }
  return {
    format: 'unknown',
    findings: [unknownRule.check('not a model format Antidote recognises', where)],
    complete: true,
  };
}

/** Git LFS pointers are smaller than this (its specification). */
const LFS_POINTER_MAX = 1024;
const LFS_VERSIONS = ['https://git-lfs.github.com/spec/v1', 'https://hawser.github.com/spec/v1'];

/** The oid and size of a Git LFS pointer file, or undefined when the bytes are not one. */
export function lfsPointerOf(bytes: Uint8Array): { oid: string; size: number } | undefined {
  const text = Buffer.from(bytes).toString('utf8');
  const lines = text.split(/\r?\n/).filter((l) => l !== '');
  const first = lines[0]?.match(/^version (\S+)$/);
  if (!first || !LFS_VERSIONS.includes(first[1])) return undefined;
  let oid: string | undefined;
  let size: number | undefined;
  for (const l of lines.slice(1)) {
    const m = l.match(/^([a-z0-9.-]+) (.*)$/);
    if (!m) return undefined;
    if (m[1] === 'oid') oid = m[2].match(/^sha256:([0-9a-f]{64})$/)?.[1];
    else if (m[1] === 'size' && /^\d+$/.test(m[2])) size = Number(m[2]);
  }
  return oid !== undefined && size !== undefined ? { oid, size } : undefined;
}

export const unknownFormat: FormatScanner = {
  id: 'unknown',
  title: 'unrecognised content',
  detect: () => true,
  scan: scanUnknown,
};
