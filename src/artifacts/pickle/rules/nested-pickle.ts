/**
 * Pickles inside pickles: bytes (or text) handed to a loader (pickle.loads, torch.load, ...), and bytes values
 * that start like a binary pickle, are analysed recursively (bounded depth); their findings are reported with
 * the nesting path. Bytes that merely look like a pickle and are not handed to a loader only report what they
 * would import (a parse error there is not a finding: raw array data can start with 0x80 by chance).
 */

import { pushAll } from '../../../core/arrays.js';
import { ATLAS } from '../../../core/atlas.js';
import type { Finding } from '../../../core/finding.js';
import { LIMITS } from '../../../core/limits.js';
import { makeFinding, type RuleMeta } from '../../../core/rule.js';
import { LOADERS } from '../loaders.js';
import { isBytes, isCall, isGlobal, isSeq, type PyBytes, type PyValue } from '../value.js';
import { at, nestingEvidence, type RuleContext } from './context.js';

export const meta: RuleMeta = {
  id: 'pickle/nested-pickle',
  title: 'Pickle contains another pickle',
  severity: 'info',
  atlas: ATLAS.unsafeArtifacts,
  rationale:
    'A payload can hide one level down: bytes passed to pickle.loads (or torch.load, dill, joblib) inside an otherwise plain pickle, or a pickled blob stored as a value. Antidote analyses such bytes as pickles of their own, up to a bounded depth, and reports what they contain under the path that leads to them.',
};

/** Bytes and text reachable from a call's arguments (through tuples, lists and wrapper calls like BytesIO). */
function payloads(v: PyValue, out: Array<PyBytes | string>, depth: number): void {
  if (depth > 4 || v === null || v === undefined) return;
  if (typeof v === 'string') out.push(v);
  else if (isBytes(v)) out.push(v);
  else if (isSeq(v)) for (const it of v.items.slice(0, 16)) payloads(it, out, depth + 1);
  else if (isCall(v)) payloads(v.args, out, depth + 1);
}

function startsLikePickle(b: Uint8Array): boolean {
  if (b.length < 2) return false;
  if (b[0] === 0x80) return b[1] <= 5;
  // Protocol 0/1 streams start with an opcode that pushes something.
  return b[b.length - 1] === 0x2e && '(cdl]}NIJKSVX)'.includes(String.fromCharCode(b[0]));
}

/** torch.save's legacy format: a pickle of this magic number, then protocol, sys_info, the object, the keys. */
const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const TORCH_LEGACY_PICKLES = 5;
const TORCH_LOADERS = new Set(['torch.load', 'torch.serialization.load', 'torch.storage._load_from_bytes']);

/**
 * The pickles a loader reads from `bytes`: one for pickle.loads and friends; for torch loaders on the legacy
 * format, the five pickles torch.load reads. A zip (torch's current format) cannot be opened here: blocks.
 */
function analyzeLoaderPayload(
  ctx: RuleContext,
  loader: string,
  bytes: Uint8Array,
  base: number,
  path: string,
): Finding[] {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4) {
    return [
      {
        rule: meta.id,
        severity: 'high',
        message: `A zip archive is handed to ${loader} (${path}); a checkpoint inside a pickle cannot be analysed here, so it blocks.`,
        location: at(ctx, base),
        evidence: { path, loader, ...nestingEvidence(ctx) },
        atlas: ATLAS.unsafeArtifacts,
      },
    ];
  }
  const out: Finding[] = [];
  let off = 0;
  const first = ctx.analyzeNested(bytes, 0, bytes.length, base, path);
  pushAll(out, first.findings);
  const legacy = TORCH_LOADERS.has(loader) && first.complete && first.value === TORCH_LEGACY_MAGIC;
  if (!legacy) return out;
  off = first.end;
  for (let n = 1; n < TORCH_LEGACY_PICKLES; n++) {
    const r = ctx.analyzeNested(
      bytes.subarray(off),
      0,
      bytes.length - off,
      base + off,
      `${path}, pickle ${n + 1} of the legacy torch file`,
    );
    pushAll(out, r.findings);
    if (!r.complete) break;
    off += r.end;
  }
  return out;
}

