import { spawnSync } from 'node:child_process';
import { copyFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const LOADER = pathToFileURL(join(ROOT, 'dist', 'cli', 'script-bundle.js')).href;
const SMALL = join(FIXTURES, 'formats', 'benign', 'model.safetensors');

/** Load a scan script in a plain node process (the flags antidote runs with), scan a file, report both. */
function loadAndScan(script: string): { cached: boolean; verdict: string } {
  const code = `import { loadScriptBundle } from ${JSON.stringify(LOADER)};
const l = loadScriptBundle(new URL(${JSON.stringify(pathToFileURL(script).href)}));
const r = await l.exports.scanPaths([${JSON.stringify(SMALL)}], { failOn: 'high', allow: [] });
console.log(JSON.stringify({ cached: l.cached, verdict: r.results[0].verdict }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

// The build saves V8's bytecode beside each bundled script (scripts/bundle-cli.mjs) so that `antidote scan` starts
// without compiling it; a cache V8 refuses (made with other flags, say) would silently cost that time again.
describe('bundled scripts and their code cache', () => {
  it('the build made a cache for each script, after the script', () => {
    for (const name of ['main', 'scan', 'hash']) {
      const script = join(ROOT, 'dist', 'cli', `${name}.script.js`);
      expect(statSync(`${script}.cache`).mtimeMs).toBeGreaterThanOrEqual(statSync(script).mtimeMs);
    }
  });

  it('the scan script loads from the cache the build made, and scans', () => {
    const dir = tempDir();
    const script = join(dir, 'scan.script.js');
    copyFileSync(join(ROOT, 'dist', 'cli', 'scan.script.js'), script);
    copyFileSync(join(ROOT, 'dist', 'cli', 'scan.script.js.cache'), `${script}.cache`);
    expect(loadAndScan(script)).toEqual({ cached: true, verdict: 'pass' });
  });

  it('a cache older than its script is not used: the script is compiled and behaves the same', () => {
    const dir = tempDir();
    const script = join(dir, 'scan.script.js');
    copyFileSync(join(ROOT, 'dist', 'cli', 'scan.script.js'), script);
    copyFileSync(join(ROOT, 'dist', 'cli', 'scan.script.js.cache'), `${script}.cache`);
    const later = new Date(Date.now() + 60_000);
    utimesSync(script, later, later);
    expect(loadAndScan(script)).toEqual({ cached: false, verdict: 'pass' });
  });
});
