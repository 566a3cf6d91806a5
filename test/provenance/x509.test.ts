import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCa, keyUsageBits, verifyChain } from '../../src/provenance/model-signing/x509.js';
import { FIXTURES } from '../helpers/cli.js';

// Made by test/fixtures/provenance/make-pki.sh (openssl).
const pki = (n: string) => new X509Certificate(readFileSync(join(FIXTURES, 'provenance', 'pki', n)));
const root = pki('root-ca.pem');
const int = pki('int-ca.pem');
const leaf = pki('leaf.pem');
const noko = pki('leaf-noko.pem');
const other = pki('other-root.pem');

describe('certificate extensions', () => {
  it('reads KeyUsage bits and the CA flag from DER', () => {
    expect(keyUsageBits(leaf.raw)).toEqual(new Set([0])); // digitalSignature
    expect(keyUsageBits(int.raw)).toEqual(new Set([5, 6])); // keyCertSign, cRLSign
    expect(keyUsageBits(noko.raw)).toEqual(new Set([2])); // keyEncipherment
    expect(isCa(root.raw)).toBe(true);
    expect(isCa(leaf.raw)).toBe(false);
  });
});

describe('verifyChain', () => {
  it('accepts leaf <- intermediate (from the bundle) <- trusted root', () => {
    const r = verifyChain(leaf, [int], [root]);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.path.map((c) => c.subject)).toEqual([leaf.subject, int.subject, root.subject]);
  });
  it('rejects an unrelated root, a missing intermediate and a non-root anchor', () => {
    expect(verifyChain(leaf, [int], [other])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no path/),
    });
    expect(verifyChain(leaf, [], [root]).ok).toBe(false);
    expect(verifyChain(leaf, [], [int])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no self-signed root/),
    });
  });
  it('rejects a leaf that may not sign', () => {
    expect(verifyChain(noko, [int], [root])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/may not be used for signing/),
    });
  });
  it('rejects a leaf posing as a CA for another leaf', () => {
    // The leaf is not a CA: nothing it "issued" may chain through it.
    expect(verifyChain(noko, [leaf], [root]).ok).toBe(false);
  });
  it('checks validity at the given time', () => {
    expect(verifyChain(leaf, [int], [root], Date.parse('1990-01-01')).ok).toBe(false);
  });
});
