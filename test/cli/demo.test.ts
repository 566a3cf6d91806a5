/** `antidote demo` from the command line: the whole loop on the bundled data, in under a minute. */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('antidote demo', () => {
  it(
    'runs the poisoned retrain loop, blocks the raw candidate, promotes the audited one, names the reports',
    { timeout: 120_000 },
    () => {
      const out = join(tempDir('antidote-demo-'), 'demo out');
      const t0 = Date.now();
      const r = runCli(['demo', '--out', out]);
      const seconds = (Date.now() - t0) / 1000;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // The requirement is under a minute (bench/gate.bench.ts measures it alone); the bound leaves room for a
      // machine shared with the rest of the suite running in parallel.
      expect(seconds).toBeLessThan(90);
      // Plain-words narration of each step.
      for (const step of [
        '1. Trusted data',
        '2. A new batch',
        '3. The audit',
        '4. Antidote',
        '5. The gate',
        '6. Candidate B',
      ])
        expect(r.stdout).toContain(step);
      expect(r.stdout).toMatch(/candidate A.*: BLOCK\. Trigger "cf"/s);
      expect(r.stdout).toMatch(/Candidate B.*: PROMOTE/);
      // The reports it names exist and are self-contained HTML.
      const named = [...r.stdout.matchAll(/(\/\S.*report\.html)$/gm)].map((m) => m[1].trim());
      expect(named).toHaveLength(3);
      for (const p of named) {
        expect(existsSync(p)).toBe(true);
        expect(readFileSync(p, 'utf8')).toMatch(/^<!doctype html>/i);
      }
      const outcome = JSON.parse(readFileSync(join(out, 'demo.json'), 'utf8'));
      expect(outcome.gateRaw.decision).toBe('block');
      // No live set in the demo: the gate says that check did not run, so B is promoted with that caveat.
      expect(outcome.gateAudited.decision).toBe('promote-with-caveats');
      expect(outcome.audit.triggerCaught / outcome.audit.triggerTotal).toBeGreaterThanOrEqual(0.95);
      // The inputs it generated are kept beside the reports.
      for (const f of ['trusted-reference.tsv', 'trusted-holdout.tsv', 'incoming-batch.tsv'])
        expect(existsSync(join(out, f))).toBe(true);
    },
  );

  it('exits 2 with one line on a bad seed', () => {
    const r = runCli(['demo', '--seed', 'x', '--out', join(tmpdir(), 'never-written')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
