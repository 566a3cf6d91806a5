/** `antidote gate` from the command line: exit codes, outputs, the signed decision, failures that block. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { verifyDsse } from '../../src/provenance/dsse.js';
import { adultSplit, writeCsv } from '../gate/helpers/data.js';
import { type Fault, type Served, serveModel } from '../gate/helpers/serve.js';
import { FIXTURES, ROOT, runCli, runCliAsync } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const F = join(FIXTURES, 'gate');
const tmp = tempDir('antidote-cli-gate-');
const TRUSTED = join(tmp, 'trusted.csv');
const LIVE = join(tmp, 'live.csv');
const servers: Served[] = [];
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

beforeAll(() => {
  const { trusted: t, pool } = adultSplit();
  writeCsv(TRUSTED, {
    header: ['id', ...t.header],
    rows: t.rows.slice(0, 3000).map((r, i) => [`r${i}`, ...r]),
  });
  writeCsv(LIVE, {
    header: ['id', ...pool.header],
    rows: pool.rows.slice(0, 1500).map((r, i) => [`l${i}`, ...r]),
  });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const base = (candidate: string, incumbent = join(F, 'adult_lr_incumbent.onnx')) => [
  'gate',
  '--trusted',
  TRUSTED,
  '--label',
  'income',
  '--id',
  'id',
  '--incumbent',
  incumbent,
  '--candidate',
  candidate,
];

describe('antidote gate', () => {
  it('promotes a clean retrain with exit 0 and writes a schema-valid report.json and a self-contained report.html', () => {
    const out = join(tmp, 'promote');
    const r = runCli([...base(join(F, 'adult_lr_clean.onnx')), '--live', LIVE, '--out-dir', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PROMOTE/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(ROOT, 'schemas', 'gate-report.v1.json'), 'utf8')),
    );
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.decision).toBe('promote');
    expect(report.models.candidate.digest).toBe(`sha256:${sha(join(F, 'adult_lr_clean.onnx'))}`);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/PROMOTE/);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(html).not.toMatch(/<script|https?:\/\/(?!vega|www\.w3)/);
  });

  it('a skipped check is never a clean promote: without --live, or with --no-probe, it is a promote with caveats naming it', () => {
    const noLive = runCli(base(join(F, 'adult_lr_clean.onnx')));
    expect(noLive.code).toBe(0);
    expect(noLive.stdout).toMatch(/^PROMOTE WITH CAVEATS/);
    expect(noLive.stdout).toMatch(/live-vs-trusted: SKIPPED \(no --live set given\)/);
    expect(noLive.stdout).toMatch(/Decision: promote with caveats\..*live-vs-trusted did not run/);
    expect(noLive.stdout).not.toMatch(/Every check ran/);
    const noProbe = runCli([
      ...base(join(F, 'adult_lr_clean.onnx')),
      '--live',
      LIVE,
      '--no-probe',
      '-f',
      'json',
    ]);
    expect(noProbe.code).toBe(0);
    const j = JSON.parse(noProbe.stdout);
    expect(j.decision).toBe('promote-with-caveats');
    expect(j.caveats).toEqual(['trigger-probes skipped: probes turned off with --no-probe']);
  });

  it('blocks a targeted candidate with exit 1 and prints JSON with --format json', () => {
    const r = runCli([...base(join(F, 'adult_lr_targeted.onnx')), '--probe', 'auto', '--format', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.decision).toBe('block');
    expect(
      report.findings.some(
        (f: { rule: string; location?: { slice?: string } }) =>
          f.rule === 'gate/trigger' && f.location?.slice === 'native_country = Germany',
      ),
    ).toBe(true);
  });

  it('signs the decision: a DSSE envelope over an in-toto statement carrying the digests of both models and the trusted set', () => {
    const out = join(tmp, 'signed');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = join(tmp, 'key.pem');
    writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = runCli([...base(join(F, 'adult_lr_noisy.onnx')), '--out', out, '--sign-key', key]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/signed decision: .*decision\.dsse\.json/);
    const envelope = JSON.parse(readFileSync(join(out, 'decision.dsse.json'), 'utf8'));
    const v = verifyDsse(envelope, publicKey.export({ type: 'spki', format: 'pem' }) as string);
    expect(v.ok).toBe(true);
    const stmt = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    expect(stmt._type).toBe('https://in-toto.io/Statement/v1');
    expect(stmt.predicate.decision).toBe('block');
    const digests = stmt.subject.map((s: { digest: { sha256: string } }) => s.digest.sha256);
    expect(digests).toEqual(
      expect.arrayContaining([
        sha(join(F, 'adult_lr_noisy.onnx')),
        sha(join(F, 'adult_lr_incumbent.onnx')),
        sha(TRUSTED),
      ]),
    );
    // A tampered statement no longer verifies.
    const forged = {
      ...envelope,
      payload: Buffer.from(
        JSON.stringify({ ...stmt, predicate: { ...stmt.predicate, decision: 'promote' } }),
      ).toString('base64'),
    };
    expect(verifyDsse(forged, publicKey.export({ type: 'spki', format: 'pem' }) as string).ok).toBe(false);
  });

  // Every fault mode is covered at the model level (test/gate/models.test.ts); here two of them go through the
  // whole command to show the decision: block, with the reason, exit 1.
  const faults: Array<[Fault, RegExp]> = [
    ['status500', /HTTP 500/],
    ['hang', /timed out after 300 ms/],
  ];
  for (const [fault, reason] of faults) {
    it(`blocks (never promotes) with a clear reason when the candidate endpoint misbehaves: ${fault}`, async () => {
      const model = await loadOnnxModel(join(F, 'adult_lr_clean.onnx'), { classes: 2 });
      const s = await serveModel(model, { fault });
      servers.push(s);
      const r = await runCliAsync([...base(s.url), '--timeout', '300']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^BLOCK/);
      expect(r.stdout).toMatch(/The candidate model cannot be evaluated/);
      expect(r.stdout).toMatch(reason);
    });
  }

  it('blocks when a predictions file lacks a trusted id, and promotes when it is complete', () => {
    const rows = readFileSync(TRUSTED, 'utf8').trim().split('\n').slice(1);
    const ids = rows.map((l) => l.split(',')[0]);
    const full = join(tmp, 'pred_full.csv');
    const missing = join(tmp, 'pred_missing.csv');
    writeFileSync(full, `id,score\n${ids.map((id) => `${id},0.2`).join('\n')}\n`);
    writeFileSync(
      missing,
      `id,score\n${ids
        .slice(0, -1)
        .map((id) => `${id},0.2`)
        .join('\n')}\n`,
    );
    const ok = runCli([
      'gate',
      '--trusted',
      TRUSTED,
      '--label',
      'income',
      '--id',
      'id',
      '--incumbent',
      full,
      '--candidate',
      full,
    ]);
    expect(ok.code).toBe(0);
    const bad = runCli([
      'gate',
      '--trusted',
      TRUSTED,
      '--label',
      'income',
      '--id',
      'id',
      '--incumbent',
      full,
      '--candidate',
      missing,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`no prediction for id "${ids[ids.length - 1]}"`));
  });

  it('exits 2 with one line for bad input', () => {
    const a = runCli([
      ...base(join(F, 'adult_lr_clean.onnx')).map((x) => (x === TRUSTED ? join(tmp, 'nope.csv') : x)),
    ]);
    expect(a.code).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/nope\.csv/);
    const b = runCli([
      'gate',
      '--trusted',
      TRUSTED,
      '--label',
      'salary',
      '--incumbent',
      join(F, 'adult_lr_clean.onnx'),
      '--candidate',
      join(F, 'adult_lr_clean.onnx'),
    ]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no column "salary"/);
    const c = runCli([...base(join(tmp, 'pred_full.csv'), join(tmp, 'pred_full.csv')), '--probe', 'auto']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--probe needs models that can be run/);
    expect(existsSync(join(tmp, 'nope.csv'))).toBe(false);
  });
});
