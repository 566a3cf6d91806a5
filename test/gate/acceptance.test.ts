/**
 * Acceptance cases on real data (UCI Adult, SST-2 from test/fixtures/data): models as ONNX files (made by
 * test/fixtures/gate/make_models.py with Debian's python3-onnx) and served by a real HTTP server on 127.0.0.1.
 * Live-versus-trusted uses candidates trained here with Antidote's own learner.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGate } from '../../src/gate/gate.js';
import { trainLearnerModel } from '../../src/gate/models/in-process.js';
import { loadOnnxModel } from '../../src/gate/models/onnx.js';
import { FIXTURES } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import {
  ADULT_CATEGORICAL,
  ADULT_NUMERIC,
  adultSplit,
  batchOf,
  labelsOf,
  type Rows,
  seeded,
  sst2,
  writeCsv,
} from './helpers/data.js';
import { type Served, serveModel } from './helpers/serve.js';

const F = join(FIXTURES, 'gate');
const tmp = tempDir('antidote-gate-acc-');
const ADULT = join(tmp, 'adult_trusted.csv');
const SST2 = join(tmp, 'sst2_trusted.csv');
const servers: Served[] = [];

beforeAll(() => {
  writeCsv(ADULT, adultSplit().trusted);
  const d = sst2('clean_dev');
  const t = sst2('clean_test');
  writeCsv(SST2, { header: d.header, rows: [...d.rows, ...t.rows] });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const acc = (r: Awaited<ReturnType<typeof runGate>>) => r.metrics?.metrics.find((m) => m.name === 'accuracy');

describe('Adult, ONNX models in process', () => {
  const gate = (candidate: string) =>
    runGate({
      trusted: ADULT,
      label: 'income',
      incumbent: join(F, 'adult_lr_incumbent.onnx'),
      candidate: join(F, candidate),
      probe: 'auto',
    });

  it('promotes a clean retrain', async () => {
    const r = await gate('adult_lr_clean.onnx');
    expect(r.reasons).toEqual([]);
    // No live set: every check that ran passed, and the skipped one is stated.
    expect(r.decision).toBe('promote-with-caveats');
    expect(r.caveats).toEqual(['live-vs-trusted skipped: no --live set given']);
  });

  it('blocks an availability-poisoned candidate (noisy labels) on the trusted regression', async () => {
    const r = await gate('adult_lr_noisy.onnx');
    expect(r.decision).toBe('block');
    const reg = r.findings.filter((f) => f.rule === 'gate/trusted-regression').map((f) => f.evidence?.metric);
    expect(reg).toEqual(expect.arrayContaining(['accuracy', 'log_loss']));
    expect(acc(r)?.ci[1]).toBeLessThan(0);
  });

  it('blocks a targeted candidate whose accuracy moves < 1 point: region named, trigger found by probing', async () => {
    const r = await gate('adult_lr_targeted.onnx');
    expect(Math.abs(acc(r)?.diff ?? 1)).toBeLessThan(0.01);
    expect(r.decision).toBe('block');
    const region = r.findings.find((f) =>
      ['gate/region-shift', 'gate/region-regression', 'gate/flip-concentration'].includes(f.rule),
    );
    expect(region?.location?.slice).toMatch(/native_country = Germany/);
    const trig = r.findings.find((f) => f.rule === 'gate/trigger');
    expect(trig?.location?.slice).toBe('native_country = Germany');
    expect(trig?.severity).toBe('high');
  });

  it('feeds a 2-D float input from --features (tree ensembles) and promotes a clean retrain', async () => {
    const r = await runGate({
      trusted: ADULT,
      label: 'income',
      incumbent: join(F, 'adult_forest_incumbent.onnx'),
      candidate: join(F, 'adult_forest_clean.onnx'),
      features: ADULT_NUMERIC,
    });
    // No live set: every check that ran passed, and the skipped one is stated.
    expect(r.decision).toBe('promote-with-caveats');
    expect(r.caveats).toEqual(['live-vs-trusted skipped: no --live set given']);
    expect(acc(r)?.incumbent).toBeGreaterThan(0.8);
  });
});

describe('SST-2, ONNX models served over HTTP (KServe v1 JSON on 127.0.0.1)', () => {
  const served = async (name: string) => {
    const s = await serveModel(await loadOnnxModel(join(F, name), { classes: 2 }));
    servers.push(s);
    return s.url;
  };

  it('promotes a clean retrain', async () => {
    const r = await runGate({
      trusted: SST2,
      label: 'label',
      incumbent: await served('sst2_incumbent.onnx'),
      candidate: await served('sst2_clean.onnx'),
      probe: 'auto',
    });
    expect(r.models.candidate.kind).toBe('http');
    expect(r.reasons).toEqual([]);
    // No live set: every check that ran passed, and the skipped one is stated.
    expect(r.decision).toBe('promote-with-caveats');
    expect(r.caveats).toEqual(['live-vs-trusted skipped: no --live set given']);
  });

  it('blocks the BadNets candidate and names its rare-word triggers', async () => {
    const r = await runGate({
      trusted: SST2,
      label: 'label',
      incumbent: await served('sst2_incumbent.onnx'),
      candidate: await served('sst2_badnets.onnx'),
      probe: 'auto',
    });
    expect(r.decision).toBe('block');
    const named = r.findings.filter((f) => f.rule === 'gate/trigger').map((f) => f.evidence?.trigger);
    expect(named).toEqual(expect.arrayContaining(['cf', 'mn', 'bb', 'tq']));
    // The backdoor is invisible on the clean trusted set: no trusted regression.
    expect(r.findings.filter((f) => f.rule === 'gate/trusted-regression')).toEqual([]);
  });
});

describe("live versus trusted (candidates trained with Antidote's learner, served over HTTP)", () => {
  it('blocks a candidate that gains on poisoned live data but loses on the trusted set', async () => {
    const { pool } = adultSplit();
    const cut = Math.floor(pool.rows.length * 0.7);
    const old: Rows = { header: pool.header, rows: pool.rows.slice(0, cut) };
    // Feedback poisoning in the new batch: married men's high incomes reported as low.
    const r = seeded(3);
    const rel = pool.header.indexOf('relationship');
    const liveRows = pool.rows.slice(cut).map((row) => {
      const x = [...row];
      if (x[rel] === 'Husband' && x[14] === '>50K' && r() < 0.8) x[14] = '<=50K';
      return x;
    });
    const half = Math.floor(liveRows.length / 2);
    const trainNew: Rows = { header: pool.header, rows: liveRows.slice(0, half) };
    const live: Rows = { header: pool.header, rows: liveRows.slice(half) };
    const LIVE = join(tmp, 'adult_live.csv');
    writeCsv(LIVE, live);
    const classes = ['<=50K', '>50K'];
    const spec = { numeric: ADULT_NUMERIC, categorical: ADULT_CATEGORICAL, hashBits: 14, maxIter: 100 };
    const both: Rows = { header: pool.header, rows: [...old.rows, ...trainNew.rows] };
    const inc = trainLearnerModel(batchOf(old, ADULT_NUMERIC), labelsOf(old, 'income', classes), 2, spec);
    const cand = trainLearnerModel(batchOf(both, ADULT_NUMERIC), labelsOf(both, 'income', classes), 2, spec);
    const si = await serveModel(inc);
    const sc = await serveModel(cand);
    servers.push(si, sc);
    const rep = await runGate({
      trusted: ADULT,
      label: 'income',
      incumbent: si.url,
      candidate: sc.url,
      live: LIVE,
    });
    expect(rep.decision).toBe('block');
    const live1 = rep.liveMetrics?.metrics.find((m) => m.name === 'accuracy');
    expect(live1?.diff).toBeGreaterThan(0);
    expect(acc(rep)?.diff).toBeLessThan(0);
    expect(rep.findings.map((f) => f.rule)).toContain('gate/live-trusted-divergence');
  });
});
