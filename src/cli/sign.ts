import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { checkIo } from '../core/paths.js';
import {
  type CommonFlags,
  commonOptions,
  digestOptions,
  examples,
  formatOption,
  outputOption,
  parseFormat,
  progressEnabled,
} from './conventions.js';
import { parsePositiveInt } from './hash.js';
import { action, collect, EXIT, useColour } from './run.js';

interface SignFlags extends CommonFlags {
  key: string;
  cert?: string;
  certChain?: string[];
  output: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks?: boolean;
  shardSize?: string;
  hashType: string;
  workers?: string;
  progress?: boolean;
}

interface VerifySigFlags extends CommonFlags {
  sig?: string;
  signature?: string;
  key?: string;
  cert?: string[];
  certChain?: string[];
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  ignoreUnsignedFiles?: boolean;
  format: string;
  output?: string;
  workers?: string;
  progress?: boolean;
}

const HASH_TYPES: Record<string, string> = { sha256: 'sha256', blake2: 'blake2b', blake2b: 'blake2b' };

/** An existing output inside the signed or locked folder may be replaced only when it is an earlier signature (a Sigstore bundle). */
const REPLACEABLE = (head: string) => head.includes('"application/vnd.dev.sigstore.bundle');

export function registerSign(program: Command): void {
  const cmd = program
    .command('sign')
    .description(
      'sign a model (file or folder) in the OpenSSF model-signing format (Sigstore bundle, v1.0 predicate)',
    )
    .argument('<model>', 'model file or folder')
    .requiredOption('-k, --key <pem>', 'EC private key (P-256, P-384 or P-521), PEM')
    .option('--cert <pem>', 'sign with a certificate: the signing certificate (PEM) for --key')
    .option('--cert-chain <pem>', 'intermediate certificates to include (repeatable)', collect)
    .option('--ignore-paths <path>', 'paths to leave out of the signature (repeatable)', collect)
    .option('--no-ignore-git-paths', 'also sign .git, .gitattributes, .github and .gitignore')
    .option(
      '--allow-symlinks',
      'sign the files symbolic links point to (links leaving the model are always refused)',
    )
    .option('--shard-size <bytes>', 'sign fixed-size shards instead of whole files (method "shards")')
    .option('--hash-type <name>', 'sha256 or blake2', 'sha256');
  digestOptions(cmd);
  outputOption(cmd, 'signature file to write', 'model.sig');
  commonOptions(cmd);
  examples(cmd, [
    'antidote sign ./my-model -k signing-key.pem -o my-model.sig',
    'antidote sign model.safetensors -k key.pem --cert cert.pem --cert-chain intermediate.pem',
    'antidote sign ./my-model -k key.pem -o my-model.sig --force --shard-size 1000000000',
  ]);
  cmd.action(
    action(async (model: string, flags: SignFlags) => {
      checkIo(
        [
          { path: model, dirOk: true },
          { path: flags.key, flag: '--key' },
          flags.cert ? { path: flags.cert, flag: '--cert' } : undefined,
          ...(flags.certChain ?? []).map((path) => ({ path, flag: '--cert-chain' })),
        ],
        [{ path: flags.output, flag: '-o', replaceable: REPLACEABLE }],
        { force: flags.force },
      );
      const hashType = HASH_TYPES[flags.hashType.toLowerCase()];
      if (!hashType) throw usageError(`--hash-type must be sha256 or blake2 (got "${flags.hashType}")`);
      const shardSize = flags.shardSize ? parsePositiveInt(flags.shardSize, '--shard-size') : undefined;
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      if (flags.certChain?.length && !flags.cert)
        throw usageError('--cert-chain needs --cert (the signing certificate)');
      const ms = await import('../provenance/model-signing/sign.js');
      const signer = flags.cert
        ? await ms.certificateSigner(flags.key, flags.cert, flags.certChain ?? [])
        : await ms.keySigner(flags.key);
      const t0 = performance.now();
      const { createProgress } = await import('../core/progress.js');
      const progress = createProgress({ unit: 'MB', enabled: progressEnabled(flags) });
      const { bundle, manifest, bytes } = await ms
        .signModel(model, {
          signer,
          signaturePath: flags.output,
          method: shardSize ? 'shards' : 'files',
          shardSize,
          hashType,
          allowSymlinks: flags.allowSymlinks,
          ignorePaths: flags.ignorePaths,
          ignoreGitPaths: flags.ignoreGitPaths,
          workers,
          progress,
        })
        .finally(() => progress.stop());
      const { writeFileAtomic } = await import('../core/atomic-write.js');
      await writeFileAtomic(flags.output, bundle);
      const secs = (performance.now() - t0) / 1000;
      if (!flags.quiet)
        process.stdout.write(
          `signed ${model}: ${manifest.resources.length} resource${manifest.resources.length === 1 ? '' : 's'}, ${bytes} bytes, ${secs.toFixed(2)} s -> ${flags.output}\n`,
        );
      return EXIT.ok;
    }),
  );
}

