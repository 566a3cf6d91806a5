/**
 * End to end through the built CLI: a seeded rogue-labeler case (SMS Spam Collection) and its clean control.
 * Asserts only on this detector family's output (contributors, drift, duplicates), so that it tests their
 * wiring into `antidote audit` (registration, settings, stage-2 inputs) rather than other detectors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../../src/data/generators/cases.js';
import { writeCase } from '../../../src/data/generators/write.js';
import { runCli, testData } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const work = tempDir('antidote-contrib-');

interface Report {
  findings: Array<{ rule: string; severity: string; evidence?: Record<string, unknown> }>;
  detectors: Array<{ id: string; status: string }>;
}

async function audit(
  name: string,
  seed: number,
): Promise<{ report: Report; truth: string[]; rogue: string[] }> {
  const c = CASES[name]({ dataDir: testData(), seed });
  const dir = join(work, name);
  await writeCase(c, dir);
  const r = runCli([
    'audit',
    '--trusted',
    join(dir, 'trusted.csv'),
    '--incoming',
    join(dir, 'incoming.csv'),
    '--label',
    'label',
    '--id',
    'id',
    '--text',
    'text',
    '--source',
    'source',
    '--labeler',
    'labeler',
    '--time',
    'time',
    '--out',
    join(dir, 'out'),
    '--format',
    'json',
    '--no-progress',
  ]);
  expect(r.stderr).not.toMatch(/internal error/);
  expect([0, 1]).toContain(r.code);
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as Report;
  return { report, truth: c.truth.poisoned, rogue: (c.truth.details.rogueLabelers as string[]) ?? [] };
}

describe('antidote audit: contributors, drift and duplicates end to end', () => {
  it('names exactly the rogue labelers, and quarantines their flipped rows', async () => {
    const { report, truth, rogue } = await audit('rogue-labelers', 3);
    const ran = new Map(report.detectors.map((d) => [d.id, d.status]));
    expect(ran.get('audit/contributors')).toBe('ran');
    expect(ran.get('audit/drift')).toBe('ran');
    expect(ran.get('audit/duplicates')).toBe('ran');
    expect(ran.get('audit/representations')).toBe('skipped');
    const named = report.findings
      .filter(
        (f) => ['audit/contributors', 'audit/label-cells'].includes(f.rule) && f.evidence?.role === 'labeler',
      )
      .map((f) => f.evidence?.account);
    expect(new Set(named)).toEqual(new Set(rogue));
    const quarantined = readFileSync(join(work, 'rogue-labelers', 'out', 'quarantined.csv'), 'utf8');
    const caught = truth.filter((id) => quarantined.includes(`\n${id},`)).length;
    expect(caught / truth.length).toBeGreaterThan(0.8);
  });

  it('raises nothing of its own on the clean control', async () => {
    const { report } = await audit('clean-sms', 3);
    const mine = report.findings.filter(
      (f) =>
        ['audit/contributors', 'audit/drift', 'audit/duplicates'].includes(f.rule) &&
        ['high', 'critical'].includes(f.severity),
    );
    expect(mine).toEqual([]);
  });
});
