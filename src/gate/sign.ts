/**
 * The signed record of a gate decision: an in-toto Statement v1 whose subjects are both models and the
 * trusted set (sha256 digests) and whose predicate is the decision with its reasons, wrapped in a DSSE
 * envelope signed with the given PEM key (ECDSA or Ed25519), using the provenance layer's modules.
 */
import { signDsse } from '../provenance/dsse.js';
import { INTOTO_PAYLOAD_TYPE, makeStatement, statementBytes } from '../provenance/intoto.js';
import type { GateReport } from './decision.js';

export const GATE_PREDICATE_TYPE = 'https://antidote.dev/gate-decision/v1';

function hex(digest: string): string | undefined {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  return m?.[1];
}

export function decisionStatement(r: GateReport) {
  const subjects: Array<{ name: string; digest: { sha256: string } }> = [];
  const add = (name: string, digest: string) => {
    const h = hex(digest);
    if (h) subjects.push({ name, digest: { sha256: h } });
  };
  add(`candidate:${r.models.candidate.source}`, r.models.candidate.digest);
  add(`incumbent:${r.models.incumbent.source}`, r.models.incumbent.digest);
  add(`trusted:${r.trusted.path}`, r.trusted.digest);
  if (r.live) add(`live:${r.live.path}`, r.live.digest);
  return makeStatement(subjects, GATE_PREDICATE_TYPE, {
    decision: r.decision,
    reasons: r.reasons,
    createdAt: r.createdAt,
    tool: r.tool,
    models: r.models,
    trusted: { path: r.trusted.path, digest: r.trusted.digest, rows: r.trusted.rows },
    checks: r.checks,
    metrics: r.metrics?.metrics.map((m) => ({
      name: m.name,
      incumbent: m.incumbent,
      candidate: m.candidate,
      diff: m.diff,
      ci: m.ci,
    })),
    findings: r.findings.map((f) => ({ rule: f.rule, severity: f.severity, message: f.message })),
  });
}

export function signDecision(r: GateReport, privateKeyPem: string | Buffer) {
  return signDsse(statementBytes(decisionStatement(r)), INTOTO_PAYLOAD_TYPE, privateKeyPem);
}
