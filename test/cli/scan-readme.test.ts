/** The README's `scan` section documents every rule the scanner can report, and every flag it accepts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleCatalog } from '../../src/artifacts/rules.js';
import { ROOT, runCli } from '../helpers/cli.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('<!-- section:scan -->'),
  readme.indexOf('<!-- /section:scan -->'),
);

describe('README scan section', () => {
  it('lists every rule id of the catalogue with its severity', async () => {
    const catalog = await ruleCatalog();
    expect(catalog.size).toBeGreaterThan(20);
    for (const meta of catalog.values())
      expect(section, meta.id).toContain(`| \`${meta.id}\` | ${meta.severity} |`);
  });

  it('documents every flag of `antidote scan --help`', () => {
    const help = runCli(['scan', '--help']).stdout;
    const flags = [...help.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== 'help');
    expect(flags.length).toBeGreaterThan(5);
    for (const f of flags) expect(section, f).toContain(`--${f}`);
  });
});