export function registerVerifySignature(program: Command): void {
  const cmd = program
    .command('verify-signature')
    .description(
      'verify an OpenSSF model signature (key or certificate) against a model; names every differing file',
    )
    .argument('<model>', 'model file or folder')
    .option('-s, --sig <file>', 'signature file (Sigstore bundle); required')
    .option('--signature <file>', 'same as --sig (the reference CLI name)')
    .option('-k, --key <pem>', 'public key (PEM) for key signatures')
    .option(
      '--cert <pem>',
      'trusted root certificate(s), PEM (repeatable); the chain comes from the signature',
      collect,
    )
    .option('--cert-chain <pem>', 'same as --cert (the reference CLI name)', collect)
    .option('--ignore-paths <path>', 'paths to leave out (repeatable)', collect)
    .option('--no-ignore-git-paths', 'also check .git, .gitattributes, .github and .gitignore')
    .option('--ignore-unsigned-files', 'do not report files the signature does not cover');
  digestOptions(cmd);
  formatOption(cmd, ['text', 'json']);
  outputOption(cmd, 'write the report to FILE instead of stdout');
  commonOptions(cmd);
  examples(cmd, [
    'antidote verify-signature ./my-model -s my-model.sig -k signing-key.pub.pem',
    'antidote verify-signature model.safetensors -s model.sig --cert root-ca.pem',
    'antidote verify-signature ./my-model -s my-model.sig -k key.pub.pem -f json -o verify.json',
  ]);
  cmd.action(
    action(async (model: string, flags: VerifySigFlags) => {
      const format = parseFormat(flags.format, ['text', 'json']);
      if (flags.sig && flags.signature && flags.sig !== flags.signature)
        throw usageError('give the signature once: --sig or --signature');
      const sig = flags.sig ?? flags.signature;
      if (!sig)
        throw usageError(
          'give the signature file: -s SIGNATURE (a Sigstore bundle written by antidote sign)',
        );
      const trustFiles = [...(flags.cert ?? []), ...(flags.certChain ?? [])];
      if (!flags.key && trustFiles.length === 0)
        throw usageError('give --key PUBLIC.pem or --cert ROOTS.pem');
      if (flags.key && trustFiles.length) throw usageError('give either --key or --cert, not both');
      const workers = flags.workers ? parsePositiveInt(flags.workers, '--workers') : undefined;
      checkIo(
        [
          { path: model, dirOk: true },
          { path: sig, flag: '--sig' },
          flags.key ? { path: flags.key, flag: '--key' } : undefined,
          ...trustFiles.map((path) => ({ path, flag: '--cert' })),
        ],
        [flags.output ? { path: flags.output, flag: '-o' } : undefined],
        { force: flags.force },
      );
      const { verifyModelSignature } = await import('../provenance/model-signing/verify.js');
      const { createProgress } = await import('../core/progress.js');
      const progress = createProgress({ unit: 'MB', enabled: progressEnabled(flags) });
      const r = await verifyModelSignature(model, {
        sigFile: sig,
        keyFile: flags.key,
        trustFiles,
        ignorePaths: flags.ignorePaths,
        ignoreGitPaths: flags.ignoreGitPaths,
        ignoreUnsignedFiles: flags.ignoreUnsignedFiles,
        workers,
        progress,
      }).finally(() => progress.stop());
      const ok = r.findings.length === 0;
      const { emit } = await import('../report/output.js');
      if (format === 'json') {
        const { renderJson } = await import('../report/json.js');
        const { toolVersion } = await import('../core/version.js');
        await emit(
          renderJson({
            version: 1,
            tool: { name: 'antidote', version: toolVersion() },
            model,
            signature: sig,
            verified: ok,
            signer: r.signer,
            predicateType: r.manifest?.predicateType,
            serialization: r.manifest?.serialization,
            findings: r.findings,
          }),
          flags.output,
        );
      } else if (flags.output || !flags.quiet) {
        const { renderFindings } = await import('../provenance/render.js');
        await emit(
          renderFindings(
            `signature verification of ${model} FAILED`,
            r.findings,
            useColour(flags.output),
            `verified: ${model} matches ${sig} (${r.files} resources, signed by ${r.signer})`,
          ),
          flags.output,
        );
      }
      return ok ? EXIT.ok : EXIT.findings;
    }),
  );
}
