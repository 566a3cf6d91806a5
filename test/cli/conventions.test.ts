/**
 * One convention across commands (-o/--output, --out-dir, -f/--format, --force, -q/--quiet, required flags
 * marked, examples in --help), text output that no data can use to drive the terminal, gzip tables, and a
 * signature bundle in which every signature must verify.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from '../helpers/cli.js';

const base = mkdtempSync(join(tmpdir(), 'antidote-conventions-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const MODEL = join(base, 'model.safetensors');
copyFileSync(join(FIXTURES, 'formats', 'benign', 'model.safetensors'), MODEL);
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

const COMMANDS = [
  'scan',
  'audit',
  'gate',
  'demo',
  'convert',
  'hash',
  'lock',
  'verify',
  'sign',
  'verify-signature',
  'bom',
];

describe('--help', () => {
  for (const cmd of COMMANDS) {
    it(`${cmd}: examples, --force and -q, -o or --out-dir, required flags marked`, () => {
      const r = runCli([cmd, '--help']);
      expect(r.code).toBe(0);
      const examples = r.stdout.slice(r.stdout.indexOf('Examples:'));
      expect(r.stdout).toContain('Examples:');
      expect((examples.match(/\$ antidote /g) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(r.stdout).toMatch(/--force/);
      expect(r.stdout).toMatch(/-q, --quiet/);
      expect(r.stdout).toMatch(/-o, --output <file>|--out-dir <dir>/);
      expect(r.stdout).not.toMatch(/^\s+--out <dir>/m);
    });
  }
  it('marks required flags', () => {
    expect(runCli(['audit', '--help']).stdout).toMatch(/--trusted <file>[\s\S]*?\(required\)/);
    expect(runCli(['gate', '--help']).stdout).toMatch(/--candidate <model>[\s\S]*?\(required\)/);
    expect(runCli(['convert', '--help']).stdout).toMatch(
      /-o, --output <file>\s+safetensors file to write\s+\(required\)/,
    );
    expect(runCli(['sign', '--help']).stdout).toMatch(/-k, --key <pem>[\s\S]*?\(required\)/);
  });
  it('gate has -o and -f like every other command', () => {
    const h = runCli(['gate', '--help']).stdout;
    expect(h).toMatch(/-o, --output <file>/);
    expect(h).toMatch(/-f, --format <format>/);
    expect(h).toMatch(/--no-probe/);
  });
});

describe('outputs', () => {
  it('-o writes the report, --force replaces it, -q prints nothing', () => {
    const out = join(base, 'hash.json');
    expect(runCli(['hash', MODEL, '-f', 'json', '-o', out]).code).toBe(0);
    const first = readFileSync(out, 'utf8');
    expect(JSON.parse(first).results[0].digest).toBe(sha(MODEL));
    expect(runCli(['hash', MODEL, '-f', 'json', '-o', out]).code).toBe(2);
    const r = runCli(['hash', MODEL, '-a', 'sha512', '-f', 'json', '-o', out, '--force', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).algorithm).toBe('sha512');
  });

  it('scan -q: no text on stdout, the exit code carries the verdict', () => {
    const r = runCli(['scan', MODEL, '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('the old spelling --out still names the output folder (gate), and -o writes the summary', () => {
    const dir = join(base, 'gate-old');
    const summary = join(base, 'gate.txt');
    const r = runCli([
      'gate',
      '--trusted',
      join(ROOT, 'examples', 'sst2', 'dev.tsv'),
      '--label',
      'label',
      '--incumbent',
      join(FIXTURES, 'gate', 'sst2_incumbent.onnx'),
      '--candidate',
      join(FIXTURES, 'gate', 'sst2_clean.onnx'),
      '--no-probe',
      '--out',
      dir,
      '-o',
      summary,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(existsSync(join(dir, 'report.json'))).toBe(true);
    expect(readFileSync(summary, 'utf8')).toMatch(/^PROMOTE WITH CAVEATS/);
  });
});

describe('terminal output', () => {
  it('escape sequences and control characters in file names are shown escaped, never sent raw', () => {
    const dir = join(base, 'esc');
    mkdirSync(dir);
    copyFileSync(MODEL, join(dir, 'a\u001b[2J\u001b]0;pwned\u0007b\u009b31m.safetensors'));
    const r = runCli(['scan', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('a\\e[2J\\e]0;pwned\\x07b\\x9b31m.safetensors');
    // JSON keeps the exact name (JSON.stringify escapes it).
    const j = JSON.parse(runCli(['scan', dir, '-f', 'json']).stdout);
    expect(j.results[0].path).toContain('\u001b[2J');
  });

  it('errors echo names escaped too', () => {
    const r = runCli(['scan', join(base, 'no\u001b[31mpe')]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr).toContain('no\\e[31mpe');
  });
});

describe('gzip tables', () => {
  it('audit reads .tsv.gz and .csv.gz', { timeout: 60_000 }, () => {
    const lines = readFileSync(join(ROOT, 'examples', 'sst2', 'train.tsv'), 'utf8')
      .trim()
      .split(/\r?\n/);
    const trusted = join(base, 'trusted.tsv.gz');
    const incoming = join(base, 'incoming.csv.gz');
    writeFileSync(trusted, gzipSync(`${lines.slice(0, 501).join('\n')}\n`));
    const csv = lines
      .slice(501, 801)
      .map((l) => {
        const [s, y] = l.split('\t');
        return `"${s.replace(/"/g, '""')}",${y}`;
      })
      .join('\n');
    writeFileSync(incoming, gzipSync(`sentence,label\n${csv}\n`));
    const out = join(base, 'audit-gz');
    const r = runCli([
      'audit',
      '--trusted',
      trusted,
      '--incoming',
      incoming,
      '--label',
      'label',
      '--out-dir',
      out,
      '-f',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.summary.incoming).toBe(300);
    expect(report.summary.accepted + report.summary.quarantined).toBe(300);
    expect(readFileSync(join(out, 'accepted.csv'), 'utf8').split('\n')[0]).toBe('sentence,label');
  });

  it('a truncated .csv.gz is exit 2 with one line, not a smaller batch', { timeout: 60_000 }, () => {
    const whole = readFileSync(join(base, 'incoming.csv.gz'));
    const cut = join(base, 'cut.csv.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const out = join(base, 'audit-cut');
    const r = runCli([
      'audit',
      '--trusted',
      join(base, 'trusted.tsv.gz'),
      '--incoming',
      cut,
      '--label',
      'label',
      '--out-dir',
      out,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cut\.csv\.gz: the gzip stream is damaged or truncated/);
    expect(existsSync(join(out, 'accepted.csv'))).toBe(false);
  });
});

describe('signature bundles', () => {
  it('one valid and one garbage signature: the bundle fails', () => {
    const dir = join(base, 'sig');
    mkdirSync(dir);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = join(dir, 'k.pem');
    const pub = join(dir, 'k.pub');
    writeFileSync(key, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    const sig = join(dir, 'm.sig');
    expect(runCli(['sign', MODEL, '-k', key, '-o', sig]).code).toBe(0);
    expect(runCli(['verify-signature', MODEL, '-s', sig, '-k', pub]).code).toBe(0);
    const bundle = JSON.parse(readFileSync(sig, 'utf8'));
    const good = bundle.dsseEnvelope.signatures[0];
    for (const [name, extra] of [
      ['garbage', { sig: Buffer.from('garbage').toString('base64'), keyid: '' }],
      ['not base64', { sig: '%%%', keyid: '' }],
    ] as const) {
      const twice = join(dir, `${name}.sig`);
      writeFileSync(
        twice,
        JSON.stringify({ ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, signatures: [good, extra] } }),
      );
      const r = runCli(['verify-signature', MODEL, '-s', twice, '-k', pub]);
      expect(r.code, name).toBe(1);
      expect(r.stdout).toMatch(/not every one of its 2 signatures verifies/);
    }
    // Two copies of the good signature: each verifies, so the bundle does.
    const same = join(dir, 'same.sig');
    writeFileSync(
      same,
      JSON.stringify({ ...bundle, dsseEnvelope: { ...bundle.dsseEnvelope, signatures: [good, good] } }),
    );
    expect(runCli(['verify-signature', MODEL, '-s', same, '-k', pub]).code).toBe(0);
  });
});
