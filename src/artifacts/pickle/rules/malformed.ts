/** Fail closed: a stream the loader would read differently, or that stops before STOP, blocks. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/malformed',
  title: 'Pickle stream cannot be fully analysed',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    "A truncated stream, an unknown opcode, a stack underflow, a missing MARK or memo entry, or an operand of the wrong type stops CPython's loader with an error, but only after it has run everything before that point; scanners that give up silently on such files have been bypassed repeatedly. Antidote reports the first error with its offset and blocks the file: what cannot be analysed is not passed.",
};

export function check(ctx: RuleContext): Finding[] {
  const e = ctx.vm.error;
  if (!e || e.kind !== 'malformed') return [];
  return [
    makeFinding(
      meta,
      `The pickle cannot be fully analysed: ${e.message} (opcode ${e.opcode ?? '?'} at byte ${e.offset}).`,
      {
        location: at(ctx, e.offset, e.index),
        evidence: {
          reason: e.message,
          opcode: e.opcode,
          opcodesRead: ctx.vm.opcodes,
          ...nestingEvidence(ctx),
        },
      },
    ),
  ];
}
