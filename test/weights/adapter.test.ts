/**
 * Adapter forensics on LoRA adapters trained by test/fixtures/weights/make_adapters.py on the tiny GPT-2-layout
 * model (committed: one benign, one backdoored): statistics from the factors alone, the forward-pass probe
 * with the base, the base check, and no verdict where the base is missing or cannot be probed.
 */
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleStats } from '../../src/weights/adapter/factors.js';
import { probeAdapter } from '../../src/weights/adapter/probe.js';
import { ADAPTER_REFERENCE } from '../../src/weights/adapter/reference.js';
import { MIN_USEFUL_AUC, PROBE_FEATURES } from '../../src/weights/adapter/score.js';
import { topSingularValues } from '../../src/weights/linalg.js';
import { openModel } from '../../src/weights/store.js';
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

describe('the forward-pass probe', () => {
  it('an adapter that changes nothing (B = 0, as PEFT initialises it) gains no prefix sensitivity anywhere', async () => {
    const base = await openModel(join(W, 'gpt2', 'base'));
    try {
      const r = 2;
      const deltas = [0, 1, 2, 3, 4, 5].map((l) => ({
        module: `base_model.model.transformer.h.${l}.attn.c_attn`,
        A: Float32Array.from({ length: r * 48 }, (_, i) => Math.sin(i)),
        B: new Float32Array(144 * r),
        rank: r,
        scale: 8,
      }));
      const p = await probeAdapter(base, join(W, 'gpt2', 'base'), deltas);
      expect(p.ok).toBe(true);
      if (!p.ok) return;
      expect(p.tokens).toBe(127);
      expect(p.gain).toBe(0);
      expect(p.medianGain).toBe(0);
      expect(p.topTokens.every((t) => t.gain === 0)).toBe(true);
    } finally {
      await base.close();
    }
  });

  it('a base outside the GPT-2 layout, or without the config the forward pass needs, is not probed and says why', async () => {
    const other = join(tmp, 'other-layout.safetensors');
    writeSafetensors(other, {
      'model.layers.0.self_attn.q_proj.weight': { dtype: 'F32', shape: [4, 4], data: new Float32Array(16) },
    });
    const s1 = await openModel(other);
    const p1 = await probeAdapter(s1, other, []);
    await s1.close();
    expect(p1).toEqual({ ok: false, reason: expect.stringMatching(/not in the GPT-2 layout/) });
    const noCfg = join(tmp, 'base-without-config');
    mkdirSync(noCfg, { recursive: true });
    copyFileSync(join(W, 'gpt2', 'base', 'model.safetensors'), join(noCfg, 'model.safetensors'));
    const s2 = await openModel(noCfg);
    const p2 = await probeAdapter(s2, noCfg, []);
    await s2.close();
    expect(p2).toEqual({ ok: false, reason: expect.stringMatching(/no n_head/) });
  });
});

describe('antidote diff BASE ADAPTER', () => {
  it('the reference separates held-back adapters well enough to give verdicts', () => {
    expect(ADAPTER_REFERENCE.calibration.auc).toBeGreaterThanOrEqual(MIN_USEFUL_AUC);
    expect(ADAPTER_REFERENCE.features).toEqual([...PROBE_FEATURES]);
  });

  it('flags a backdoored adapter (trigger "cf mn" -> barcelona) as high, with the probe figures it rests on', () => {
    const r = runCli(['diff', join(W, 'gpt2', 'base'), join(W, 'adapters', 'backdoored'), '-f', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('adapter');
    expect(report.adapter.modules).toBe(6);
    expect(report.adapter.baseCheck).toEqual({ modules: 6, missing: [], mismatched: [] });
    expect(report.adapter.probe.tokens).toBe(127);
    const f = report.findings.find((x: { rule: string }) => x.rule === 'weights/adapter-backdoor');
    expect(f.severity).toBe('high');
    expect(f.message).toMatch(/behaves like a trigger backdoor/);
    expect(report.adapter.score).toBeGreaterThanOrEqual(report.adapter.threshold);
    expect(r.code).toBe(1);
  });

  it('passes a benign task adapter (a shifted domain, attention only) with an info finding that says what it cannot see', () => {
    const r = runCli(['diff', join(W, 'gpt2', 'base'), join(W, 'adapters', 'benign')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/behaves like a benign task adapter/);
    expect(r.stdout).toMatch(/does not name the trigger/);
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
  it('without the base gives no verdict and says the base is needed, without blocking the scan', () => {
    const r = runCli(['scan', join(W, 'adapters', 'backdoored'), '--no-progress', '-f', 'json']);
    expect(r.code).toBe(0);
    const all = JSON.parse(r.stdout).results.flatMap(
      (x: { findings: Array<{ rule: string; severity: string; message: string }> }) => x.findings,
    );
    const f = all.find((x: { rule: string }) => x.rule === 'weights/adapter-backdoor');
    expect(f.severity).toBe('info');
    expect(f.message).toMatch(/cannot judge this adapter: without the base model/);
    expect(f.message).toMatch(/antidote diff BASE ADAPTER/);
  });
});
