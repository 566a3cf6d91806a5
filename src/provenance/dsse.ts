/**
 * DSSE v1 envelopes (https://github.com/secure-systems-lab/dsse): the signature covers the
 * pre-authentication encoding PAE(payloadType, payload), never the raw payload, so a verifier cannot be
 * tricked into reading the payload as another type. Hand-written on node:crypto because the format is a
 * dozen lines and the only JavaScript implementation lives inside sigstore-js, which picks the wrong
 * digest for P-384/P-521 keys (see README, provenance).
 *
 * Key rules: ECDSA signatures are DER-encoded and use the digest matching the curve (P-256 -> SHA-256,
 * P-384 -> SHA-384, P-521 -> SHA-512); Ed25519 signs the PAE bytes directly.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { AntidoteError } from '../core/errors.js';

export interface DsseSignature {
  keyid?: string;
  /** Base64 (standard alphabet) of the signature bytes. */
  sig: string;
}

export interface DsseEnvelope {
  /** Base64 (standard alphabet) of the payload bytes. */
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN in ASCII decimal bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.length} `, 'utf8');
  const mid = Buffer.from(` ${payload.length} `, 'utf8');
  return Buffer.concat([head, type, mid, payload]);
}

export type KeyAlgorithm = 'ecdsa-p256-sha256' | 'ecdsa-p384-sha384' | 'ecdsa-p521-sha512' | 'ed25519';

const CURVES: Record<string, { alg: KeyAlgorithm; hash: string }> = {
  prime256v1: { alg: 'ecdsa-p256-sha256', hash: 'sha256' },
  secp384r1: { alg: 'ecdsa-p384-sha384', hash: 'sha384' },
  secp521r1: { alg: 'ecdsa-p521-sha512', hash: 'sha512' },
};

/** The signing algorithm and digest (null for Ed25519) a key implies; throws for unsupported keys. */
export function keyAlgorithm(key: KeyObject): { alg: KeyAlgorithm; hash: string | null } {
  if (key.asymmetricKeyType === 'ed25519') return { alg: 'ed25519', hash: null };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
    const c = CURVES[curve];
    if (c) return c;
    throw new AntidoteError('E_INPUT', `unsupported elliptic curve ${curve || '(unknown)'}`, {
      hint: 'use a P-256, P-384 or P-521 key',
    });
  }
  throw new AntidoteError('E_INPUT', `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`, {
    hint: 'use an EC (P-256, P-384, P-521) or Ed25519 key',
  });
}

export function loadPrivateKey(pem: string | Buffer, what = 'private key'): KeyObject {
  try {
    const key = createPrivateKey(pem);
    keyAlgorithm(key);
    return key;
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw new AntidoteError('E_INPUT', `${what} is not a readable PEM private key`, {
      hint: 'give an unencrypted PKCS#8 or SEC1 PEM file',
      cause: err,
    });
  }
}

export function loadPublicKey(pem: string | Buffer | KeyObject, what = 'public key'): KeyObject {
  if (typeof pem === 'object' && !Buffer.isBuffer(pem)) return pem;
  try {
    const key = createPublicKey(pem);
    keyAlgorithm(key);
    return key;
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    throw new AntidoteError('E_INPUT', `${what} is not a readable PEM public key`, {
      hint: 'give a SubjectPublicKeyInfo PEM file (BEGIN PUBLIC KEY) or a certificate',
      cause: err,
    });
  }
}

/** Sign raw bytes with the digest matching the key (DER ECDSA / raw Ed25519). */
export function signBytes(data: Uint8Array, key: KeyObject): Buffer {
  const { hash } = keyAlgorithm(key);
  return sign(hash, data, key);
}

/** Verify raw bytes; false for a wrong signature or one that is not well-formed. */
export function verifyBytes(data: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  const { hash } = keyAlgorithm(key);
  try {
    return verify(hash, data, key, signature);
  } catch {
    return false;
  }
}

export function signDsse(
  payload: Uint8Array,
  payloadType: string,
  privateKeyPem: string | Buffer | KeyObject,
  keyid?: string,
): DsseEnvelope {
  const key =
    typeof privateKeyPem === 'object' && !Buffer.isBuffer(privateKeyPem)
      ? privateKeyPem
      : loadPrivateKey(privateKeyPem);
  const sig = signBytes(pae(payloadType, payload), key).toString('base64');
  const s: DsseSignature = keyid === undefined ? { sig } : { keyid, sig };
  return { payload: Buffer.from(payload).toString('base64'), payloadType, signatures: [s] };
}

export type DsseVerification =
  | { ok: true; payload: Buffer; payloadType: string; keyid?: string }
  | { ok: false; reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** DSSE allows either base64 alphabet; decode strictly (no stray characters silently skipped). */
export function decodeBase64(s: string): Buffer | null {
  if (typeof s !== 'string') return null;
  if (BASE64.test(s)) return Buffer.from(s, 'base64');
  if (BASE64URL.test(s)) return Buffer.from(s, 'base64url');
  return null;
}

/** Structural check of an untrusted JSON value as an envelope. */
export function parseEnvelope(value: unknown): DsseEnvelope | string {
  if (!value || typeof value !== 'object') return 'the DSSE envelope is not a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v.payload !== 'string') return 'the DSSE envelope has no payload string';
  if (typeof v.payloadType !== 'string') return 'the DSSE envelope has no payloadType string';
  if (!Array.isArray(v.signatures) || v.signatures.length === 0) return 'the DSSE envelope has no signatures';
  for (const s of v.signatures) {
    if (!s || typeof s !== 'object' || typeof (s as DsseSignature).sig !== 'string') {
      return 'a DSSE signature entry has no sig string';
    }
  }
  return v as unknown as DsseEnvelope;
}

/**
 * Verify an envelope with one public key: passes when any signature verifies over PAE. Returns the
 * decoded payload only on success, so callers never read an unauthenticated payload.
 */
export function verifyDsse(envelope: unknown, publicKeyPem: string | Buffer | KeyObject): DsseVerification {
  const env = parseEnvelope(envelope);
  if (typeof env === 'string') return { ok: false, reason: env };
  const key = loadPublicKey(publicKeyPem);
  const payload = decodeBase64(env.payload);
  if (!payload) return { ok: false, reason: 'the DSSE payload is not valid base64' };
  const message = pae(env.payloadType, payload);
  for (const s of env.signatures) {
    const sig = decodeBase64(s.sig);
    if (sig && sig.length > 0 && verifyBytes(message, sig, key)) {
      return { ok: true, payload, payloadType: env.payloadType, keyid: s.keyid };
    }
  }
  return {
    ok: false,
    reason: 'no DSSE signature verifies with the given key (wrong key or altered envelope)',
  };
}
