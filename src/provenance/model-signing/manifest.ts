/**
 * The OpenSSF model-signing manifest and its v1.0 in-toto payload, following the reference
 * implementation (github.com/sigstore/model-transparency, src/model_signing: manifest.py,
 * _signing/signing.py):
 *  - resources are files (name = path relative to the model, "." when the model is one file) or
 *    shards (name = "path:start:end"), sorted by path component by component, then start, end;
 *  - each resource carries `algorithm` (the hash type for files; "<hash>-sharded-<shard size>" for
 *    shards) and a hex `digest`;
 *  - the statement's single subject is the model's name with a SHA-256 over the concatenated raw
 *    resource digests in that order;
 *  - the predicate's `serialization` records method, hash_type, allow_symlinks, shard_size (shards)
 *    and ignore_paths (when any), so a verifier can hash the model the same way.
 * The older v0.2 payload (predicate `https://model_signing/Digests/v0.1`, one subject per file) is read
 * for verification only.
 */
import { createHash } from 'node:crypto';
import { parseJsonBounded } from '../../core/json-depth.js';
import { INTOTO_PAYLOAD_TYPE, STATEMENT_TYPE_V1 } from '../intoto.js';
import { comparePaths } from '../tree.js';
import { pyJsonDumps } from './pyjson.js';

export const PREDICATE_V1 = 'https://model_signing/signature/v1.0';
export const PREDICATE_V01 = 'https://model_signing/Digests/v0.1';
export { INTOTO_PAYLOAD_TYPE };

export type Method = 'files' | 'shards';

export interface Serialization {
  method: Method;
  /** The reference's hasher name: sha256 or blake2b (blake3 is not offered by Node). */
  hash_type: string;
  shard_size?: number;
  allow_symlinks: boolean;
  ignore_paths?: string[];
}

export interface Resource {
  name: string;
  algorithm: string;
  digest: string;
}

export interface Manifest {
  modelName: string;
  serialization: Serialization;
  /** Sorted (see `sortResources`). */
  resources: Resource[];
  /** Format the payload came in (verification only). */
  predicateType?: string;
}

/** Node's name for a reference hash type. */
export function nodeHashFor(hashType: string): string | null {
  if (hashType === 'sha256') return 'sha256';
  if (hashType === 'blake2b' || hashType === 'blake2') return 'blake2b512';
  return null;
}

export function resourceAlgorithm(s: Serialization): string {
  return s.method === 'shards' ? `${s.hash_type}-sharded-${s.shard_size}` : s.hash_type;
}

/** Split a resource name into its file path and (for shards) range. */
export function parseResourceName(
  name: string,
  method: Method,
): { path: string; start?: number; end?: number } {
  if (method === 'files') return { path: name };
  const parts = name.split(':');
  if (parts.length !== 3 || !/^\d+$/.test(parts[1]) || !/^\d+$/.test(parts[2])) {
    throw new Error(`invalid shard resource name ${JSON.stringify(name)} (expected path:start:end)`);
  }
  return { path: parts[0], start: Number(parts[1]), end: Number(parts[2]) };
}

export function sortResources(resources: Resource[], method: Method): Resource[] {
  const keyed = resources.map((r) => ({ r, k: parseResourceName(r.name, method) }));
  keyed.sort(
    (a, b) =>
      comparePaths(a.k.path, b.k.path) ||
      (a.k.start ?? 0) - (b.k.start ?? 0) ||
      (a.k.end ?? 0) - (b.k.end ?? 0),
  );
  return keyed.map((x) => x.r);
}

