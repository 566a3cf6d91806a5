/** A resource bound (opcodes, memo, stack, marks, nesting, size) was exceeded: block, never truncate. */
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/limit',
  title: 'Pickle exceeds an analysis limit',
  severity: 'high',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'Limits (src/core/limits.ts, pickle section) keep a hostile file from exhausting memory or time. Stopping at a limit means part of the stream was never checked, so the file blocks; the limits are generous enough for real checkpoints (a 20,000-tensor state dict uses about 3% of the opcode budget).',
};

export function check(ctx: RuleContext): Finding[] {
  const e = ctx.vm.error;
  if (!e || e.kind !== 'limit') return [];
  return [
    makeFinding(
      meta,
      `Analysis stopped at a limit: ${e.message} (byte ${e.offset}); the rest of the pickle was not checked.`,
      {
        location: at(ctx, e.offset, e.index),
        evidence: { reason: e.message, opcodesRead: ctx.vm.opcodes, ...nestingEvidence(ctx) },
      },
    ),
  ];
}
