import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownDefaults } from '../../src/data/audit.js';
import { defaultConfig, loadConfig, mergeConfig, TRIGGER_DEFAULTS } from '../../src/data/config.js';
import { tmpDir } from './helpers.js';

describe('audit config', () => {
  it('has a default for every detector setting and the threshold', () => {
    const cfg = defaultConfig(knownDefaults());
    expect(cfg.threshold).toBe(0.5);
    expect(cfg.detectors['audit/trigger']).toEqual(TRIGGER_DEFAULTS);
    expect(Object.keys(cfg.detectors)).toEqual(
      expect.arrayContaining(['audit/trigger', 'audit/disagreement']),
    );
  });

  it('overrides only what the file sets', async () => {
    const p = join(tmpDir(), 'c.json');
    writeFileSync(p, JSON.stringify({ threshold: 0.8, detectors: { 'audit/trigger': { minSupport: 9 } } }));
    const cfg = await loadConfig(p, knownDefaults());
    expect(cfg.threshold).toBe(0.8);
    expect(cfg.reviewThreshold).toBe(0.2);
    expect(cfg.detectors['audit/trigger'].minSupport).toBe(9);
    expect(cfg.detectors['audit/trigger'].minPurity).toBe(TRIGGER_DEFAULTS.minPurity);
  });

  it('rejects typos, wrong types, unknown detectors and bad ranges with one line', async () => {
    const k = knownDefaults();
    expect(() => mergeConfig({ treshold: 0.5 }, 'c.json', k)).toThrow(/c\.json: .*treshold/);
    expect(() => mergeConfig({ threshold: 2 }, 'c.json', k)).toThrow(/threshold/);
    expect(() => mergeConfig({ detectors: { 'audit/trigger': { fdr: '0.1' } } }, 'c.json', k)).toThrow(
      /detectors\.audit\/trigger\.fdr: expected a number, got string/,
    );
    expect(() => mergeConfig({ detectors: { 'audit/nope': {} } }, 'c.json', k)).toThrow(/unknown detector/);
    expect(() => mergeConfig({ threshold: 0.3, reviewThreshold: 0.4 }, 'c.json', k)).toThrow(
      /must not exceed/,
    );
    const bad = join(tmpDir(), 'bad.json');
    writeFileSync(bad, '{ not json');
    await expect(loadConfig(bad, k)).rejects.toThrow(/not valid JSON/);
  });
});
