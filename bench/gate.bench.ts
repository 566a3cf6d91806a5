/**
 * antidote gate: speed on 100k trusted rows through ONNX models, the acceptance cases on real data (UCI Adult,
 * SST-2 from ../shared/data; models from test/fixtures/gate, served in process and over loopback HTTP), the
 * false-alarm rate over 20 clean retrains, and the demo's wall time. Inputs are regenerated into bench/.cache.
 */
import { join } from 'node:path';
import { runGate } from '../src/gate/gate.js';
import { loadOnnxModel } from '../src/gate/models/onnx.js';
import { adultSplit, sst2, writeCsv } from '../test/gate/helpers/data.js';
import { cleanRetrains } from '../test/gate/helpers/retrains.js';
import { serveModel } from '../test/gate/helpers/serve.js';
import { CLI, ensureCache, machine, ROOT, repeat, table, timeCommand, writeSection } from './lib.js';

const F = join(ROOT, 'test', 'fixtures', 'gate');
const cache = join(ensureCache(), 'gate');

async function main() {
  // The benchmark reads the full datasets of ../shared/data (the tests read their committed copies).
  process.env.ANTIDOTE_TEST_DATA ??= join(ROOT, '..', 'shared', 'data');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(cache, { recursive: true });
  const a = adultSplit();
  // 100k trusted rows: the Adult trusted split repeated, each copy with its own ids.
  const big = join(cache, 'adult_100k.csv');
  const rows: string[][] = [];
  for (let i = 0; rows.length < 100_000; i++) {
    const r = a.trusted.rows[i % a.trusted.rows.length];
    rows.push([`r${i}`, ...r]);
  }
  writeCsv(big, { header: ['id', ...a.trusted.header], rows });
  const ADULT = join(cache, 'adult_trusted.csv');
  writeCsv(ADULT, a.trusted);
  const SST2 = join(cache, 'sst2_trusted.csv');
  const d = sst2('clean_dev');
  const t = sst2('clean_test');
  writeCsv(SST2, { header: d.header, rows: [...d.rows, ...t.rows] });

  const speedRows: Array<Array<string | number>> = [];
  const log = (msg: string) => process.stderr.write(`[gate bench] ${msg}\n`);
  const speed = (label: string, args: string[]) => {
    log(`speed: ${label}`);
    const r = repeat(3, () => timeCommand(process.execPath, [CLI, 'gate', ...args]));
    const codes = [...new Set(r.runs.map((x) => x.status))].join('/');
    speedRows.push([label, r.median.toFixed(1), r.peakRssMB.toFixed(0), codes]);
  };
  speed('LR, one input per column (14 inputs), all checks + probes auto', [
    '--trusted',
    big,
    '--label',
    'income',
    '--id',
    'id',
    '--incumbent',
    join(F, 'adult_lr_incumbent.onnx'),
    '--candidate',
    join(F, 'adult_lr_clean.onnx'),
    '--probe',
    'auto',
  ]);
  speed('random forest, 2-D input from --features, all checks', [
    '--trusted',
    big,
    '--label',
    'income',
    '--id',
    'id',
    '--incumbent',
    join(F, 'adult_forest_incumbent.onnx'),
    '--candidate',
    join(F, 'adult_forest_clean.onnx'),
    '--features',
    'age,fnlwgt,education_num,capital_gain,capital_loss,hours_per_week',
  ]);

  // Acceptance cases.
  const cases: Array<Array<string | number>> = [];
  const servers: Array<{ close: () => Promise<void> }> = [];
  const serve = async (name: string) => {
    const s = await serveModel(await loadOnnxModel(join(F, name), { classes: 2 }));
    servers.push(s);
    return s.url;
  };
  const runCase = async (label: string, trusted: string, lab: string, inc: string, cand: string) => {
    log(`case: ${label}`);
    const t0 = performance.now();
    const r = await runGate({ trusted, label: lab, incumbent: inc, candidate: cand, probe: 'auto' });
    const secs = (performance.now() - t0) / 1000;
    const acc = r.metrics?.metrics.find((m) => m.name === 'accuracy');
    const why = r.findings
      .filter((f) => f.severity === 'high' || f.severity === 'critical')
      .map((f) => `${f.rule}${f.location?.slice ? ` (${f.location.slice})` : ''}`);
    cases.push([
      label,
      r.decision,
      acc
        ? `${(100 * acc.diff).toFixed(2)} [${(100 * acc.ci[0]).toFixed(2)}, ${(100 * acc.ci[1]).toFixed(2)}]`
        : '-',
      [...new Set(why)].slice(0, 4).join('; ') || '-',
      secs.toFixed(1),
    ]);
  };
  await runCase(
    'Adult clean retrain (ONNX)',
    ADULT,
    'income',
    join(F, 'adult_lr_incumbent.onnx'),
    join(F, 'adult_lr_clean.onnx'),
  );
  await runCase(
    'Adult noisy labels, 35% (ONNX)',
    ADULT,
    'income',
    join(F, 'adult_lr_incumbent.onnx'),
    join(F, 'adult_lr_noisy.onnx'),
  );
  await runCase(
    'Adult targeted, native_country=Germany (ONNX)',
    ADULT,
    'income',
    join(F, 'adult_lr_incumbent.onnx'),
    join(F, 'adult_lr_targeted.onnx'),
  );
  await runCase(
    'SST-2 clean retrain (HTTP)',
    SST2,
    'label',
    await serve('sst2_incumbent.onnx'),
    await serve('sst2_clean.onnx'),
  );
  await runCase(
    'SST-2 BadNets (HTTP)',
    SST2,
    'label',
    await serve('sst2_incumbent.onnx'),
    await serve('sst2_badnets.onnx'),
  );
  await Promise.all(servers.map((s) => s.close()));

  // False alarms: 20 clean retrains with Antidote's learner, full trusted split.
  log('false alarms: 20 clean retrains');
  const t0 = performance.now();
  const outcomes = await cleanRetrains(20, { trainRows: 12000 });
  const faSecs = (performance.now() - t0) / 1000;
  const blocked = outcomes.filter((o) => o.decision === 'block');

  // The demo.
  log('demo');
  const demo = repeat(1, () =>
    timeCommand(process.execPath, [CLI, 'demo', '--out-dir', join(cache, 'demo'), '--force']),
  );

  writeSection(
    'gate',
    [
      '## gate',
      '',
      `Machine: ${machine()}. Data: UCI Adult (CC BY 4.0) and SST-2 from thunlp/ONION (MIT), ../shared/data.`,
      '',
      '### Speed: 100,000 trusted rows through ONNX models (whole `antidote gate` process, median of 3)',
      '',
      table(['models', 'seconds', 'peak RSS MB', 'exit'], speedRows),
      '',
      'The 100k rows are the 10,854 trusted Adult rows repeated about nine times (each copy with its own id): this',
      'measures speed. Repetition multiplies every count, and so the power of every test, by nine, which is why a',
      'clean retrain may exit 1 here; the decisions that matter are in the next table, on real, unrepeated rows.',
      '',
      '### Acceptance cases (library, probes auto; accuracy difference in points with its 95% bootstrap interval)',
      '',
      table(['case', 'decision', 'accuracy diff', 'blocking findings', 'seconds'], cases),
      '',
      `### False alarms: ${blocked.length} of ${outcomes.length} clean retrains blocked (Antidote's learner on seeded 12k-row samples of the Adult pool, every check and probes on; ${faSecs.toFixed(0)} s in all)`,
      '',
      blocked.length ? blocked.map((b) => `- seed ${b.seed}: ${b.reasons.join(' ')}`).join('\n') : '',
      '',
      `### Demo: \`antidote demo\` took ${demo.median.toFixed(1)} s (exit ${demo.runs[0].status}, peak RSS ${demo.peakRssMB.toFixed(0)} MB)`,
    ].join('\n'),
  );
}

await main();
