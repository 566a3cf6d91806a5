import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../helpers/cli.js';

// The CLI scans through the esbuild bundle (dist/cli/scan.script.js), not the module graph the in-process
// tests use: a dependency that breaks when bundled (a dynamic require, say) shows only here.
describe('antidote scan as shipped', () => {
  it('passes every benign real artifact, quietly', () => {
    const r = runCli([
      'scan',
      join(FIXTURES, 'real'),
      join(FIXTURES, 'pickle', 'benign'),
      '--format',
      'json',
    ]);
    const report = JSON.parse(r.stdout) as { results: Array<{ path: string; verdict: string }> };
    expect(report.results.length).toBeGreaterThan(40);
    expect(report.results.filter((x) => x.verdict !== 'pass').map((x) => x.path)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
  it('blocks every opcode-built attack', () => {
    const r = runCli(['scan', join(FIXTURES, 'pickle', 'attacks'), '--format', 'json']);
    const report = JSON.parse(r.stdout) as { results: Array<{ path: string; verdict: string }> };
    expect(report.results.length).toBeGreaterThan(20);
    // make_attacks.py also writes one control that is not an attack: not-a-pickle.txt.bz2 (plain text, bz2).
    const attacks = report.results.filter((x) => !x.path.endsWith('not-a-pickle.txt.bz2'));
    expect(attacks.length).toBe(report.results.length - 1);
    expect(attacks.filter((x) => x.verdict !== 'block').map((x) => x.path)).toEqual([]);
    expect(r.code).toBe(1);
  });
});
