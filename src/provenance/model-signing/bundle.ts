/**
 * The Sigstore bundle (v0.3, JSON) that carries an OpenSSF model signature: a DSSE envelope over the
 * in-toto payload, plus verification material: a public-key hint (SHA-256 hex of the signer's
 * SubjectPublicKeyInfo PEM) for key signatures, or the signing certificate followed by its
 * intermediates (DER, base64) for certificate signatures; `tlogEntries` is empty for both. Written as
 * the reference writes it (compact JSON, keys in its order, keyid "").
 *
 * Signers implement `EnvelopeSigner`: a keyless Sigstore signer (OIDC token -> Fulcio certificate,
 * signature logged in Rekor, entries in `tlogEntries`) fits the same interface but needs the internet,
 * so it is not part of this build.
 */
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { AntidoteError } from '../../core/errors.js';
import { type DsseEnvelope, decodeBase64, signBytes } from '../dsse.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface PublicKeyMaterial {
  publicKey: { hint: string };
  tlogEntries: unknown[];
}
export interface CertificateMaterial {
  x509CertificateChain: { certificates: Array<{ rawBytes: string }> };
  tlogEntries: unknown[];
}
export type VerificationMaterial = PublicKeyMaterial | CertificateMaterial;

export interface Bundle {
  mediaType: string;
  verificationMaterial: VerificationMaterial;
  dsseEnvelope: DsseEnvelope;
}

export interface EnvelopeSigner {
  /** Sign the DSSE pre-authentication encoding; return the raw signature and the bundle's verification material. */
  sign(pae: Buffer): Promise<{ signature: Buffer; verificationMaterial: VerificationMaterial }>;
}

/** SHA-256 hex of the key's SubjectPublicKeyInfo PEM: the reference's public-key hint. */
export function publicKeyHint(key: KeyObject): string {
  const pem =
    key.type === 'private'
      ? key.export({ type: 'spki', format: 'pem' })
      : key.export({ type: 'spki', format: 'pem' });
  return createHash('sha256').update(pem).digest('hex');
}

export class KeySigner implements EnvelopeSigner {
  constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
  ) {}
  async sign(pae: Buffer) {
    return {
      signature: signBytes(pae, this.privateKey),
      verificationMaterial: {
        publicKey: { hint: publicKeyHint(this.publicKey) },
        tlogEntries: [],
      } as PublicKeyMaterial,
    };
  }
}

export class CertificateSigner implements EnvelopeSigner {
  constructor(
    private readonly privateKey: KeyObject,
    private readonly leaf: X509Certificate,
    private readonly chain: X509Certificate[],
  ) {}
  async sign(pae: Buffer) {
    const certificates = [this.leaf, ...this.chain].map((c) => ({ rawBytes: c.raw.toString('base64') }));
    return {
      signature: signBytes(pae, this.privateKey),
      verificationMaterial: {
        x509CertificateChain: { certificates },
        tlogEntries: [],
      } as CertificateMaterial,
    };
  }
}

export function bundleJson(b: Bundle): string {
  return JSON.stringify({
    mediaType: b.mediaType,
    verificationMaterial: b.verificationMaterial,
    dsseEnvelope: {
      payload: b.dsseEnvelope.payload,
      payloadType: b.dsseEnvelope.payloadType,
      signatures: b.dsseEnvelope.signatures.map((s) => ({ sig: s.sig, keyid: s.keyid ?? '' })),
    },
  });
}

export type MaterialKind =
  | { kind: 'key'; hint: string | null }
  | { kind: 'certificate'; certificates: Buffer[] }
  | { kind: 'keyless' };

export interface ParsedBundle {
  mediaType: string;
  material: MaterialKind;
  payloadType: string;
  payload: Buffer;
  /** Raw signature bytes of the first signature. */
  signature: Buffer;
  /**
   * Every signature of the envelope (an unreadable one as empty bytes). The reference verifies only the
   * first; Antidote requires every one to verify, so a garbage signature beside a good one fails.
   */
  signatures: Buffer[];
}

/** Read a signature file's JSON as a bundle. Anything unusable is an input error naming the file. */
export function parseBundle(text: string, file: string): ParsedBundle {
  const bad = (why: string) =>
    new AntidoteError('E_INPUT', `${file}: not a model signature (${why})`, {
      hint: 'give a Sigstore bundle written by `antidote sign` or `model_signing sign`',
    });
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text);
  } catch {
    throw bad('invalid JSON; truncated or not a bundle');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('not a JSON object');
  if (typeof v.mediaType !== 'string') throw bad('no mediaType');
  const vm = v.verificationMaterial as Record<string, unknown> | undefined;
  if (!vm || typeof vm !== 'object') throw bad('no verificationMaterial');
  const env = v.dsseEnvelope as Record<string, unknown> | undefined;
  if (!env || typeof env !== 'object')
    throw bad('no dsseEnvelope; message signatures are not model signatures');
  if (typeof env.payload !== 'string' || typeof env.payloadType !== 'string')
    throw bad('the envelope has no payload');
  const sigs = env.signatures as Array<Record<string, unknown>> | undefined;
  if (!Array.isArray(sigs) || sigs.length === 0 || typeof sigs[0]?.sig !== 'string')
    throw bad('the envelope has no signature');
  const payload = decodeBase64(env.payload);
  if (!payload) throw bad('the payload is not base64');
  const signatures = sigs.map((s) =>
    typeof s?.sig === 'string' ? (decodeBase64(s.sig) ?? Buffer.alloc(0)) : Buffer.alloc(0),
  );
  const signature = signatures[0];
  let material: MaterialKind;
  if (vm.x509CertificateChain && typeof vm.x509CertificateChain === 'object') {
    const certs = (vm.x509CertificateChain as { certificates?: Array<{ rawBytes?: unknown }> }).certificates;
    if (!Array.isArray(certs) || certs.length === 0) throw bad('the certificate chain is empty');
    const certificates = certs.map((c) => {
      const der = typeof c?.rawBytes === 'string' ? decodeBase64(c.rawBytes) : null;
      if (!der) throw bad('a certificate is not base64');
      return der;
    });
    material = { kind: 'certificate', certificates };
  } else if (vm.certificate && typeof vm.certificate === 'object') {
    material = { kind: 'keyless' };
  } else if (vm.publicKey && typeof vm.publicKey === 'object') {
    const hint = (vm.publicKey as { hint?: unknown }).hint;
    material = { kind: 'key', hint: typeof hint === 'string' && hint ? hint : null };
  } else {
    throw bad('no public key hint or certificate in verificationMaterial');
  }
  return { mediaType: v.mediaType, material, payloadType: env.payloadType, payload, signature, signatures };
}

/** Parse DER certificates, reporting an unreadable one as an input error. */
export function toX509(ders: Buffer[], file: string): X509Certificate[] {
  return ders.map((d, i) => {
    try {
      return new X509Certificate(d);
    } catch {
      throw new AntidoteError(
        'E_INPUT',
        `${file}: certificate ${i} of the chain is not a valid X.509 certificate`,
      );
    }
  });
}
