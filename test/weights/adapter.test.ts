/**
 * Adapter forensics on LoRA adapters trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout
 * model: statistics from the factors alone, the base check, and an honest statement when the reference
 * classifier is not calibrated well enough to give a verdict.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleStats } from '../../src/weights/adapter/factors.js';
import { ADAPTER_REFERENCE } from '../../src/weights/adapter/reference.js';
import { MIN_USEFUL_AUC } from '../../src/weights/adapter/score.js';
import { topSingularValues } from '../../src/weights/linalg.js';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { writeSafetensors } from './helpers.js';

const W = join(FIXTURES, 'weights');
const tmp = tempDir('antidote-adapter-test-');

describe('LoRA statistics from the factors', () => {
  it('the singular values from the r x r core equal those of the full update s * B A', () => {
    let seed = 3;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 4294967296 - 0.5;
    };
    const r = 4;
    const nin = 40;
    const nout = 30;
    const A = Float32Array.from({ length: r * nin }, rnd);
    const B = Float32Array.from({ length: nout * r }, rnd);
    const s = 2;
    const full = new Float32Array(nout * nin);
    for (let i = 0; i < nout; i++)
      for (let j = 0; j < nin; j++) {
        let x = 0;
        for (let k = 0; k < r; k++) x += B[i * r + k] * A[k * nin + j];
        full[i * nin + j] = s * x;
      }
    const st = moduleStats('m', A, B, r, s);
    const exact = topSingularValues(full, nout, nin, r, 3);
    for (let k = 0; k < r; k++) expect(st.sigma[k]).toBeCloseTo(exact[k], 4);
    expect(st.energyTop1).toBeGreaterThan(0);
    expect(st.entropy).toBeGreaterThan(0);
  });
});

describe('antidote diff BASE ADAPTER', () => {
  it('checks the adapter against its base and reports the statistics; no verdict from an uncalibrated classifier', () => {
    const r = runCli(['diff', join(W, 'gpt2', 'base'), join(W, 'adapters', 'backdoored'), '-f', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('adapter');
    expect(report.adapter.modules).toBe(6);
    expect(report.adapter.baseCheck).toEqual({ modules: 6, missing: [], mismatched: [] });
    const f = report.findings.find((x: { rule: string }) => x.rule === 'weights/adapter-backdoor');
    if (ADAPTER_REFERENCE.calibration.auc >= MIN_USEFUL_AUC) {
      expect(f.severity).toBe('high');
      expect(r.code).toBe(1);
    } else {
      // The shipped reference does not separate the classes: the finding must say so, not "looks benign".
      expect(f.severity).toBe('info');
      expect(f.message).toMatch(/cannot judge this adapter/);
      expect(f.message).not.toMatch(/look like a benign/);
      expect(r.code).toBe(0);
    }
  });

  it('an adapter that does not fit the base is a high finding naming the modules', () => {
    const other = join(tmp, 'other-base.safetensors');
    writeSafetensors(other, {
      'transformer.h.0.attn.c_attn.weight': {
        dtype: 'F32',
        shape: [64, 192],
        data: new Float32Array(64 * 192),
      },
      'transformer.h.1.attn.c_attn.weight': {
        dtype: 'F32',
        shape: [64, 192],
        data: new Float32Array(64 * 192),
      },
    });
    const r = runCli(['diff', other, join(W, 'adapters', 'benign'), '-f', 'json']);
    expect(r.code).toBe(1);
    const f = JSON.parse(r.stdout).findings.find(
      (x: { rule: string }) => x.rule === 'weights/adapter-base-mismatch',
    );
    expect(f.severity).toBe('high');
    expect(f.message).toMatch(/4 modules missing/);
    expect(f.message).toMatch(/2 with other shapes/);
  });

  it('unpaired factors are listed as not analysed', () => {
    const dir = join(tmp, 'unpaired');
    cpSync(join(W, 'adapters', 'benign'), dir, { recursive: true });
    writeSafetensors(join(dir, 'adapter_model.safetensors'), {
      'base_model.model.transformer.h.0.attn.c_attn.lora_A.weight': {
        dtype: 'F32',
        shape: [4, 48],
        data: new Float32Array(4 * 48),
      },
    });
    const r = runCli(['diff', join(W, 'gpt2', 'base'), dir, '-f', 'json']);
    const rules = JSON.parse(r.stdout).findings.map((x: { rule: string }) => x.rule);
    expect(rules).toContain('weights/adapter-unreadable');
  });
});

describe('antidote scan of an adapter folder', () => {
  it('adds the adapter forensics finding to the repository result without blocking on a statistical score', () => {
    const r = runCli(['scan', join(W, 'adapters', 'backdoored'), '--no-progress', '-f', 'json']);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout).results.flatMap(
      (x: { findings: Array<{ rule: string; severity: string }> }) => x.findings,
    );
    const f = all.find((x: { rule: string }) => x.rule === 'weights/adapter-backdoor');
    expect(f).toBeDefined();
    expect(['info', 'medium']).toContain(f.severity);
  });
});
