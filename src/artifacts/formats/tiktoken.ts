/**
 * tiktoken BPE rank files (`cl100k_base.tiktoken`, and the `tokenizer.model` of models that use tiktoken):
 * one `<base64 token> <rank>` line per token. Plain data read by a text parser; claimed only when every line
 * has that shape, so a `.model` file that is anything else still reaches the catch-all.
 */
import { readAt } from '../containers/sync-source.js';
import type { ByteSource } from '../source.js';
import * as limit from './rules/limit-exceeded.js';
import * as unanalysable from './rules/unanalysable.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

const MAX_BYTES = 64 * 1024 * 1024;
const LINE = /^[A-Za-z0-9+/]+={0,2} [0-9]+$/;

/** Lines of `text`; a last line cut by the end of a head is left out. */
function lines(b: Uint8Array, whole: boolean): string[] | undefined {
  const text = Buffer.from(b).toString('latin1');
  const out = text.split('\n');
  if (!whole) out.pop();
  else if (out[out.length - 1] === '') out.pop();
  return out;
}

function badLine(ls: string[]): number {
  for (let i = 0; i < ls.length; i++) if (!LINE.test(ls[i])) return i;
  return -1;
}

export function detectTiktoken({ head, size }: DetectInput): boolean {
  if (head.length < 4) return false;
  const ls = lines(head, head.length >= size);
  return !!ls && ls.length >= 1 && badLine(ls) < 0;
}

export async function scanTiktoken(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  if (source.size > MAX_BYTES) {
    return {
      format: 'tiktoken',
      complete: false,
      findings: [limit.check(`the tiktoken rank file is over ${MAX_BYTES} bytes`, where)],
    };
  }
  const ls = lines(await readAt(source, 0, source.size), true) ?? [];
  const bad = badLine(ls);
  if (bad >= 0) {
    return {
      format: 'tiktoken',
      complete: false,
      findings: [
        unanalysable.check(`line ${bad + 1} of the tiktoken rank file is not "<base64> <rank>"`, where),
      ],
    };
  }
  return { format: 'tiktoken', complete: true, findings: [], details: { tokens: ls.length } };
}

export const tiktokenFormat: FormatScanner = {
  id: 'tiktoken',
  title: 'tiktoken BPE ranks (text)',
  detect: detectTiktoken,
  scan: scanTiktoken,
};
