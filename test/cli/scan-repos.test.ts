/** `antidote scan` on repository folders: --exclude / .antidoteignore, and SARIF that reports only what blocks. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ruleCatalog } from '../../src/artifacts/rules.js';
import { ruleHelpUri } from '../../src/report/sarif.js';
import { FIXTURES, ROOT, runCli } from '../helpers/cli.js';

const REPOS = join(FIXTURES, 'repos');
const tmp = mkdtempSync(join(tmpdir(), 'antidote-scan-repos-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('antidote scan on repositories', () => {
  it('leaves out --exclude and the working directory .antidoteignore matches and lists them as skipped', () => {
    const dir = join(tmp, 'bert');
    const project = join(tmp, 'project');
    mkdirSync(project, { recursive: true });
    cpSync(join(REPOS, 'malicious', 'bert-pickle-os-system'), dir, { recursive: true });
    // Blocks for its pickle; excluding that file (and the onnx folder, by .antidoteignore) lets it pass.
    expect(runCli(['scan', dir, '--no-progress']).code).toBe(1);
    writeFileSync(join(project, '.antidoteignore'), '# exported copies\nonnx/\n');
    const r = runCli(['scan', dir, '--no-progress', '--exclude', 'pytorch_model.bin', '--format', 'json'], {
      cwd: project,
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: Array<{ path: string }>;
      skipped: Array<{ path: string; reason: string }>;
    };
    expect(report.skipped.map((s) => [s.path.slice(dir.length + 1), s.reason]).sort()).toEqual([
      ['onnx', '.antidoteignore:2 onnx/'],
      ['pytorch_model.bin', '--exclude pytorch_model.bin'],
    ]);
    expect(
      report.results.some((x) => x.path.endsWith('pytorch_model.bin') || x.path.includes('/onnx/')),
    ).toBe(false);
    const text = runCli(['scan', dir, '--no-progress', '--exclude', 'pytorch_model.bin'], { cwd: project });
    expect(text.stdout).toMatch(/Skipped \(excluded, not scanned\):/);
    expect(text.stdout).toMatch(/2 skipped/);
  });

  it("never obeys a scanned repository's own .antidoteignore: it could hide the file that attacks", () => {
    const dir = join(tmp, 'hiding');
    cpSync(join(REPOS, 'malicious', 'bert-pickle-os-system'), dir, { recursive: true });
    writeFileSync(join(dir, '.antidoteignore'), 'pytorch_model.bin\n');
    const r = runCli(['scan', dir, '--no-progress', '--format', 'json'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).skipped ?? []).toEqual([]);
  });

  it('emits no SARIF result for a clean repository, and only blocking ones by default', () => {
    const clean = runCli([
      'scan',
      join(REPOS, 'benign', 'bert-base-uncased'),
      '--no-progress',
      '-f',
      'sarif',
    ]);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout).runs[0].results).toEqual([]);
    const all = runCli([
      'scan',
      join(REPOS, 'benign', 'bert-base-uncased'),
      '--no-progress',
      '-f',
      'sarif',
      '--sarif-level',
      'info',
    ]);
    expect(JSON.parse(all.stdout).runs[0].results.length).toBeGreaterThan(5);
    const bad = runCli([
      'scan',
      join(REPOS, 'malicious', 'bert-pickle-os-system'),
      '--no-progress',
      '-f',
      'sarif',
    ]);
    expect(bad.code).toBe(1);
    const run = JSON.parse(bad.stdout).runs[0];
    expect(run.results.length).toBeGreaterThan(0);
    for (const res of run.results) expect(['error']).toContain(res.level);
    for (const rule of run.tool.driver.rules) {
      expect(rule.help.text.length, rule.id).toBeGreaterThan(20);
      expect(rule.helpUri).toMatch(/README\.md#rules-[a-z]+$/);
    }
    expect(runCli(['scan', REPOS, '--sarif-level', 'loud']).code).toBe(2);
  });

  it('links every rule of the catalogue to an anchor that exists in the README', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const families = new Set<string>();
    for (const id of (await ruleCatalog()).keys()) {
      const anchor = ruleHelpUri(id).split('#')[1];
      expect(readme, `${id} -> #${anchor}`).toContain(`<a id="${anchor}"></a>`);
      families.add(anchor);
    }
    expect(families.size).toBeGreaterThanOrEqual(10);
  });
});