/** At most this many info findings about nested pickles per pickle; the rest are counted in one summary. */
const MAX_INFO = 10;

export function check(ctx: RuleContext): Finding[] {
  const out = checkAll(ctx);
  let infos = 0;
  const kept = out.filter((f) => f.severity !== 'info' || f.rule !== meta.id || ++infos <= MAX_INFO);
  if (infos > MAX_INFO) {
    kept.push(
      makeFinding(
        meta,
        `${infos - MAX_INFO} more nested pickles were analysed; only their non-informational findings are listed.`,
        {
          location: at(ctx, 0),
          evidence: { nestedPickles: infos, ...nestingEvidence(ctx) },
        },
      ),
    );
  }
  return kept;
}

function checkAll(ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<PyBytes | string>();
  const deeper = ctx.depth + 1;
  const tooDeep = deeper > LIMITS.pickle.maxNestedPickleDepth;

  for (const c of ctx.vm.calls) {
    if (!isGlobal(c.fn) || !LOADERS.has(c.fn.qualified)) continue;
    const found: Array<PyBytes | string> = [];
    payloads(c.args, found, 0);
    for (const p of found) {
      // The memo lets one payload be handed to loaders many times: analyse each distinct payload once.
      if (seen.has(p)) continue;
      seen.add(p);
      if (typeof p === 'string' && !startsLikePickle(latin1Bytes(p.slice(0, 2) + p.slice(-1)))) continue;
      const path = `${c.fn.qualified} argument at byte ${c.offset}`;
      if (tooDeep) {
        out.push(depthFinding(ctx, c.offset, path));
        continue;
      }
      if (typeof p === 'string')
        pushAll(out, analyzeLoaderPayload(ctx, c.fn.qualified, latin1Bytes(p), c.offset, path));
      else pushAll(out, analyzeLoaderPayload(ctx, c.fn.qualified, p.data, p.offset, path));
      out.push(info(ctx, c.offset, path));
    }
  }

  for (const b of ctx.vm.pickleLike) {
    if (seen.has(b) || tooDeep) continue;
    const path = `bytes value at byte ${b.offset}`;
    // torch.save bytes (legacy format) reach torch.load through allowed helpers too: read them as torch.load.
    const first = ctx.analyzeNested(b.data, 0, b.data.length, b.offset, path);
    if (first.complete && first.value === TORCH_LEGACY_MAGIC) {
      pushAll(out, analyzeLoaderPayload(ctx, 'torch.load', b.data, b.offset, path));
      out.push(info(ctx, b.offset, path));
      continue;
    }
    const inner = first.findings;
    const policy = inner.filter((f) => f.rule !== 'pickle/malformed' && f.rule !== 'pickle/limit');
    if (policy.length === 0) continue;
    pushAll(out, policy);
    out.push(info(ctx, b.offset, path));
  }
  return out;
}

function latin1Bytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

function info(ctx: RuleContext, offset: number, path: string): Finding {
  return makeFinding(
    meta,
    `A nested pickle (${path}) was analysed; its findings are listed with this path.`,
    {
      location: at(ctx, offset),
      evidence: { path, ...nestingEvidence(ctx) },
    },
  );
}

function depthFinding(ctx: RuleContext, offset: number, path: string): Finding {
  return {
    rule: 'pickle/limit',
    severity: 'high',
    message: `Pickles are nested more than ${LIMITS.pickle.maxNestedPickleDepth} levels deep (${path}); the innermost was not analysed.`,
    location: at(ctx, offset),
    evidence: { path, ...nestingEvidence(ctx) },
    atlas: ATLAS.unsafeArtifacts,
  };
}
