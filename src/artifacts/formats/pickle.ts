/**
 * Raw pickle files, protocols 0 to 5 (protocol 0/1 text pickles have no PROTO opcode and are recognised by
 * their opcode structure). A genuine pickle is claimed whatever its name; bytes that are only a well-formed
 * prefix by chance (text, tensor data) are claimed only under a name loaders unpickle (detect.ts). Every pickle a loader could read from the stream is
 * analysed: pickle.load stops at STOP, but code that calls it again reads the next one.
 */
import { LIMITS } from '../../core/limits.js';
import { readAt } from '../containers/sync-source.js';
import { isPickleLoaderName, pickleEvidence } from '../detect.js';
import type { ByteSource } from '../source.js';
import { scanPickleStream } from './pickle-stream.js';
import * as limit from './rules/limit-exceeded.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

export async function scanRawPickle(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  if (source.size > LIMITS.pickle.maxPickleBytes) {
    return {
      format: 'pickle',
      findings: [
        limit.check(
          `the pickle is ${source.size} bytes, over the limit of ${LIMITS.pickle.maxPickleBytes}`,
          where,
        ),
      ],
      complete: false,
    };
  }
  const bytes = await readAt(source, 0, source.size);
  const s = await scanPickleStream(bytes, { policy: ctx.policy, location: where, depth: ctx.depth });
  return {
    format: 'pickle',
    complete: s.complete,
    findings: s.findings,
    details: { pickles: s.pickles.length, globals: s.globals },
  };
}

export const pickleFormat: FormatScanner = {
  id: 'pickle',
  title: 'pickle stream (protocols 0-5)',
  detect: ({ head, size, name }) => {
    const e = pickleEvidence(head, size);
    return e === 'genuine' || (e === 'loose' && isPickleLoaderName(name));
  },
  scan: scanRawPickle,
};
