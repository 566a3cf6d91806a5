/**
 * `antidote verify-signature`: check an OpenSSF model signature (Sigstore bundle) against a model.
 * Order of checks, as in the reference: bundle media type; who signed (public-key hint and signature
 * with `--key`, or certificate chain to a trusted root, key usage and signature with `--cert`); DSSE
 * payload type; in-toto statement; predicate and root digest; then the model is hashed with the
 * serialization recorded in the signature (plus its ignored paths, the signature file and git paths)
 * and every resource compared. Each failed check is a finding naming the file; the signature's own
 * claims are never trusted before its signature verifies.
 */

import { createPublicKey, verify as cryptoVerify, type KeyObject, X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { AntidoteError, describeFsError } from '../../core/errors.js';
import type { Finding } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/paths.js';
import type { Progress } from '../../core/progress.js';
import { makeFinding } from '../../core/rule.js';
import { keyAlgorithm, loadPublicKey, pae, verifyBytes } from '../dsse.js';
import { RULES } from '../findings.js';
import { BUNDLE_MEDIA_TYPE, type ParsedBundle, parseBundle, publicKeyHint, toX509 } from './bundle.js';
import {
  INTOTO_PAYLOAD_TYPE,
  type Manifest,
  nodeHashFor,
  PREDICATE_V01,
  parseResourceName,
  payloadToManifest,
  resourceAlgorithm,
} from './manifest.js';
import { pyBytesRepr } from './pyjson.js';
import { DEFAULT_SHARD_SIZE, GIT_PATHS, serializeModel } from './serialize.js';
import { describeProblem, readCertificateFiles, relativeIgnores } from './sign.js';
import { verifyChain } from './x509.js';

export interface VerifySignatureOptions {
  sigFile: string;
  /** PEM public key file (key signatures). */
  keyFile?: string;
  /** PEM files of trusted root certificates (certificate signatures); empty = Node's bundled roots. */
  trustFiles?: string[];
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  ignoreUnsignedFiles?: boolean;
  workers?: number;
  progress?: Progress;
}

export interface VerifySignatureResult {
  findings: Finding[];
  signer?: string;
  manifest?: Manifest;
  files: number;
  bytes: number;
}

/** The PAE that signatures made by model_signing v0.2 covered (it embedded Python's bytes repr). */
function paeCompat(payloadType: string, payload: Buffer): Buffer {
  return Buffer.from(
    `DSSEV1 ${payloadType.length} ${payloadType} ${payload.length} ${pyBytesRepr(payload)}`,
    'utf8',
  );
}

/** Every signature of the envelope must verify with the key: one garbage signature fails the bundle. */
function checkSignature(b: ParsedBundle, key: KeyObject, compatHash?: string): boolean {
  const all = b.signatures?.length ? b.signatures : [b.signature];
  return all.every((sig) => checkOne(b, sig, key, compatHash));
}

function checkOne(b: ParsedBundle, sig: Buffer, key: KeyObject, compatHash?: string): boolean {
  if (sig.length === 0) return false;
  if (verifyBytes(pae(b.payloadType, b.payload), sig, key)) return true;
  // Signatures from model_signing v0.2.0 (only those: the compat PAE is a known historical bug).
  const compat = paeCompat(b.payloadType, b.payload);
  if (!compatHash) return verifyBytes(compat, sig, key);
  try {
    return cryptoVerify(compatHash, compat, key, sig);
  } catch {
    return false;
  }
}

async function readInput(
  path: string,
  what: string,
  max: number = LIMITS.files.maxKeyBytes,
): Promise<Buffer> {
  try {
    return await readRegularFile(path, max);
  } catch (err) {
    const e = err instanceof AntidoteError ? err : describeFsError(path, err);
    throw new AntidoteError('E_INPUT', `${what}: ${e.message}`, { hint: e.hint });
  }
}

export async function verifyModelSignature(
  modelPath: string,
  opts: VerifySignatureOptions,
): Promise<VerifySignatureResult> {
  const st = await stat(opts.sigFile).catch(() => null);
  if (st && st.size > LIMITS.provenance.maxSignatureBytes) {
    throw new AntidoteError(
      'E_LIMIT',
      `${opts.sigFile}: ${st.size} bytes is larger than any model signature (limit ${LIMITS.provenance.maxSignatureBytes})`,
    );
  }
  const sigText = (await readInput(opts.sigFile, '--sig', LIMITS.provenance.maxSignatureBytes)).toString(
    'utf8',
  );
  const bundle = parseBundle(sigText, opts.sigFile);
  const label = modelPath.replace(/\/+$/, '') || modelPath;
  const invalid = (message: string, evidence?: Record<string, unknown>): VerifySignatureResult => ({
    findings: [makeFinding(RULES.signature, message, { location: { file: opts.sigFile }, evidence })],
    files: 0,
    bytes: 0,
  });

  if (bundle.material.kind === 'keyless') {
    throw new AntidoteError(
      'E_USAGE',
      `${opts.sigFile} is a keyless Sigstore signature (Fulcio certificate, Rekor entry)`,
      {
        hint: 'verifying those needs Sigstore trust roots and is not supported in this build; use a key or certificate signature',
      },
    );
  }
  if (bundle.mediaType !== BUNDLE_MEDIA_TYPE) {
    return invalid(
      `${opts.sigFile}: unexpected bundle media type ${bundle.mediaType} (expected ${BUNDLE_MEDIA_TYPE})`,
    );
  }

  let signer: string;
  if (opts.keyFile) {
    const key = loadPublicKey(await readInput(opts.keyFile, '--key'), `--key ${opts.keyFile}`);
    if (key.asymmetricKeyType !== 'ec')
      throw new AntidoteError('E_INPUT', `--key ${opts.keyFile}: model signatures use elliptic-curve keys`);
    signer = `key ${opts.keyFile} (${keyAlgorithm(key).alg}, hint ${publicKeyHint(key).slice(0, 16)}…)`;
    if (
      bundle.material.kind === 'key' &&
      bundle.material.hint &&
      bundle.material.hint !== publicKeyHint(key)
    ) {
      return invalid(
        `${opts.sigFile} was made with a different key than ${opts.keyFile} (the public-key hint does not match)`,
        {
          hint: bundle.material.hint,
          expected: publicKeyHint(key),
        },
      );
    }
    if (!checkSignature(bundle, key)) {
      return invalid(
        bundle.signatures.length > 1
          ? `${opts.sigFile}: not every one of its ${bundle.signatures.length} signatures verifies with ${opts.keyFile} (each must; one was altered or added)`
          : `${opts.sigFile}: the signature does not verify with ${opts.keyFile} (wrong key, or the signature or payload was altered)`,
      );
    }
  } else {
    if (bundle.material.kind !== 'certificate') {
      throw new AntidoteError('E_USAGE', `${opts.sigFile} was signed with a bare key, not a certificate`, {
        hint: 'verify it with --key PUBLIC.pem',
      });
    }
    const [leaf, ...intermediates] = toX509(bundle.material.certificates, opts.sigFile);
    const trust: X509Certificate[] = opts.trustFiles?.length
      ? await readCertificateFiles(opts.trustFiles, '--cert')
      : rootCertificates.map((pem) => new X509Certificate(pem));
    const chain = verifyChain(leaf, intermediates, trust);
    if (!chain.ok) return invalid(`${opts.sigFile}: certificate chain rejected: ${chain.reason}`);
    const key = createPublicKey(leaf.publicKey.export({ type: 'spki', format: 'pem' }));
    try {
      keyAlgorithm(key);
    } catch {
      return invalid(`${opts.sigFile}: the signing certificate's key is not a supported elliptic-curve key`);
    }
    signer = `certificate ${leaf.subject.replace(/\n/g, ', ')} (chain: ${chain.path.map((c) => c.subject.replace(/\n/g, ', ')).join(' <- ')})`;
    // The reference's certificate verifier falls back to the v0.2 PAE with SHA-256 whatever the curve.
    if (!checkSignature(bundle, key, 'sha256')) {
      return invalid(
        `${opts.sigFile}: the signature does not verify with the signing certificate's key (the signature or payload was altered)`,
      );
    }
  }

  if (bundle.payloadType !== INTOTO_PAYLOAD_TYPE) {
    return invalid(
      `${opts.sigFile}: expected DSSE payload type ${INTOTO_PAYLOAD_TYPE}, got ${bundle.payloadType}`,
    );
  }
  let expected: Manifest;
  try {
    expected = payloadToManifest(bundle.payload);
  } catch (err) {
    return invalid(`${opts.sigFile}: ${(err as Error).message}`);
  }
  const ser = expected.serialization;
  if (!nodeHashFor(ser.hash_type)) {
    throw new AntidoteError(
      'E_INPUT',
      `${opts.sigFile}: the model was hashed with ${ser.hash_type}, which this build cannot compute`,
      {
        hint: 'Antidote verifies sha256 and blake2b signatures',
      },
    );
  }

  let isDir: boolean;
  try {
    isDir = (await stat(modelPath)).isDirectory();
  } catch (err) {
    throw describeFsError(modelPath, err);
  }
  const ignore = [
    ...(ser.ignore_paths ?? []),
    ...relativeIgnores(modelPath, [...(opts.ignorePaths ?? []), opts.sigFile], isDir),
    ...(opts.ignoreGitPaths === false ? [] : GIT_PATHS),
  ];
  const actualRun = await serializeModel(modelPath, {
    method: ser.method,
    hashType: ser.hash_type,
    shardSize: ser.method === 'shards' ? (ser.shard_size ?? DEFAULT_SHARD_SIZE) : undefined,
    allowSymlinks: ser.allow_symlinks,
    ignorePaths: isDir ? [...new Set(ignore)] : [],
    workers: opts.workers,
    progress: opts.progress,
  });
  const findings: Finding[] = [];
  const fileOf = (rel: string) => (rel === '.' ? label : `${label}/${rel}`);
  for (const p of actualRun.problems) {
    const rule =
      p.kind === 'special'
        ? RULES.special
        : p.kind === 'symlink-escape'
          ? RULES.symlinkEscape
          : RULES.retyped;
    const why = p.kind === 'symlink-forbidden' ? ', and the signature does not allow symbolic links' : '';
    findings.push(
      makeFinding(rule, `${describeProblem(label, p)}${why}`, { location: { file: fileOf(p.path) } }),
    );
  }
  const compat = expected.predicateType === PREDICATE_V01;
  const wantAlgo = resourceAlgorithm(ser);
  // Group resources per file so that a file is named once, whatever its number of shards.
  type Side = Map<string, string>;
  const group = (m: Manifest, v01: boolean) => {
    const files = new Map<string, Side>();
    for (const r of m.resources) {
      const { path } = parseResourceName(r.name, m.serialization.method);
      const key = v01 ? path.replace(/^\.\//, '') : path;
      if (!files.has(key)) files.set(key, new Map());
      files.get(key)!.set(r.name, `${r.algorithm}:${r.digest}`);
    }
    return files;
  };
  const want = group(expected, compat);
  const have = group(actualRun.manifest, false);
  const names = [...new Set([...want.keys(), ...have.keys()])].sort();
  for (const name of names) {
    const w = want.get(name);
    const h = have.get(name);
    const file = fileOf(name);
    if (w && !h) {
      if (actualRun.problems.some((p) => p.path === name)) continue;
      findings.push(
        makeFinding(RULES.removed, `${file} is signed but missing from the model (removed or renamed)`, {
          location: { file },
        }),
      );
    } else if (!w && h) {
      if (opts.ignoreUnsignedFiles) continue;
      findings.push(
        makeFinding(RULES.added, `${file} is not covered by the signature (added)`, { location: { file } }),
      );
    } else if (w && h) {
      const bad = [...new Set([...w.keys(), ...h.keys()])].filter((k) => w.get(k) !== h.get(k));
      if (bad.length === 0) continue;
      const wAlgo = [...w.values()][0]?.split(':')[0];
      if (!compat && wAlgo !== wantAlgo) {
        findings.push(
          makeFinding(
            RULES.signature,
            `${file}: signed digest algorithm ${wAlgo} does not match the serialization (${wantAlgo})`,
            { location: { file } },
          ),
        );
        continue;
      }
      const detail =
        ser.method === 'shards'
          ? `${bad.length} of ${Math.max(w.size, h.size)} shards differ, first ${bad[0]}`
          : `${ser.hash_type} signed ${(w.get(name) ?? '').split(':')[1]?.slice(0, 12)}…, found ${(h.get(name) ?? '').split(':')[1]?.slice(0, 12)}…`;
      findings.push(
        makeFinding(RULES.changed, `${file} does not match the signature (${detail})`, {
          location: { file },
          evidence: { shardsDiffering: bad.length },
        }),
      );
    }
  }
  return {
    findings,
    signer,
    manifest: expected,
    files: actualRun.manifest.resources.length,
    bytes: actualRun.bytes,
  };
}
