/** Digest algorithm names accepted by `antidote hash`/`lock`: whatever this Node's OpenSSL offers. */
import { getHashes } from 'node:crypto';
import { usageError } from '../core/errors.js';

export const DEFAULT_ALGORITHM = 'sha256';

/** Extendable-output functions need a length and legacy ones are broken: refuse both. */
const REFUSED = new Set([
  'shake128',
  'shake256',
  'md4',
  'md5',
  'md5-sha1',
  'sha1',
  'ripemd',
  'ripemd160',
  'rmd160',
]);

export function normaliseAlgorithm(name: string): string {
  const n = name.trim().toLowerCase();
  const offered = new Set(getHashes().map((h) => h.toLowerCase()));
  if (REFUSED.has(n)) {
    throw usageError(
      `--algorithm ${name} is not accepted (broken or variable-length)`,
      'use sha256, sha384, sha512, sha3-256 or blake2b512',
    );
  }
  if (!offered.has(n) || n.startsWith('rsa-') || n.includes('with')) {
    throw usageError(
      `--algorithm ${name} is not offered by this Node.js`,
      'use sha256, sha384, sha512, sha3-256 or blake2b512',
    );
  }
  return n;
}
