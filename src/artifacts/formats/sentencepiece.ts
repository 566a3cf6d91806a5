/**
 * SentencePiece models (`tokenizer.model`, `spiece.model`, `sentencepiece.bpe.model`): a protobuf ModelProto
 * whose top-level fields are 1 pieces (repeated SentencePiece {1 piece: string, 2 score: float, 3 type: enum}),
 * 2 trainer_spec, 3 normalizer_spec, 4 self_test_data and 5 denormalizer_spec. The sentencepiece library reads
 * it with protobuf; nothing in it is code. Claimed only when every top-level field is one of those five,
 * length-delimited, and the fields cover the file to its last byte, with every piece well-formed: a `.model`
 * file that is anything else still falls through to the catch-all, which blocks a model-named unknown.
 */
import { readAt } from '../containers/sync-source.js';
import type { ByteSource } from '../source.js';
import * as limit from './rules/limit-exceeded.js';
import * as unanalysable from './rules/unanalysable.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

const MAX_BYTES = 256 * 1024 * 1024;

function varint(b: Uint8Array, pos: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) return undefined;
    const x = b[pos++];
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, pos];
  }
  return undefined;
}

/** One SentencePiece message: field 1 is a UTF-8 string, 2 a fixed32 float, 3 a varint enum. */
function pieceOk(b: Uint8Array, from: number, to: number): boolean {
  let pos = from;
  let sawPiece = false;
  while (pos < to) {
    const t = varint(b, pos);
    if (!t) return false;
    const [tag, p] = t;
    pos = p;
    const no = Math.floor(tag / 8);
    const wire = tag % 8;
    if (no === 1 && wire === 2) {
      const l = varint(b, pos);
      if (!l || l[1] + l[0] > to) return false;
      pos = l[1] + l[0];
      sawPiece = true;
    } else if (no === 2 && wire === 5) pos += 4;
    else if (no === 3 && wire === 0) {
      const v = varint(b, pos);
      if (!v) return false;
      pos = v[1];
    } else return false;
  }
  return pos === to && sawPiece;
}

interface Walk {
  ok: boolean;
  pieces: number;
  /** Where the walk stopped (the end of the bytes when it ran off them mid-field). */
  end: number;
  problem?: string;
}

/** Walk the top-level fields of `b` (the whole file, or a head when `partial`). */
function walkModel(b: Uint8Array, partial: boolean): Walk {
  let pos = 0;
  let pieces = 0;
  while (pos < b.length) {
    const t = varint(b, pos);
    if (!t) return { ok: partial, pieces, end: pos, problem: `unreadable field tag at ${pos}` };
    const [tag, p] = t;
    const no = Math.floor(tag / 8);
    if (tag % 8 !== 2 || no < 1 || no > 5)
      return {
        ok: false,
        pieces,
        end: pos,
        problem: `field ${no} (wire ${tag % 8}) at ${pos} is not a ModelProto field`,
      };
    const l = varint(b, p);
    if (!l) return { ok: partial, pieces, end: pos, problem: `unreadable length at ${p}` };
    const [len, start] = l;
    if (start + len > b.length) {
      return {
        ok: partial,
        pieces,
        end: pos,
        problem: `field ${no} at ${pos} runs past the end of the file`,
      };
    }
    if (no === 1) {
      if (!pieceOk(b, start, start + len))
        return { ok: false, pieces, end: pos, problem: `piece at ${start} is malformed` };
      pieces++;
    } else if (pieces === 0) {
      return { ok: false, pieces, end: pos, problem: 'the model has no pieces before its specs' };
    }
    pos = start + len;
  }
  return { ok: pieces > 0, pieces, end: pos, problem: pieces > 0 ? undefined : 'no pieces' };
}

export function detectSentencePiece({ head, size }: DetectInput): boolean {
  if (head.length < 8 || head[0] !== 0x0a) return false;
  const w = walkModel(head, head.length < size);
  return w.ok && w.pieces >= 1;
}

export async function scanSentencePiece(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where = { file: ctx.displayPath };
  if (source.size > MAX_BYTES) {
    return {
      format: 'sentencepiece',
      complete: false,
      findings: [limit.check(`the SentencePiece model is over ${MAX_BYTES} bytes`, where)],
    };
  }
  const w = walkModel(await readAt(source, 0, source.size), false);
  if (!w.ok) {
    return {
      format: 'sentencepiece',
      complete: false,
      findings: [unanalysable.check(`the SentencePiece model is malformed: ${w.problem}`, where)],
    };
  }
  return { format: 'sentencepiece', complete: true, findings: [], details: { pieces: w.pieces } };
}

export const sentencePieceFormat: FormatScanner = {
  id: 'sentencepiece',
  title: 'SentencePiece model (protobuf)',
  detect: detectSentencePiece,
  scan: scanSentencePiece,
};
