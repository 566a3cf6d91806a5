/**
 * in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md): the
 * subjects (artifact names and digests) and a typed predicate, carried as a DSSE payload of type
 * `application/vnd.in-toto+json`. Plain objects; the few rules worth checking are checked here.
 */
import { AntidoteError } from '../core/errors.js';
import { parseJsonBounded } from '../core/json-depth.js';

export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface ResourceDescriptor {
  name: string;
  digest: Record<string, string>;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_TYPE_V1;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

const HEX = /^[0-9a-f]+$/;

export function makeStatement<P>(
  subject: Array<{ name: string; digest: Record<string, string> | { sha256: string } }>,
  predicateType: string,
  predicate: P,
): Statement<P> {
  if (subject.length === 0)
    throw new AntidoteError('E_INTERNAL', 'an in-toto statement needs at least one subject');
  for (const s of subject) {
    const entries = Object.entries(s.digest);
    if (entries.length === 0 || entries.some(([, v]) => typeof v !== 'string' || !HEX.test(v))) {
      throw new AntidoteError('E_INTERNAL', `in-toto subject ${s.name} needs lowercase hex digests`);
    }
  }
  return {
    _type: STATEMENT_TYPE_V1,
    subject: subject.map((s) => ({ name: s.name, digest: { ...s.digest } })),
    predicateType,
    predicate,
  };
}

/** Serialise a statement as a DSSE payload (UTF-8 JSON, compact). */
export function statementBytes(statement: Statement): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

/** Structural check of an untrusted payload; returns the statement or a one-line reason. */
export function parseStatement(payload: Uint8Array): Statement | string {
  let v: unknown;
  try {
    v = parseJsonBounded(Buffer.from(payload).toString('utf8'));
  } catch {
    return 'the in-toto statement is not valid JSON';
  }
  if (!v || typeof v !== 'object') return 'the in-toto statement is not a JSON object';
  const s = v as Record<string, unknown>;
  if (s._type !== STATEMENT_TYPE_V1) return `unsupported in-toto statement type ${JSON.stringify(s._type)}`;
  if (!Array.isArray(s.subject) || s.subject.length === 0) return 'the in-toto statement has no subject';
  for (const sub of s.subject) {
    const d = (sub as ResourceDescriptor)?.digest;
    if (!sub || typeof sub !== 'object' || !d || typeof d !== 'object')
      return 'an in-toto subject has no digest';
  }
  if (typeof s.predicateType !== 'string') return 'the in-toto statement has no predicateType';
  return s as unknown as Statement;
}
