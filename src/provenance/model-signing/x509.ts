/**
 * Certificate-chain verification for certificate-signed model signatures, as the reference does it
 * (sign_certificate.py: an OpenSSL store of trusted roots, the bundle's other certificates as
 * untrusted intermediates, the verification time set to the signing certificate's notBefore, then a
 * key-usage check on the signing certificate: digitalSignature or the codeSigning extended usage).
 * node:crypto offers issuer checks and signature checks on X509Certificate but no path building and
 * no KeyUsage bits, so the path search and a minimal DER reader for the extensions are written here.
 */
import type { X509Certificate } from 'node:crypto';

const OID_KEY_USAGE = '551d0f'; // 2.5.29.15
const OID_BASIC_CONSTRAINTS = '551d13'; // 2.5.29.19
const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(buf: Buffer, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new Error('truncated DER');
  const tag = buf[off];
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > limit) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > limit) throw new Error('truncated DER');
  return { tag, start: p, end: p + len };
}

function children(buf: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = t.start;
  while (p < t.end) {
    const c = readTlv(buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

/** Extensions of a DER certificate, keyed by the hex of the OID's content bytes. */
export function extensions(der: Buffer): Map<string, { critical: boolean; value: Buffer }> {
  const out = new Map<string, { critical: boolean; value: Buffer }>();
  const cert = readTlv(der, 0, der.length);
  const tbs = readTlv(der, cert.start, cert.end);
  for (const field of children(der, tbs)) {
    if (field.tag !== 0xa3) continue;
    const seq = readTlv(der, field.start, field.end);
    for (const ext of children(der, seq)) {
      const parts = children(der, ext);
      if (parts.length < 2 || parts[0].tag !== 0x06) continue;
      const oid = der.subarray(parts[0].start, parts[0].end).toString('hex');
      const critical = parts.length === 3 && parts[1].tag === 0x01 && der[parts[1].start] !== 0;
      const octets = parts[parts.length - 1];
      if (octets.tag !== 0x04) continue;
      out.set(oid, { critical, value: der.subarray(octets.start, octets.end) });
    }
  }
  return out;
}

/** KeyUsage bits (bit 0 = digitalSignature ... bit 5 = keyCertSign), or null when absent. */
export function keyUsageBits(der: Buffer): Set<number> | null {
  const ku = extensions(der).get(OID_KEY_USAGE);
  if (!ku) return null;
  const bits = readTlv(ku.value, 0, ku.value.length);
  if (bits.tag !== 0x03) throw new Error('bad KeyUsage');
  const set = new Set<number>();
  for (let i = bits.start + 1; i < bits.end; i++) {
    for (let b = 0; b < 8; b++) if (ku.value[i] & (0x80 >> b)) set.add((i - bits.start - 1) * 8 + b);
  }
  return set;
}

/** BasicConstraints cA flag (false when absent). */
export function isCa(der: Buffer): boolean {
  const bc = extensions(der).get(OID_BASIC_CONSTRAINTS);
  if (!bc) return false;
  const seq = readTlv(bc.value, 0, bc.value.length);
  const first = seq.start < seq.end ? readTlv(bc.value, seq.start, seq.end) : null;
  return !!first && first.tag === 0x01 && bc.value[first.start] !== 0;
}

const validAt = (c: X509Certificate, t: number) => Date.parse(c.validFrom) <= t && t <= Date.parse(c.validTo);

function canIssue(c: X509Certificate): boolean {
  if (!isCa(c.raw)) return false;
  const ku = keyUsageBits(c.raw);
  return ku === null || ku.has(5);
}

const issuedBy = (c: X509Certificate, issuer: X509Certificate): boolean => {
  try {
    return c.checkIssued(issuer) && c.verify(issuer.publicKey);
  } catch {
    return false;
  }
};

export type ChainResult = { ok: true; path: X509Certificate[] } | { ok: false; reason: string };

/**
 * Build a path from `leaf` through intermediates to a self-signed trusted root, every certificate valid at
 * `atTime` (the reference uses the leaf's notBefore), issuers being CAs allowed to sign certificates.
 * Then check the leaf may sign code.
 */
export function verifyChain(
  leaf: X509Certificate,
  bundleIntermediates: readonly X509Certificate[],
  trusted: readonly X509Certificate[],
  atTime: number = Date.parse(leaf.validFrom),
): ChainResult {
  // As OpenSSL without partial chains: only self-signed trusted certificates end a path; other
  // trusted certificates may still serve as intermediates.
  const roots = trusted.filter((c) => issuedBy(c, c));
  const intermediates = [...bundleIntermediates, ...trusted.filter((c) => !roots.includes(c))];
  if (roots.length === 0)
    return { ok: false, reason: 'no self-signed root certificate among the trusted certificates' };
  const same = (a: X509Certificate, b: X509Certificate) => a.raw.equals(b.raw);
  let lastProblem = `no path from the signing certificate (${leaf.subject.replace(/\n/g, ', ')}) to a trusted root`;
  const search = (cert: X509Certificate, path: X509Certificate[]): X509Certificate[] | null => {
    if (!validAt(cert, atTime)) {
      lastProblem = `certificate ${cert.subject.replace(/\n/g, ', ')} is not valid at ${new Date(atTime).toISOString()}`;
      return null;
    }
    if (roots.some((r) => same(r, cert))) return path;
    for (const r of roots) {
      if (!same(r, cert) && issuedBy(cert, r) && validAt(r, atTime) && canIssue(r)) return [...path, r];
    }
    if (path.length > MAX_DEPTH) return null;
    for (const i of intermediates) {
      if (same(i, cert) || path.some((p) => same(p, i))) continue;
      if (issuedBy(cert, i)) {
        if (!canIssue(i)) {
          lastProblem = `certificate ${i.subject.replace(/\n/g, ', ')} is not a CA allowed to sign certificates`;
          continue;
        }
        const found = search(i, [...path, i]);
        if (found) return found;
      }
    }
    return null;
  };
  const path = search(leaf, [leaf]);
  if (!path) return { ok: false, reason: lastProblem };
  const ku = keyUsageBits(leaf.raw);
  const eku = leaf.keyUsage ?? [];
  if (!(ku?.has(0) || eku.includes(EKU_CODE_SIGNING))) {
    return {
      ok: false,
      reason:
        'the signing certificate may not be used for signing (no digitalSignature key usage or codeSigning extended usage)',
    };
  }
  return { ok: true, path };
}
