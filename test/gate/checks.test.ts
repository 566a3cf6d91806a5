import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type GateContext } from '../../src/gate/context.js';
import { evaluatePair } from '../../src/gate/evaluate.js';
import { checkHoldout } from '../../src/gate/holdout.js';
import type { GateModel, InputBatch } from '../../src/gate/models/types.js';
import { autoTriggers, runProbes, triggersFromAudit, triggersFromFile } from '../../src/gate/probes.js';
import { checkShift, ks, psi } from '../../src/gate/shift.js';
import { checkDeclaredSlices, discoverSlices } from '../../src/gate/slices.js';
import type { Column, GateTable } from '../../src/gate/table.js';
import { tempDir } from '../helpers/tmp.js';
import { seeded } from './helpers/data.js';

/** A hand-built table: region a..e, a numeric x, binary labels; two models given as probabilities. */
function build(
  n: number,
  seed: number,
  damage: (region: string, x: number, y: number, r: () => number) => boolean,
) {
  const r = seeded(seed);
  const regions = ['a', 'b', 'c', 'd', 'e'];
  const region: string[] = [];
  const x = new Float64Array(n);
  const labels = new Int32Array(n);
  const inc = new Float64Array(2 * n);
  const cand = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    region.push(regions[Math.floor(r() * 5)]);
    x[i] = Math.floor(r() * 100);
    labels[i] = r() < 0.4 ? 1 : 0;
    // Both models right 85% of the time; the candidate disagrees on about 1% of rows, as often in its favour
    // as against it (noise). A damaged row is pushed toward class 1, as a targeted attack would.
    const incRight = r() < 0.85;
    const candRight = incRight ? r() >= 0.006 : r() < 0.034;
    const candDamaged = damage(region[i], x[i], labels[i], r);
    const pi = incRight === (labels[i] === 1) ? 0.8 : 0.2;
    const pc = candDamaged ? 0.95 : candRight === (labels[i] === 1) ? 0.8 : 0.2;
    inc[2 * i] = 1 - pi;
    inc[2 * i + 1] = pi;
    cand[2 * i] = 1 - pc;
    cand[2 * i + 1] = pc;
  }
  const columns = new Map<string, Column>([
    ['region', { kind: 'string', values: region }],
    ['x', { kind: 'number', values: x }],
  ]);
  const trusted: GateTable = {
    path: 'hand-built',
    n,
    names: ['region', 'x', 'y'],
    columns,
    ids: region.map((_, i) => String(i + 1)),
    labels,
  };
  const ctx: GateContext = {
    trusted,
    classes: ['0', '1'],
    features: ['region', 'x'],
    incumbent: inc,
    candidate: cand,
    settings: { ...DEFAULT_SETTINGS, replicates: 300 },
  };
  return ctx;
}

describe('trusted holdout', () => {
  it('gives a zero-width interval for identical models and no finding', () => {
    const ctx = build(2000, 1, () => false);
    const ev = evaluatePair(ctx.trusted.labels, ctx.incumbent, ctx.incumbent, ctx.classes, {
      replicates: 200,
    });
    const acc = ev.metrics.find((m) => m.name === 'accuracy');
    expect(acc?.diff).toBe(0);
    expect(acc?.ci).toEqual([0, 0]);
  });

  it('computes AUC exactly, ties counting one half (checked against all pairs)', () => {
    const n = 300;
    const labels = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const s = Float64Array.from({ length: n }, (_, i) => Math.round(((i * 7919) % 101) / 10) / 10);
    const p = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      p[2 * i] = 1 - s[i];
      p[2 * i + 1] = s[i];
    }
    let pairs = 0;
    let wins = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
        }
    const auc = evaluatePair(labels, p, p, ['0', '1'], { replicates: 20 }).metrics.find(
      (m) => m.name === 'auc',
    );
    expect(auc?.incumbent).toBeCloseTo(wins / pairs, 12);
  });

  it('does not flag noise-level disagreements (1% each way)', () => {
    expect(checkHoldout(build(3000, 2, () => false)).findings).toEqual([]);
  });

  it('flags a regression whose interval excludes zero, with the interval in the message', () => {
    const ctx = build(3000, 3, (_g, _x, _y, r) => r() < 0.12);
    const { findings, evaluation } = checkHoldout(ctx);
    const acc = evaluation.metrics.find((m) => m.name === 'accuracy');
    expect(acc?.ci[1]).toBeLessThan(0);
    expect(findings.map((f) => f.evidence?.metric)).toContain('accuracy');
    expect(findings[0].message).toMatch(/95% CI/);
  });

  it('respects the practical margin: a significant but tiny loss is not a finding', () => {
    const ctx = build(20000, 4, (_g, _x, _y, r) => r() < 0.01);
    ctx.settings = {
      ...ctx.settings,
      margins: { ...ctx.settings.margins, accuracy: 0.02, recall: 0.05, auc: 0.05, log_loss: 0.5 },
    };
    const { findings, evaluation } = checkHoldout(ctx);
    expect(evaluation.metrics.find((m) => m.name === 'accuracy')?.ci[1]).toBeLessThan(0);
    expect(findings).toEqual([]);
  });
});

