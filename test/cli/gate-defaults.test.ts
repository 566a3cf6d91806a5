/**
 * Safe defaults of `antidote gate`: trigger probes run without being asked for. The BadNets candidate
 * (SST-2 with a rare-token backdoor, test/fixtures/gate) is blocked with default flags, on the SST-2 dev
 * split that ships in examples/sst2 (nothing outside the repository needed).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, runCli } from '../helpers/cli.js';

const F = join(FIXTURES, 'gate');
const TRUSTED = join(ROOT, 'examples', 'sst2', 'dev.tsv');
const gate = (candidate: string, extra: string[] = []) =>
  runCli([
    'gate',
    '--trusted',
    TRUSTED,
    '--label',
    'label',
    '--incumbent',
    join(F, 'sst2_incumbent.onnx'),
    '--candidate',
    join(F, candidate),
    ...extra,
  ]);

describe('antidote gate defaults', () => {
  it('blocks the BadNets candidate with default flags, naming its triggers', { timeout: 60_000 }, () => {
    const r = gate('sst2_badnets.onnx');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BLOCK/);
    expect(r.stdout).toMatch(/probes: \d+ candidate triggers/);
    expect(r.stdout).toMatch(/HIGH\s+Trigger "\w+": inserted into/);
  });

  it('--no-probe skips the probes and says so: never a clean promote', { timeout: 60_000 }, () => {
    const r = gate('sst2_badnets.onnx', ['--no-probe']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PROMOTE WITH CAVEATS/);
    expect(r.stdout).toMatch(/trigger-probes: SKIPPED \(probes turned off with --no-probe\)/);
    expect(r.stdout).toMatch(/caveat: trigger-probes skipped/);
  });

  it('the clean SST-2 retrain is not blocked by the default probes', { timeout: 60_000 }, () => {
    const r = gate('sst2_clean.onnx');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/probes: \d+ candidate triggers/);
    expect(r.stdout).not.toMatch(/Trigger "/);
  });
});
