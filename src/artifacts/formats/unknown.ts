/**
 * The last entry of the registry: files no format claimed. A compressed wrapper node:zlib can open (gzip)
 * is opened and its content scanned; any other archive or compression wrapper (7z, rar, xz, bzip2, zstd,
 * lz4, lzma) blocks as unanalysable, since what is inside could be anything. A file named like a model
 * format that matches none blocks too (a loader chosen by the name could still run it); anything else is
 * listed as unknown and passes.
 */
import { LIMITS } from '../../core/limits.js';
import { DecompressError, gunzipBounded } from '../containers/compression.js';
import { MemorySource, readAt } from '../containers/sync-source.js';
import { extensionOf, MODEL_EXTENSIONS, wrapperKind } from '../detect.js';
import type { ByteSource } from '../source.js';
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
      const inner = gunzipBounded(await readAt(source, 0, source.size), max);
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

export const unknownFormat: FormatScanner = {
  id: 'unknown',
  title: 'unrecognised content',
  detect: () => true,
  scan: scanUnknown,
};