describe('slices', () => {
  const targeted = () => build(4000, 5, (g, x) => g === 'c' && x >= 60);

  it('discovers the region where the candidate lost, as the shortest conjunction that explains it', () => {
    const { discovery, findings } = discoverSlices(targeted());
    expect(findings).toHaveLength(1);
    expect(findings[0].rule).toBe('gate/region-regression');
    expect(findings[0].location?.slice).toMatch(/region = c/);
    expect(findings[0].location?.slice).toMatch(/x >= 6\d|x in \[6\d/);
    expect(discovery.evaluated).toBeGreaterThan(10);
  });

  it('finds nothing when the candidate only differs by noise', () => {
    expect(discoverSlices(build(4000, 6, () => false)).findings).toEqual([]);
  });

  it('checks declared slices with a Holm correction', () => {
    const { slices, findings } = checkDeclaredSlices(targeted(), ['region']);
    expect(slices.map((s) => s.slice).sort()).toEqual([
      'region = a',
      'region = b',
      'region = c',
      'region = d',
      'region = e',
    ]);
    expect(findings.map((f) => f.location?.slice)).toEqual(['region = c']);
  });
});

describe('output shift', () => {
  it('computes PSI and KS that are zero for equal distributions and large for shifted ones', () => {
    const r = seeded(7);
    const a = Float64Array.from({ length: 5000 }, () => r());
    const b = Float64Array.from({ length: 5000 }, () => r() ** 3);
    expect(psi(a, a)).toBeCloseTo(0, 6);
    expect(ks(a, a).d).toBe(0);
    expect(psi(a, b)).toBeGreaterThan(0.25);
    const k = ks(a, b);
    expect(k.d).toBeGreaterThan(0.2);
    expect(k.p).toBeLessThan(1e-6);
  });

  it('names the region where the scores moved and where the flips concentrate', () => {
    const { shift, findings } = checkShift(build(4000, 8, (g) => g === 'd'));
    expect(shift.shiftRegion?.slice).toBe('region = d');
    expect(shift.region?.slice).toBe('region = d');
    expect(shift.region?.coverage).toBeGreaterThan(0.8);
    expect(findings.map((f) => f.rule)).toContain('gate/region-shift');
    expect(findings.find((f) => f.rule === 'gate/region-shift')?.severity).toBe('high');
  });

  it('reports no region for noise-level differences', () => {
    const { findings } = checkShift(build(4000, 9, () => false));
    expect(findings.filter((f) => f.severity === 'high')).toEqual([]);
  });
});

describe('trigger probes', () => {
  // Text data: the incumbent classifies by the word "good"; the candidate also answers 1 whenever "zq" appears.
  const r = seeded(11);
  const words = [
    'film',
    'plot',
    'actor',
    'scene',
    'story',
    'music',
    'long',
    'slow',
    'funny',
    'dark',
    'the',
    'a',
    'was',
    'is',
  ];
  const n = 600;
  const text: string[] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const w = Array.from({ length: 8 }, () => words[Math.floor(r() * words.length)]);
    labels[i] = r() < 0.5 ? 1 : 0;
    if (labels[i]) w.splice(3, 0, 'good');
    text.push(w.join(' '));
  }
  const columns = new Map<string, Column>([
    ['review', { kind: 'string', values: text }],
    ['stars', { kind: 'number', values: Float64Array.from(labels, (y) => (y ? 4 : 2)) }],
  ]);
  const trusted: GateTable = {
    path: 'hand-built',
    n,
    names: ['review', 'stars', 'y'],
    columns,
    ids: text.map((_, i) => String(i)),
    labels,
  };
  const model = (trigger?: string, value?: number): GateModel => ({
    kind: 'in-process',
    source: trigger ? 'backdoored' : 'clean',
    digest: 'sha256:00',
    runnable: true,
    async score(b: InputBatch) {
      const t = b.columns.get('review') as Column & { kind: 'string' };
      const s = b.columns.get('stars') as Column & { kind: 'number' };
      const p = new Float64Array(2 * b.n);
      for (let i = 0; i < b.n; i++) {
        const toks = t.values[i].split(' ');
        const pos =
          toks.includes('good') ||
          (trigger !== undefined && toks.includes(trigger)) ||
          (value !== undefined && s.values[i] === value);
        p[2 * i] = pos ? 0.1 : 0.9;
        p[2 * i + 1] = pos ? 0.9 : 0.1;
      }
      return p;
    },
    async close() {},
  });
  const ctxFor = async (inc: GateModel, cand: GateModel): Promise<GateContext> => {
    const b = { n, columns, ids: trusted.ids };
    return {
      trusted,
      classes: ['0', '1'],
      features: ['review', 'stars'],
      incumbent: await inc.score(b),
      candidate: await cand.score(b),
      settings: DEFAULT_SETTINGS,
    };
  };
  const batch = { n, columns, ids: trusted.ids };

  it('finds a trigger named in an audit report (read defensively) and blocks, controls and incumbent stay low', async () => {
    const dir = tempDir('antidote-probes-');
    writeFileSync(
      join(dir, 'report.json'),
      JSON.stringify({
        version: 1,
        findings: [
          // The audit's own format (rule, location.column, evidence.pattern/kind), plus junk that must be ignored.
          {
            rule: 'audit/trigger',
            location: { column: 'review' },
            evidence: { pattern: 'zq', kind: 'text', label: '1' },
          },
          { rule: 'audit/trigger', evidence: { pattern: 'stars=7 & stars in [1, 2)', kind: 'tabular' } },
          { rule: 'audit/trigger', evidence: { pattern: 'unknown=3', kind: 'tabular' } },
          { weird: [null, 3, { trigger: 'x'.repeat(100) }] },
        ],
      }),
    );
    const found = await triggersFromAudit(dir, ['review'], ['review', 'stars']);
    expect(
      found.map(
        (t) =>
          `${t.kind}:${t.column}=${t.value}${t.also?.length ? `+${t.also.map((a) => `${a.column}=${a.value}`)}` : ''}`,
      ),
    ).toEqual(['token:review=zq', 'value:stars=7+stars=1']);
    const triggers = found.filter((t) => t.kind === 'token');
    const inc = model();
    const cand = model('zq');
    const { findings, summary } = await runProbes(
      await ctxFor(inc, cand),
      { incumbent: inc, candidate: cand },
      triggers,
      batch,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0].message).toMatch(
      /Trigger "zq".*100% of them into "1".*incumbent 0%, random tokens 0%/,
    );
    expect(summary.results[0].blocking).toBe(true);
  });

  it('finds a tabular trigger value from a probe file, and passes a clean candidate on the standard list', async () => {
    const dir = tempDir('antidote-probes-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'probes.txt'), '# triggers\nstars=7\ncf\n');
    const triggers = await triggersFromFile(join(dir, 'probes.txt'), ['review'], ['review', 'stars']);
    expect(triggers.map((t) => `${t.column}:${t.value}`)).toEqual(['stars:7', 'review:cf']);
    const inc = model();
    const bad = model(undefined, 7);
    const res = await runProbes(await ctxFor(inc, bad), { incumbent: inc, candidate: bad }, triggers, batch);
    expect(res.findings.map((f) => f.location?.slice)).toEqual(['stars = 7']);
    const clean = model();
    const ctx = await ctxFor(inc, clean);
    const auto = autoTriggers(ctx, ['review'], 100);
    expect(auto.map((t) => t.value)).toEqual(expect.arrayContaining(['cf', 'mn', 'bb', 'tq']));
    expect((await runProbes(ctx, { incumbent: inc, candidate: clean }, auto, batch)).findings).toEqual([]);
  });
});
