/** `antidote scan` as a user runs it: exit codes, formats, --output, --fail-on, --allow, --policy. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS, FIXTURES, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const benign = join(CORPUS, 'data', 'benign0_v3.pkl');
const evil = join(CORPUS, 'data', 'malicious1_v3.pkl');
const tmp = tempDir('antidote-cli-scan-');

describe('antidote scan', () => {
  it('exits 0 when every file passes, 1 when one is blocked, 2 on a missing path', () => {
    const ok = runCli(['scan', benign]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/PASS/);
    const bad = runCli(['scan', benign, evil]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/BLOCK .*malicious1_v3\.pkl/);
    expect(bad.stdout).toMatch(/1 passed, 1 blocked/);
    const missing = runCli(['scan', join(tmp, 'nope.pt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it("counts a folder's repository result apart from its files", () => {
    const repo = join(tmp, 'hf-repo');
    mkdirSync(repo);
    copyFileSync(join(FIXTURES, 'formats', 'benign', 'model.safetensors'), join(repo, 'model.safetensors'));
    writeFileSync(join(repo, 'config.json'), '{"model_type": "bert"}');
    const r = runCli(['scan', repo]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS .*hf-repo \(model-repository\)/);
    expect(r.stdout).toMatch(/^2 files and 1 model repository scanned: 3 passed, 0 blocked$/m);
  });

  it('rejects bad flags with exit 2 and one line', () => {
    for (const args of [
      ['scan', benign, '--format', 'xml'],
      ['scan', benign, '--fail-on', 'severe'],
      ['scan'],
    ]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().length).toBeGreaterThan(0);
    }
  });

  it('writes JSON to --output atomically, nothing on stdout, no temp file left', () => {
    const out = join(tmp, 'reports', 'scan.json');
    const r = runCli(['scan', join(CORPUS, 'data2'), '--format', 'json', '--output', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.version).toBe(1);
    expect(report.tool).toEqual({
      name: 'antidote',
      version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    });
    const files = report.results.filter((x: { path: string }) => x.path !== join(CORPUS, 'data2'));
    expect(files.length).toBe(readdirSync(join(CORPUS, 'data2')).length);
    expect(readdirSync(join(tmp, 'reports'))).toEqual(['scan.json']);
  });

  it('emits SARIF', () => {
    const r = runCli(['scan', evil, '--format', 'sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results.length).toBeGreaterThan(0);
  });

  it('--fail-on sets the blocking threshold', () => {
    // A file whose only finding is informational passes at any threshold above info and blocks at info.
    const txt = join(tmp, 'notes.txt');
    writeFileSync(txt, 'just some notes\n');
    expect(runCli(['scan', txt]).code).toBe(0);
    expect(runCli(['scan', txt, '--fail-on', 'info']).code).toBe(1);
    // a critical finding passes only when the threshold is above it: never, so critical blocks at critical
    expect(runCli(['scan', evil, '--fail-on', 'critical']).code).toBe(1);
  });

  it('--allow lets an exact name through, and only that name', () => {
    const p = join(tmp, 'custom.pkl');
    // protocol 2: mypkg.layers.Custom() via GLOBAL + EMPTY_TUPLE + REDUCE
    writeFileSync(
      p,
      Buffer.concat([
        Buffer.from([0x80, 2]),
        Buffer.from('cmypkg.layers\nCustom\n'),
        Buffer.from([0x29, 0x52, 0x2e]),
      ]),
    );
    expect(runCli(['scan', p]).code).toBe(1);
    expect(runCli(['scan', p, '--allow', 'mypkg.layers.Custom']).code).toBe(0);
    expect(runCli(['scan', p, '--allow', 'mypkg.layers']).code).toBe(1);
    expect(runCli(['scan', p, '--allow', 'mypkg.layers.Other']).code).toBe(1);
  });

  it('walks folders, one result per file, and does not modify its inputs', () => {
    const before = readFileSync(join(FIXTURES, 'real', 'state_dict_dtypes.pt'));
    const r = runCli(['scan', join(FIXTURES, 'real'), '--format', 'json']);
    const report = JSON.parse(r.stdout);
    // one result per file (plus, possibly, one folder-level repository summary)
    const files = report.results.filter((x: { path: string }) => x.path !== join(FIXTURES, 'real'));
    expect(files.map((x: { path: string }) => x.path.split('/').pop()).sort()).toEqual(
      readdirSync(join(FIXTURES, 'real')).sort(),
    );
    expect(readFileSync(join(FIXTURES, 'real', 'state_dict_dtypes.pt')).equals(before)).toBe(true);
    expect(existsSync(join(FIXTURES, 'real', 'state_dict_dtypes.pt'))).toBe(true);
  });
});

describe('antidote scan --policy', () => {
  it('selects profiles and adds names from a policy file; a bad policy is exit 2', () => {
    const sd = join(FIXTURES, 'real', 'state_dict_dtypes.pt');
    const custom = join(tmp, 'custom2.pkl');
    writeFileSync(
      custom,
      Buffer.concat([
        Buffer.from([0x80, 2]),
        Buffer.from('cmypkg.layers\nCustom\n'),
        Buffer.from([0x29, 0x52, 0x2e]),
      ]),
    );
    const allow = join(tmp, 'allow.json');
    writeFileSync(allow, JSON.stringify({ allow: ['mypkg.layers.Custom'] }));
    expect(runCli(['scan', custom, '--policy', allow]).code).toBe(0);
    expect(runCli(['scan', sd, '--policy', allow]).code).toBe(0);
    const numpyOnly = join(tmp, 'numpy-only.json');
    writeFileSync(numpyOnly, JSON.stringify({ profiles: ['numpy'] }));
    const r = runCli(['scan', sd, '--policy', numpyOnly]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/torch\._utils\._rebuild_tensor_v2/);
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '{"allow": "not a list"}');
    const b = runCli(['scan', sd, '--policy', bad]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bad\.json/);
    expect(runCli(['scan', sd, '--policy', join(tmp, 'missing.json')]).code).toBe(2);
  });
});