export function rootDigest(resources: readonly Resource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** The payload bytes, written as the reference writes them. */
export function payloadBytes(m: Manifest): Buffer {
  const s = m.serialization;
  const serialization: Record<string, unknown> = { method: s.method, hash_type: s.hash_type };
  if (s.method === 'shards') serialization.shard_size = s.shard_size;
  serialization.allow_symlinks = s.allow_symlinks;
  if (s.ignore_paths && s.ignore_paths.length > 0) serialization.ignore_paths = s.ignore_paths;
  const statement = {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: m.modelName, digest: { sha256: rootDigest(m.resources) } }],
    predicateType: PREDICATE_V1,
    predicate: {
      serialization,
      resources: m.resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
  return Buffer.from(pyJsonDumps(statement), 'utf8');
}

const HEX = /^[0-9a-f]+$/;

/**
 * Read a verified payload into a manifest. Throws a one-line Error describing what is inconsistent;
 * the caller reports it as a failed verification.
 */
export function payloadToManifest(payload: Uint8Array): Manifest {
  let st: Record<string, unknown>;
  try {
    st = parseJsonBounded(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error('the signed payload is not valid JSON');
  }
  if (!st || typeof st !== 'object') throw new Error('the signed payload is not a JSON object');
  if (st._type !== STATEMENT_TYPE_V1)
    throw new Error(`expected an in-toto ${STATEMENT_TYPE_V1} payload, got ${JSON.stringify(st._type)}`);
  const subjects = st.subject as Array<{ name?: unknown; digest?: Record<string, unknown> }>;
  if (!Array.isArray(subjects)) throw new Error('the statement has no subject list');
  if (st.predicateType === PREDICATE_V01) {
    const resources = subjects.map((s) => {
      const d = s?.digest?.sha256;
      if (typeof s?.name !== 'string' || typeof d !== 'string' || !HEX.test(d))
        throw new Error('a v0.1 subject lacks a name or sha256 digest');
      return { name: s.name, algorithm: 'sha256', digest: d };
    });
    return {
      modelName: 'compat-undefined-not-present',
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false },
      resources: sortResources(resources, 'files'),
      predicateType: PREDICATE_V01,
    };
  }
  if (st.predicateType !== PREDICATE_V1) {
    throw new Error(
      `predicate type mismatch: expected ${PREDICATE_V1}, got ${JSON.stringify(st.predicateType)}`,
    );
  }
  if (subjects.length !== 1) throw new Error(`expected exactly one subject, got ${subjects.length}`);
  const subject = subjects[0];
  const expectedRoot = subject?.digest?.sha256;
  if (typeof expectedRoot !== 'string') throw new Error('the subject has no sha256 digest');
  const predicate = st.predicate as { serialization?: Record<string, unknown>; resources?: unknown[] };
  const ser = predicate?.serialization;
  if (!ser || typeof ser !== 'object') throw new Error('the predicate has no serialization section');
  if (ser.method !== 'files' && ser.method !== 'shards')
    throw new Error(`unknown serialization method ${JSON.stringify(ser.method)}`);
  if (typeof ser.hash_type !== 'string') throw new Error('the serialization section has no hash_type');
  if (typeof ser.allow_symlinks !== 'boolean')
    throw new Error('the serialization section has no allow_symlinks flag');
  const serialization: Serialization = {
    method: ser.method,
    hash_type: ser.hash_type,
    allow_symlinks: ser.allow_symlinks,
  };
  if (ser.method === 'shards') {
    const n = ser.shard_size;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
      throw new Error('the shard serialization has no valid shard_size');
    serialization.shard_size = n;
  }
  if (ser.ignore_paths !== undefined) {
    if (!Array.isArray(ser.ignore_paths) || ser.ignore_paths.some((p) => typeof p !== 'string')) {
      throw new Error('ignore_paths is not a list of paths');
    }
    serialization.ignore_paths = ser.ignore_paths as string[];
  }
  if (!Array.isArray(predicate.resources)) throw new Error('the predicate has no resources list');
  const resources: Resource[] = [];
  const raw = createHash('sha256');
  for (const r of predicate.resources as Array<Record<string, unknown>>) {
    if (
      typeof r?.name !== 'string' ||
      typeof r.algorithm !== 'string' ||
      typeof r.digest !== 'string' ||
      !HEX.test(r.digest) ||
      r.digest.length % 2
    ) {
      throw new Error('a resource lacks a name, algorithm or hex digest');
    }
    parseResourceName(r.name, serialization.method);
    raw.update(Buffer.from(r.digest, 'hex'));
    resources.push({ name: r.name, algorithm: r.algorithm, digest: r.digest });
  }
  const obtained = raw.digest('hex');
  if (obtained !== expectedRoot) {
    throw new Error(
      `manifest is inconsistent: root digest is ${expectedRoot}, but the resources hash to ${obtained}`,
    );
  }
  return {
    modelName: typeof subject.name === 'string' ? subject.name : '',
    serialization,
    resources: sortResources(resources, serialization.method),
    predicateType: PREDICATE_V1,
  };
}
