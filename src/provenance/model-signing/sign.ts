/**
 * `antidote sign`: an OpenSSF model signature (v1.0 predicate) with an EC key (P-256, P-384, P-521,
 * digest matching the curve) or with a key and its certificate chain. Same defaults as the reference
 * CLI: file serialization with SHA-256, git paths and the signature file itself ignored, symbolic
 * links refused unless allowed.
 */

import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { AntidoteError, describeFsError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { readRegularFile } from '../../core/paths.js';
import type { Progress } from '../../core/progress.js';
import { loadPrivateKey, pae } from '../dsse.js';
import {
  BUNDLE_MEDIA_TYPE,
  bundleJson,
  CertificateSigner,
  type EnvelopeSigner,
  KeySigner,
} from './bundle.js';
import { INTOTO_PAYLOAD_TYPE, type Manifest, type Method, payloadBytes } from './manifest.js';
import { DEFAULT_SHARD_SIZE, GIT_PATHS, type Problem, serializeModel } from './serialize.js';

export interface SignOptions {
  signer: EnvelopeSigner;
  signaturePath: string;
  method?: Method;
  hashType?: string;
  shardSize?: number;
  allowSymlinks?: boolean;
  /** Paths as the user gave them (relative to the working folder or absolute). */
  ignorePaths?: string[];
  ignoreGitPaths?: boolean;
  workers?: number;
  progress?: Progress;
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

export async function keySigner(keyFile: string): Promise<EnvelopeSigner> {
  const pem = await readInput(keyFile, '--key');
  const key = loadPrivateKey(pem, `--key ${keyFile}`);
  if (key.asymmetricKeyType !== 'ec') {
    throw new AntidoteError(
      'E_INPUT',
      `--key ${keyFile}: the model-signing format takes elliptic-curve keys`,
      { hint: 'use a P-256, P-384 or P-521 key' },
    );
  }
  const { createPublicKey } = await import('node:crypto');
  return new KeySigner(key, createPublicKey(key));
}

function readCerts(pem: Buffer, file: string): X509Certificate[] {
  const blocks =
    pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0)
    throw new AntidoteError('E_INPUT', `${file}: no PEM certificate found`, {
      hint: 'give a PEM file with BEGIN CERTIFICATE blocks',
    });
  return blocks.map((b) => {
    try {
      return new X509Certificate(b);
    } catch {
      throw new AntidoteError('E_INPUT', `${file}: a certificate is not valid PEM X.509`);
    }
  });
}

export async function readCertificateFiles(
  files: readonly string[],
  what: string,
): Promise<X509Certificate[]> {
  const out: X509Certificate[] = [];
  for (const f of files) out.push(...readCerts(await readInput(f, what), f));
  return out;
}

export async function certificateSigner(
  keyFile: string,
  certFile: string,
  chainFiles: readonly string[],
): Promise<EnvelopeSigner> {
  const key = loadPrivateKey(await readInput(keyFile, '--key'), `--key ${keyFile}`);
  const [leaf] = await readCertificateFiles([certFile], '--cert');
  const { createPublicKey } = await import('node:crypto');
  const pub = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(pub)) {
    throw new AntidoteError(
      'E_INPUT',
      `--cert ${certFile}: the certificate's public key does not match --key ${keyFile}`,
    );
  }
  return new CertificateSigner(key, leaf, await readCertificateFiles(chainFiles, '--cert-chain'));
}

/** User paths -> paths relative to the model folder; paths outside it are dropped, as the reference does. */
export function relativeIgnores(modelPath: string, paths: readonly string[], isDir: boolean): string[] {
  if (!isDir) return [];
  const root = resolve(modelPath);
  const out: string[] = [];
  for (const p of paths) {
    const rel = relative(root, isAbsolute(p) ? p : resolve(p));
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) continue;
    out.push(sep === '/' ? rel : rel.split(sep).join('/'));
  }
  return out;
}

export function describeProblem(modelPath: string, p: Problem): string {
  const file = p.path === '.' ? modelPath : `${modelPath.replace(/\/+$/, '')}/${p.path}`;
  if (p.kind === 'symlink-forbidden') return `${file} is a symbolic link (-> ${p.target})`;
  if (p.kind === 'symlink-escape')
    return `${file} is a symbolic link pointing outside the model (-> ${p.target})`;
  return `${file} is not a regular file or folder`;
}

export async function signModel(
  modelPath: string,
  opts: SignOptions,
): Promise<{ bundle: string; manifest: Manifest; bytes: number }> {
  let isDir: boolean;
  try {
    isDir = (await stat(modelPath)).isDirectory();
  } catch (err) {
    throw describeFsError(modelPath, err);
  }
  const ignore = [...relativeIgnores(modelPath, [...(opts.ignorePaths ?? []), opts.signaturePath], isDir)];
  if (opts.ignoreGitPaths !== false) ignore.push(...GIT_PATHS);
  const method = opts.method ?? 'files';
  const { manifest, problems, bytes } = await serializeModel(modelPath, {
    method,
    hashType: opts.hashType ?? 'sha256',
    shardSize: method === 'shards' ? (opts.shardSize ?? DEFAULT_SHARD_SIZE) : undefined,
    allowSymlinks: opts.allowSymlinks ?? false,
    ignorePaths: [...new Set(ignore)],
    workers: opts.workers,
    progress: opts.progress,
  });
  if (problems.length) {
    const p = problems[0];
    throw new AntidoteError(
      'E_INPUT',
      `cannot sign: ${describeProblem(modelPath, p)}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      {
        hint:
          p.kind === 'symlink-forbidden'
            ? 'pass --allow-symlinks to sign the files links point to'
            : 'remove it or pass --ignore-paths',
      },
    );
  }
  const payload = payloadBytes(manifest);
  const { signature, verificationMaterial } = await opts.signer.sign(pae(INTOTO_PAYLOAD_TYPE, payload));
  const bundle = bundleJson({
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType: INTOTO_PAYLOAD_TYPE,
      signatures: [{ sig: signature.toString('base64'), keyid: '' }],
    },
  });
  return { bundle, manifest, bytes };
}
