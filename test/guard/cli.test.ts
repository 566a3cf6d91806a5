/**
 * `antidote guard fit` as a user runs it: a profile that reads back, and bad input as one line with exit 2
 * (existing output without --force, a layer that does not exist, a layer that is not one vector per
 * instance, layers of an HTTP endpoint, a profile that is not one or belongs to another model).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AntidoteError } from '../../src/core/errors.js';
import { FPR_MARGIN, readProfile } from '../../src/guard/profile.js';
import { createScorer, ordinal } from '../../src/guard/scorer.js';
import { sliceMatches } from '../../src/guard/slices.js';
import { FIXTURES, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { data, fitAdultArgs, fitSms, fitSst2Args, model } from './helpers.js';

const dir = tempDir('antidote-guard-cli-');
const out = join(dir, 'guard.json');
const fitCli = (extra: string[], o = out) => fitSms(o, extra);

const oneLineError = (r: { code: number | null; stderr: string }) => {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^antidote: error: /);
  return lines[0];
};

describe('guard fit', () => {
  it('writes a profile that reads back with calibrated thresholds, slices and the default layer', async () => {
    const r = fitCli(['--strip-perturbations', '8']);
    expect(r.stderr).toMatch(/guard profile .*activation on hidden \[32\]/);
    expect(r.code).toBe(0);
    const p = await readProfile(out);
    expect(p.model.kind).toBe('onnx');
    expect(p.model.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(p.classes).toEqual(['0', '1']);
    expect(p.inputs).toEqual([{ name: 'text', type: 'string', text: true }]);
    expect(p.activation?.layers.map((l) => l.name)).toEqual(['hidden']);
    expect(p.activation?.verified.maxAbsDiff).toBe(0);
    // The 1% budget, less a margin, is split between activation, STRIP and occlusion, each calibrated on the
    // held-back rows.
    for (const id of ['guard/activation', 'guard/strip', 'guard/occlusion'] as const) {
      const t = p.thresholds.checks[id];
      expect(t?.fpr).toBeCloseTo((0.01 * FPR_MARGIN) / 3);
      expect(t?.calibrationRows).toBeGreaterThan(500);
      expect(t?.observedFpr).toBeLessThanOrEqual((0.01 * FPR_MARGIN) / 3);
    }
    // STRIP fits nothing (a row is never mixed with itself), so it is calibrated on every trusted row.
    expect(p.thresholds.checks['guard/strip']?.calibrationRows).toBe(Math.min(2000, p.trusted.rows));
    expect(p.trusted.fitRows + p.trusted.calibrationRows).toBe(p.trusted.rows);
    expect(p.outputs.overall.n).toBe(p.trusted.rows);
    expect(p.outputs.overall.classShares.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(p.outputs.slices.length).toBeGreaterThan(3);
    expect(p.outputs.slices.every((s) => s.rule.op === 'contains')).toBe(true);
  }, 60_000);

  it('says when the trusted set is too small to measure the false-alarm rate, and extrapolates the thresholds', async () => {
    // German credit: 250 trusted rows, 100 held back, a few dozen per class.
    const o = join(dir, 'german.json');
    const small = runCli([
      'guard',
      'fit',
      '--model',
      model('german_conj_backdoor'),
      '--trusted',
      data('german_trusted.csv'),
      '--label',
      'Result',
      '-o',
      o,
    ]);
    expect(small.code, small.stderr).toBe(0);
    // The largest of a few dozen scores per class holds about 2% per check, not the 0.27% each is given: the
    // thresholds are read from the tail of the scores instead, and the warning says the rate is an estimate.
    expect(small.stderr).toMatch(
      /warning: 100 held-back trusted rows are too few to measure a false-alarm rate of 1\.0%: the .*strip.* thresholds were extrapolated .*Give about [\d,]+ trusted rows/,
    );
    const p = await readProfile(o);
    // Column names keep their trailing spaces, as the file has them.
    expect(p.inputs.map((c) => c.name)).toContain('Credit amount ');
    const strip = p.thresholds.checks['guard/strip'];
    expect(strip?.extrapolated).toBe(true);
    expect(strip?.expectedFpr).toBeCloseTo(strip?.fpr ?? 1, 12);
    // Beyond every calibration score of its class.
    expect(strip?.observedFpr).toBe(0);
    // SMS: 1,400 trusted rows, but the model answers spam for about one in eight, so 560 held back are not enough;
    // the rows asked for are counted from that class.
    const sms = fitCli(['--force']);
    expect(sms.code, sms.stderr).toBe(0);
    const asked = /too few to measure .*Give about ([\d,]+) trusted rows/.exec(sms.stderr);
    expect(Number(asked?.[1].replace(/,/g, ''))).toBeGreaterThan(2 * 1400);
    // SST-2's 2,000 trusted rows of two balanced classes hold a 3% rate (0.8% per check: 287 rows a class with 90%
    // confidence) and say nothing of the kind.
    const large = runCli(fitSst2Args(join(dir, 'sst2.json'), ['--fpr', '0.03']));
    expect(large.code, large.stderr).toBe(0);
    expect(large.stderr).not.toMatch(/too few to (hold|measure)/);
    const t = (await readProfile(join(dir, 'sst2.json'))).thresholds.checks;
    expect(Object.values(t).some((x) => x?.extrapolated)).toBe(false);
  }, 120_000);

  it('refuses to replace an existing profile without --force', () => {
    expect(oneLineError(fitCli([]))).toMatch(/already exists; pass --force/);
  });

  it('a layer that does not exist is one line naming it', () => {
    expect(oneLineError(fitCli(['--layer', 'nope'], join(dir, 'x.json')))).toMatch(
      /--layer nope: .* has no tensor of that name/,
    );
  });

  it('a layer that is not a float vector per instance, or has no fixed shape, is one line', () => {
    expect(oneLineError(fitCli(['--layer', 'tokens'], join(dir, 'x.json')))).toMatch(
      /--layer tokens: the tensor is string, not float/,
    );
    // The gate's bag-of-words model: per-word weights [N, 1, words] grow with the sentence.
    const r = runCli([
      'guard',
      'fit',
      '--model',
      join(FIXTURES, 'gate', 'sst2_badnets.onnx'),
      '--trusted',
      join(ROOT, 'examples', 'sst2', 'dev.tsv'),
      '--label',
      'label',
      '--layer',
      'weights',
      '-o',
      join(dir, 'y.json'),
    ]);
    expect(oneLineError(r)).toMatch(
      /--layer weights: its size per instance changes with the input .* no fixed shape/,
    );
  });

  it('a sequence layer is summarised to a fixed size per instance', async () => {
    const o = join(dir, 'seq.json');
    expect(fitCli(['--layer', 'embedded', '--no-strip'], o).code).toBe(0);
    const p = await readProfile(o);
    expect(p.activation?.layers.map((l) => [l.name, l.dim])).toEqual([['embedded', 64]]);
    // The distinct word vectors of the fit rows are kept for the position distance.
    expect(p.activation?.layers[0].positions?.d).toBe(32);
    expect(p.activation?.layers[0].positions?.rows).toBeGreaterThan(500);
    expect(p.thresholds.checks['guard/strip']).toBeUndefined();
    expect(p.skipped['guard/strip']).toMatch(/turned off/);
  }, 60_000);

  it('a tabular profile holds the gate slices as rules the proxy can apply, and reads back', async () => {
    const o = join(dir, 'adult.json');
    const r = runCli(fitAdultArgs(o, ['--slices', 'age,sex']));
    expect(r.code, r.stderr).toBe(0);
    const p = await readProfile(o);
    expect(p.outputs.slices.map((s) => s.text)).toEqual(
      expect.arrayContaining(['age < 26', 'age >= 51', 'sex = Male', 'sex = Female']),
    );
    const young = p.outputs.slices.find((s) => s.text === 'age < 26');
    expect(young?.rule).toEqual({ op: 'range', column: 'age', lo: null, hi: 26 });
    const batch = {
      n: 2,
      ids: ['a', 'b'],
      columns: new Map([['age', { kind: 'number' as const, values: Float64Array.from([25, 26]) }]]),
    };
    expect([sliceMatches(young!.rule, batch, 0), sliceMatches(young!.rule, batch, 1)]).toEqual([true, false]);
    // Each slice's distribution counts its own rows.
    expect(young?.distribution.n).toBeGreaterThan(100);
    expect(young?.distribution.n).toBeLessThan(p.trusted.rows);
  }, 60_000);

  it('an HTTP endpoint has no layers to read', () => {
    const r = runCli([
      'guard',
      'fit',
      '--model',
      'http://127.0.0.1:9/v1/models/m:predict',
      '--trusted',
      data('sms_trusted.csv'),
      '--label',
      'label',
      '--layer',
      'hidden',
      '-o',
      join(dir, 'h.json'),
    ]);
    expect(oneLineError(r)).toMatch(/HTTP endpoint, which exposes no layers/);
  });

  it('a file that is not a profile, or a profile of another version, is one line', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"findings": []}');
    await expect(readProfile(bad)).rejects.toThrow(/is not a guard profile/);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    writeFileSync(bad, JSON.stringify({ ...doc, version: 9 }));
    await expect(readProfile(bad)).rejects.toThrow(/version 9; this antidote reads version 1/);
    writeFileSync(bad, JSON.stringify({ ...doc, thresholds: { fpr: 'x', checks: {} } }));
    await expect(readProfile(bad)).rejects.toThrow(/not a valid guard profile: thresholds.fpr/);
  });

  it('a profile used with another model is refused, as a usage error', async () => {
    const p = await readProfile(out);
    await expect(readProfile(out, { modelDigest: `sha256:${'0'.repeat(64)}` })).rejects.toThrow(
      /fitted for another model/,
    );
    const err = await createScorer(p, { model: model('sms_phrase_clean') }).catch((e) => e);
    expect(err).toBeInstanceOf(AntidoteError);
    expect((err as AntidoteError).code).toBe('E_USAGE');
    expect((err as AntidoteError).oneLine()).toMatch(/fitted for another model/);
  });
});

describe('reasons in plain English', () => {
  it('writes the k-th nearest neighbour as an ordinal (the reason read "3th nearest")', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal)).toEqual([
      '1st',
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '23rd',
      '101st',
      '111th',
    ]);
  });
});
