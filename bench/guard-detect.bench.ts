/**
 * guard-detect: does `antidote guard` catch triggered requests in production, and at what false-alarm cost?
 *
 * For each committed backdoored model of test/fixtures/guard (rare-word SST-2, phrase SMS, conjunction Adult and
 * German credit) and
 * its clean twin: the model is served by a real HTTP server on 127.0.0.1 speaking KServe v1 / TF Serving JSON;
 * `antidote gate` (incumbent = clean twin, candidate = backdoored model) probes it and its report.json is given to
 * `guard fit --gate` as the known triggers (the text models; the gate cannot probe a two-value conjunction, so the
 * tabular profile knows no trigger); the profile is fitted on <case>_trusted.csv with the default 1% false-alarm
 * rate. Traffic: every row of <case>_traffic.csv (never seen by fit) as clean requests, plus triggered requests at
 * 1% of each stream (a trigger inserted into, or written over, a traffic row of another class than its target),
 * over several streams until at least 200 triggered requests per part. Requests go to the server in batches of 32;
 * each answer is scored with the guard's scorer (activation from the local ONNX copy, STRIP and occlusion on every
 * instance through the same HTTP endpoint).
 *
 * Honest split: the "dev" part (dev triggers, traffic seed 1) is what the settings were tuned on; the "frozen"
 * part (other triggers, seed 2) is reported and was not tuned on. Triggers the profile was never told about are
 * reported on their own rows. Also: activation scoring time and occlusion cost per instance, and peak RSS.
 *
 *   npm run bench -- guard-detect [--part=dev|frozen] [--case=NAME]   (one case: printed, not recorded)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runGate } from '../src/gate/gate.js';
import { httpModel } from '../src/gate/models/http.js';
import { loadOnnxModel } from '../src/gate/models/onnx.js';
import { type InputBatch, sliceBatch } from '../src/gate/models/types.js';
import { readTable } from '../src/gate/read.js';
import { predictedClasses, rng } from '../src/gate/stats.js';
import type { Column } from '../src/gate/table.js';
import { fitProfile } from '../src/guard/fit.js';
import { createScorer } from '../src/guard/scorer.js';
import type { InstanceVerdict } from '../src/guard/types.js';
import { LookBack } from '../src/guard/watch/lookback.js';
import { serveModel } from '../test/gate/helpers/serve.js';
import { ensureCache, machine, median, ROOT, table, writeSection } from './lib.js';

const FIX = join(ROOT, 'test', 'fixtures', 'guard');
const manifest = JSON.parse(readFileSync(join(FIX, 'models.json'), 'utf8'));
const partArg = process.argv.find((a) => a.startsWith('--part='))?.slice(7);
const PARTS = (partArg ? [partArg] : ['dev', 'frozen']) as Array<'dev' | 'frozen'>;
const MIN_TRIGGERED = 200;
/**
 * Layers profiled, chosen on the dev part: the text models pool word embeddings by their mean, which dilutes a
 * trigger word by the sentence's length in every later layer, so their per-word embeddings (`embedded`, summarised
 * by the guard per instance) are read; the tabular models' default layer (the input of the last Gemm) is kept.
 */
const layersOf = (c: { column?: string }) => (c.column ? ['embedded'] : undefined);
const BATCH = 32;
const MAIN_COLUMNS = [
  'part',
  'model',
  'requests',
  'n',
  'activation',
  'STRIP',
  'occlusion',
  'learned trigger',
  'known trigger',
  'any',
  'earlier',
  'any or earlier',
  'backdoor answered',
  'any, of those',
  'trigger changed the answer',
  'any, of changed',
];
const TWIN_COLUMNS = [
  'part',
  'model',
  'n',
  'activation',
  'STRIP',
  'occlusion',
  'learned trigger',
  'any',
  'earlier',
  'any or earlier',
];

type Trig = string | Array<[string, string]>;
interface Case {
  name: string;
  prefix: string;
  label: string;
  column?: string;
  target: string;
  dev: Trig[];
  frozen: Trig[];
}

const caseArg = process.argv.find((a) => a.startsWith('--case='))?.slice(7);
const CASES: Case[] = Object.entries(manifest)
  .filter(([name]) => !caseArg || name === caseArg)
  .map(([name, e]) => {
    const m = e as {
      triggers: { target: number; dev: Trig[]; frozen: Trig[] };
      column?: string;
      label: string;
    };
    return {
      name,
      prefix: name.split('_')[0],
      label: m.label,
      column: m.column,
      target: name === 'adult_conj' ? '>50K' : String(m.triggers.target),
      dev: m.triggers.dev,
      frozen: m.triggers.frozen,
    };
  });

if (caseArg && !CASES.length) {
  console.error(`guard-detect: no case "${caseArg}"; choose one of ${Object.keys(manifest).join(', ')}`);
  process.exit(2);
}

const trigName = (t: Trig) => (typeof t === 'string' ? t : t.map(([c, v]) => `${c}=${v}`).join(' & '));

/** Copy a column batch and write trigger `t` into row i (a phrase inserted at a random place, values set). */
function triggered(base: InputBatch, rows: number[], trigs: Trig[], c: Case, rand: () => number): InputBatch {
  const b = sliceBatch(base, rows);
  rows.forEach((_, i) => {
    const t = trigs[i % trigs.length];
    if (typeof t === 'string') {
      const col = b.columns.get(c.column as string) as { kind: 'string'; values: string[] };
      const words = col.values[i].split(' ');
      words.splice(Math.floor(rand() * (words.length + 1)), 0, ...t.split(' '));
      col.values[i] = words.join(' ');
    } else
      for (const [name, v] of t) {
        const col = b.columns.get(name) as Column;
        if (col.kind === 'string') col.values[i] = v;
        else col.values[i] = Number(v);
      }
  });
  return b;
}

/** Does row i of a batch hold any trigger trained into the model (dev or frozen)? */
function carries(c: Case, b: InputBatch, i: number): boolean {
  return [...c.dev, ...c.frozen].some((t) => {
    if (typeof t === 'string') {
      const text = (b.columns.get(c.column as string)?.values[i] as string | undefined) ?? '';
      return ` ${text} `.includes(` ${t} `);
    }
    return t.every(([name, v]) => String(b.columns.get(name)?.values[i]).trim() === v);
  });
}

interface Tally {
  n: number;
  /** Triggered requests the backdoored model answered with its target class, and how many of those were flagged. */
  fired: number;
  firedAny: number;
  /**
   * Of those, the ones the clean twin answers otherwise (the same triggered request): the trigger changed the
   * answer. Where the clean twin gives the target too, the request's other values decide it, so the backdoor did
   * no harm and left nothing a detector could tell from an ordinary request.
   */
  changed: number;
  changedAny: number;
  known: number;
  activation: number;
  strip: number;
  occlusion: number;
  learned: number;
  any: number;
  /** Not flagged when checked, reported when a trigger they carry was learned later (guard/watch/lookback.ts). */
  earlier: number;
}
const tally = (): Tally => ({
  n: 0,
  known: 0,
  activation: 0,
  strip: 0,
  occlusion: 0,
  learned: 0,
  any: 0,
  earlier: 0,
  fired: 0,
  firedAny: 0,
  changed: 0,
  changedAny: 0,
});
/**
 * Count a verdict; for a triggered request, `target` is the backdoor's class (did the trigger work, was it seen) and
 * `twinClass` the clean twin's answer to the same request (did the trigger change the answer).
 */
function add(t: Tally, v: InstanceVerdict, target?: string, twinClass?: string): void {
  const f = (id: string) => v.checks.some((c) => c.id === id && c.flagged);
  t.n++;
  if (target !== undefined && v.predictedClass === target) {
    t.fired++;
    if (v.flagged) t.firedAny++;
    if (twinClass !== undefined && twinClass !== target) {
      t.changed++;
      if (v.flagged) t.changedAny++;
    }
  }
  if (f('guard/known-trigger')) t.known++;
  if (f('guard/activation')) t.activation++;
  if (f('guard/strip')) t.strip++;
  if (f('guard/occlusion')) t.occlusion++;
  if (f('guard/learned-trigger')) t.learned++;
  if (v.flagged) t.any++;
}
const pc = (k: number, n: number) => (n ? `${((100 * k) / n).toFixed(1)}%` : 'n/a');

/** One row of the detection table; `triggered` adds whether the backdoor answered and how many of those were flagged. */
function rowOf(part: string, model: string, requests: string, t: Tally, triggered: boolean) {
  return [
    part,
    model,
    requests,
    t.n,
    pc(t.activation, t.n),
    pc(t.strip, t.n),
    pc(t.occlusion, t.n),
    pc(t.learned, t.n),
    pc(t.known, t.n),
    pc(t.any, t.n),
    pc(t.earlier, t.n),
    pc(t.any + t.earlier, t.n),
    triggered ? pc(t.fired, t.n) : '',
    triggered ? pc(t.firedAny, t.fired) : '',
    triggered ? pc(t.changed, t.n) : '',
    triggered ? pc(t.changedAny, t.changed) : '',
  ];
}

async function runCase(c: Case, part: 'dev' | 'frozen', twin: 'backdoor' | 'clean', work: string) {
  const modelPath = join(FIX, `${c.name}_${twin}.onnx`);
  const trustedPath = join(FIX, `${c.prefix}_trusted.csv`);
  const k = 2;
  const served = await serveModel(await loadOnnxModel(modelPath, { classes: k }), {
    classes: k,
    lifetimeMs: 3_600_000,
  });
  try {
    // Known triggers: the gate's report on this model against its clean twin (text models only).
    const gateReports: string[] = [];
    if (c.column && twin === 'backdoor') {
      const probeFile = join(work, `${c.name}-probes.txt`);
      // The SST-2 gate probes its standard list (cf, mn, bb, tq, mb, ...); SMS is given the dev phrase to probe.
      writeFileSync(probeFile, c.name === 'sms_phrase' ? `${c.dev.join('\n')}\n` : '');
      const report = await runGate({
        trusted: trustedPath,
        label: c.label,
        incumbent: join(FIX, `${c.name}_clean.onnx`),
        candidate: modelPath,
        probe: c.name === 'sms_phrase' ? probeFile : 'auto',
        settings: { replicates: 100 },
      });
      const path = join(work, `${c.name}-gate.json`);
      writeFileSync(path, JSON.stringify(report));
      gateReports.push(path);
    }
    const t0 = Date.now();
    const profile = await fitProfile({
      model: modelPath,
      trusted: trustedPath,
      label: c.label,
      gate: gateReports,
      layers: layersOf(c),
    });
    const fitSeconds = (Date.now() - t0) / 1000;
    const known = profile.triggers
      .filter((t) => !t.disabled)
      .map((t) => (t.kind === 'token' ? t.value : `${t.column}=${t.value}`));
    const scorer = await createScorer(profile, {
      model: modelPath,
      strip: { mode: 'all', maxInstances: BATCH, deadlineMs: 30_000 },
      occlusion: { mode: 'all', maxInstances: BATCH, deadlineMs: 60_000 },
    });
    const client = httpModel(served.url, {
      classes: k,
      columns: profile.inputs.map((x) => x.name),
      batchSize: 256,
      concurrency: 1,
    });
    const raw = await readTable(join(FIX, `${c.prefix}_traffic.csv`));
    const labels = raw.columns.get(c.label) as Column;
    const clean: InputBatch = {
      n: raw.n,
      columns: new Map(profile.inputs.map((x) => [x.name, raw.columns.get(x.name) as Column])),
      ids: Array.from({ length: raw.n }, (_, i) => String(i)),
    };
    const labelOf = (i: number) =>
      labels.kind === 'number' ? String(labels.values[i]) : labels.values[i].trim();
    const others = Array.from({ length: raw.n }, (_, i) => i).filter((i) => labelOf(i) !== c.target);
    const trigs = c[part];
    const rand = rng(part === 'dev' ? 1 : 2);
    const cleanT = tally();
    // Clean rows that already hold a trigger trained into the model (a phrase, both values of a conjunction): the
    // backdoor answers them, so they are triggered requests that occur naturally, counted apart from false flags.
    const naturalT = tally();
    // Clean rows the backdoored model answers otherwise than its clean twin: the backdoor decided them (words
    // near a trigger phrase), so a flag there is not a false alarm either; counted apart, and all rows together.
    const changedT = tally();
    const allCleanT = tally();
    const twinModel = await loadOnnxModel(join(FIX, `${c.name}_clean.onnx`), { classes: k });
    const twinAnswer = predictedClasses(await twinModel.score(clean), clean.n, k);
    // The answers of the model under watch (deterministic): which clean rows its backdoor decided.
    const backAnswer = predictedClasses(await client.score(clean), clean.n, k);
    const trigT = new Map<string, Tally>(trigs.map((t) => [trigName(t), tally()]));
    const perStream = Math.max(1, Math.round(raw.n / 99));
    const streams = Math.ceil(MIN_TRIGGERED / perStream);
    // As guard proxy and replay do (guard/watch/engine.ts): instances no check flagged that carry a trigger learned
    // after they were checked are reported when it is, counted apart ("earlier").
    const lookback = new LookBack<Tally[]>();
    const score = async (b: InputBatch, tallies: Tally[]) => {
      const known = scorer.learned().length;
      const vs = await scorer.scoreBatch(b, await client.score(b), (x) => client.score(x));
      lookback.add(
        b,
        tallies,
        vs.map((v) => v.predicted),
        (i) => vs[i].flagged,
      );
      const learned = scorer.learned();
      if (learned.length > known)
        for (const h of lookback.carriers(learned.slice(known))) h.tag[h.index].earlier++;
      return vs;
    };
    for (let s = 0; s < streams; s++) {
      // Clean rows are scored once, after the last stream's triggered requests, so every trigger the guard has
      // learned by then (guard/learned-trigger) is looked for in them; each stream adds 1% triggered.
      const pick = Array.from({ length: perStream }, () => others[Math.floor(rand() * others.length)]);
      const order = pick.map((_, i) => trigs[(s * perStream + i) % trigs.length]);
      const tb = triggered(clean, pick, order, c, rand);
      const tbTwin = predictedClasses(await twinModel.score(tb), tb.n, k);
      for (let lo = 0; lo < tb.n; lo += BATCH) {
        const rows = Array.from({ length: Math.min(BATCH, tb.n - lo) }, (_, i) => lo + i);
        const tallies = rows.map((r) => trigT.get(trigName(order[r])) as Tally);
        const vs = await score(sliceBatch(tb, rows), tallies);
        vs.forEach((v, i) => {
          add(tallies[i], v, c.target, profile.classes[tbTwin[lo + i]]);
        });
      }
      if (s === streams - 1)
        for (let lo = 0; lo < clean.n; lo += BATCH) {
          const rows = Array.from({ length: Math.min(BATCH, clean.n - lo) }, (_, i) => lo + i);
          const kind = rows.map((r) =>
            twin === 'backdoor' && carries(c, clean, r)
              ? naturalT
              : twin === 'backdoor' && backAnswer[r] !== twinAnswer[r]
                ? changedT
                : cleanT,
          );
          const vs = await score(sliceBatch(clean, rows), kind);
          vs.forEach((v, i) => {
            add(allCleanT, v);
            add(kind[i], v);
          });
        }
    }
    await scorer.close();
    await twinModel.close();
    return { profile, known, cleanT, naturalT, changedT, allCleanT, trigT, fitSeconds, streams };
  } finally {
    await served.close();
  }
}

/** Activation scoring time per instance (batches of 1 and 32) and this process's peak RSS. */
async function timing(c: Case) {
  const modelPath = join(FIX, `${c.name}_backdoor.onnx`);
  const profile = await fitProfile({
    model: modelPath,
    trusted: join(FIX, `${c.prefix}_trusted.csv`),
    label: c.label,
    layers: layersOf(c),
    strip: { off: true },
  });
  const scorer = await createScorer(profile, { model: modelPath, strip: { mode: 'off' } });
  const raw = await readTable(join(FIX, `${c.prefix}_traffic.csv`));
  const batch: InputBatch = {
    n: raw.n,
    columns: new Map(profile.inputs.map((x) => [x.name, raw.columns.get(x.name) as Column])),
    ids: Array.from({ length: raw.n }, (_, i) => String(i)),
  };
  const probs = new Float64Array(raw.n * 2).fill(0.5);
  const per = async (size: number, rounds: number) => {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const lo = (r * size) % Math.max(1, raw.n - size);
      const rows = Array.from({ length: size }, (_, i) => lo + i);
      const b = sliceBatch(batch, rows);
      const p = probs.subarray(0, size * 2);
      const t0 = process.hrtime.bigint();
      await scorer.scoreBatch(b, p);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6 / size);
    }
    return median(times.slice(5));
  };
  const one = await per(1, 400);
  const batched = await per(32, 100);
  await scorer.close();
  // guard/occlusion: every occluded copy answered by the local ONNX model (the proxy asks its upstream instead).
  const local = await loadOnnxModel(modelPath, { classes: 2 });
  const occ = await createScorer(profile, {
    strip: { mode: 'off' },
    occlusion: { mode: 'all', maxInstances: BATCH, deadlineMs: 600_000 },
  });
  let copies = 0;
  const predict = async (b: InputBatch) => {
    copies += b.n;
    return local.score(b);
  };
  const occTimes: number[] = [];
  const rounds = 30;
  for (let r = 0; r < rounds; r++) {
    const rows = Array.from({ length: BATCH }, (_, i) => (r * BATCH + i) % raw.n);
    const b = sliceBatch(batch, rows);
    const p = await local.score(b);
    const t0 = process.hrtime.bigint();
    await occ.scoreBatch(b, p, predict);
    occTimes.push(Number(process.hrtime.bigint() - t0) / 1e6 / BATCH);
  }
  await occ.close();
  await local.close();
  return {
    one,
    batched,
    occlusionMs: median(occTimes.slice(3)),
    occlusionCopies: copies / (rounds * BATCH),
    dims: profile.activation?.layers.map((l) => `${l.name} [${l.dim}]`).join(', ') ?? '',
  };
}

if (process.argv.includes('--timing-only')) {
  const times: Array<Array<string | number>> = [];
  const occlusion: Array<Array<string | number>> = [];
  for (const c of CASES) {
    const t = await timing(c);
    times.push([c.name, t.dims, t.one.toFixed(3), t.batched.toFixed(3)]);
    occlusion.push([c.name, t.occlusionCopies.toFixed(1), t.occlusionMs.toFixed(2)]);
  }
  console.log(JSON.stringify({ times, occlusion, peakMB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const work = ensureCache();
const rows: Array<Array<string | number>> = [];
const twinRows: Array<Array<string | number>> = [];
const notes: string[] = [];
const json: Record<string, unknown> = {};
for (const part of PARTS) {
  for (const c of CASES) {
    const r = await runCase(c, part, 'backdoor', work);
    notes.push(
      `${c.name} (${part}): profile knows ${r.known.length ? r.known.join(', ') : 'no trigger'}; fit ${r.fitSeconds.toFixed(1)} s; ${r.streams} streams.`,
    );
    const known = new Set(r.known);
    const groups: Array<[string, Tally]> = [];
    const unknownAll = tally();
    const allT = tally();
    for (const [name, t] of r.trigT) {
      groups.push([`${name}${known.has(name) ? ' (known)' : ' (never told)'}`, t]);
      for (const key of Object.keys(allT) as Array<keyof Tally>) {
        allT[key] += t[key];
        if (!known.has(name)) unknownAll[key] += t[key];
      }
    }
    groups.push(['all triggered', allT], ['triggers never told', unknownAll]);
    for (const [name, t] of groups) rows.push(rowOf(part, c.name, name, t, true));
    rows.push(rowOf(part, c.name, 'clean traffic (false flags)', r.cleanT, false));
    const extra: Array<[string, Tally]> = [
      ['clean traffic holding a trigger naturally', r.naturalT],
      ['clean traffic the backdoor answers otherwise than the clean twin', r.changedT],
      ['all clean traffic', r.allCleanT],
    ];
    for (const [name, t] of extra) if (t.n) rows.push(rowOf(part, c.name, name, t, false));
    const tw = await runCase(c, part, 'clean', work);
    const tc = tw.cleanT;
    twinRows.push([
      part,
      `${c.name} clean twin`,
      tc.n,
      pc(tc.activation, tc.n),
      pc(tc.strip, tc.n),
      pc(tc.occlusion, tc.n),
      pc(tc.learned, tc.n),
      pc(tc.any, tc.n),
      pc(tc.earlier, tc.n),
      pc(tc.any + tc.earlier, tc.n),
    ]);
    json[`${part}/${c.name}`] = {
      triggered: Object.fromEntries(groups),
      clean: r.cleanT,
      naturallyTriggered: r.naturalT,
      changedByBackdoor: r.changedT,
      allClean: r.allCleanT,
      twinClean: tc,
      known: r.known,
    };
    console.error(`done ${part} ${c.name}`);
  }
}
if (caseArg) {
  console.log(table(MAIN_COLUMNS, rows));
  console.log(table(TWIN_COLUMNS, twinRows));
  process.exit(0);
}
// Scoring time and its memory in a process of their own, so the gate runs and servers above do not count.
const child = spawnSync(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(import.meta.url), '--timing-only'],
  {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  },
);
if (child.status !== 0) throw new Error(`timing run failed: ${child.stderr}`);
const timed = JSON.parse(child.stdout.trim().split('\n').pop() as string) as {
  times: Array<Array<string | number>>;
  occlusion: Array<Array<string | number>>;
  peakMB: number;
};
const times = timed.times;
const peakScoring = timed.peakMB.toFixed(0);
const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);

writeFileSync(join(work, 'guard-detect.json'), JSON.stringify(json, null, 2));
writeSection(
  'guard-detect',
  `## guard-detect

Triggered requests flagged and clean requests falsely flagged by the guard's instance checks (profile calibrated
to a 1% false-alarm rate on held-back trusted rows; 80% of the rate is split between activation, STRIP and
occlusion, the rest is margin), models served over HTTP on loopback (KServe v1 JSON), traffic from rows \`guard fit\`
never saw, 1% triggered per stream; STRIP and occlusion run on every instance. "any" is the guard's verdict (any
check flagged); "backdoor answered" is the share of triggered requests the backdoored model answered with its
target class (a trigger that does not work leaves nothing to see and does no harm), and "any, of those" the share
of them flagged; "trigger changed the answer" is the share the backdoored model answered with its target while the
clean twin answers the same request otherwise, and "any, of changed" the share of those flagged (where the clean
twin gives the target too, the request's other values decide the answer: the trigger did no harm, and nothing
tells the request from an ordinary one). Clean traffic is split: rows that already hold a trained trigger, and rows the backdoored model
answers otherwise than its clean twin (the backdoor decided them: words near a trigger phrase), are counted apart
from the false flags, and all clean rows together are shown too. Part "dev" was used to choose the settings;
"frozen" (other triggers, other traffic seed) was not: each earlier frozen set joined dev once it had been seen,
and the frozen triggers here (two conjunctions, two phrases, three words) were trained into the models
(test/fixtures/guard/make_models.py) after guard/occlusion's transplant step and guard/learned-trigger were
designed. They were run twice: once as designed (bench/results/guard-detect-frozen3-first-run.md: conjunctions
84.4%, phrases 96.2%, words 100%), and again after one change found by reading that run, not tuned on it: a
pattern too common in the held trusted rows is now rejected before it uses one of the tests a batch allows (the
decision rules are unchanged); this table is the second run. german_conj (Statlog German credit: 1,000 rows, so
250 trusted rows and 250 of traffic; column names with trailing spaces) was added after all of that, both of its
parts held out; its one run flagged 9.1% (dev) and 8.6% (frozen) of clean traffic, 5.5% of it by STRIP, whose
threshold then came from the 100 held-back rows alone. STRIP is now calibrated on every trusted row (it fits
nothing and never mixes a row with itself), which changed only german_conj's rows (the other models already had
2,000 calibration rows). A check whose calibration rows of a predicted class are too few for its share of the rate
(1 / (n + 1) above it: fewer than 369 rows at 0.27%) used to sit just above their largest score and so flag about
1 / (n + 1) of clean traffic; its threshold now goes beyond that score as far as a generalized Pareto tail fitted to
the top scores says it must (src/guard/tail.ts), while a request scored beyond every calibration row still
nominates what occlusion blamed for guard/learned-trigger's own test. The run before that change is kept in
bench/results/guard-detect-before-tail.md: german_conj flagged 6.4% (dev) and 5.9% (frozen) of clean traffic and
5.6% on its clean twin, while flagging 87.1% and 35.8% of triggered requests. Reading why german_conj's frozen
trigger was learned so late (so that part is spent: it is no longer a held-out figure) showed the pattern rejected
as too common because two of the 150 held trusted rows carry it, both answered with the target by the backdoored
model and otherwise by a model of the trusted data; such carriers are now discounted when that happens to them more
than to held rows at large (scorer.ts \`wrongedCarriers\`), which moved german_conj frozen from 19.4% to 94.0% and
changed no other figure. Then, with every part spent (so these are development figures): a learned trigger may
flag as many held trusted rows as the part of the rate the calibrated checks leave (0.2% at the default 1%, was a
fixed 0.1%); a pattern carried by more is still learned when the carriers the model answers with its class fit
that, and then flags only instances answered with its class (workclass=Local-gov & relationship=Unmarried, in 1.2%
of trusted rows: its non-firing requests cannot be told from ordinary rows); and a request a learned trigger
already flags adds no support to other patterns (the parts of a learned phrase, such as "evening", were learned
after it and flagged ordinary messages). bench/results/guard-detect-before-answered.md is the run before: adult_conj
88.5% (dev) and 84.8% (frozen) of triggered requests, now 93.4% and 88.1%, false flags unchanged (0.3%); sms_phrase
and german_conj false flags 0.2% and 0.9% (dev), now 0.1% and 0.5%; no other figure moved. Since then the guard
also reports, when it learns a trigger, the instances checked before that carry it and that no check flagged
(guard/watch/lookback.ts: a finding with action log, since their answers are gone): "earlier" counts them, and
"any or earlier" is the share flagged on arrival or reported so. The on-arrival figures did not move.
Session 20 added five whole datasets, each run once before anything was changed for it. spam_phrase (SpamAssassin
mail bodies, phrase triggers) and churn_conj (telecom churn, conjunctions) first (bench/results/
guard-detect-heldout-s20.md: phrases 98.1% and 95.7% on arrival at 0.5% false flags; conjunctions 82.4% and 87.1%,
with 0.9% false flags and 1.1% on the clean twin). Reading those and the spent parts then changed three things:
thresholds hold their share with 90% confidence where the calibration rows are too few for the conformal bound
(the largest of n scores holds it only on average: 360 rows miss 0.27% one time in four), activation's per
predicted class too; a request nominates what occlusion blamed when a candidate part already passes the pattern's
own test and a model of the trusted data reads the request without it as another class (before, only requests
scored beyond every trusted row did), counted over distinct requests; and a trigger learned from a batch flags
that batch's instances. fortune_phrase (Debian fortune cookies, phrases), credit_conj and attrition_conj
(modeldata credit scoring and HR attrition, conjunctions) were added after that and run once
(bench/results/guard-detect-heldout2-s20.md): phrases 98.1% and 50.2% (one phrase's pattern test fell short of
the bar), conjunctions 31.0% and 0% (credit: both triggers' value pairs occur in 1.2% to 2.7% of trusted rows,
which the model answers with the target, so flagging them would cost more than the false-alarm rate) and 4.5% and
0% (attrition: 350 trusted rows); the code before these changes scored 85.0% and 0%, 28.0% and 1.0%, 7.0% and
3.0% there, with more false flags. A minority class with too few calibration rows to fit a tail then took the
threshold of all classes (attrition's clean traffic: 1.9% flagged, now 0%), and telco_conj (IBM telco churn) and
stack_conj (a developer survey) were added after that and run once (bench/results/guard-detect-heldout3-s20.md):
telco 15.7% and 3.3% (both triggers' value pairs occur together in about 10% of rows, answered with the target
anyway), stack 34.3% and 55.7%, every request its weak backdoor answered with the target, at 0.2% to 0.4% of clean
traffic. Every part of every case below is now spent: these are development figures.
Machine: ${machine()}.

${table(MAIN_COLUMNS, rows)}

Clean twins (profile fitted on the clean twin; clean traffic):

${table(TWIN_COLUMNS, twinRows)}

Activation scoring time per instance (ms, median; local ONNX run with the exposed layer + Mahalanobis + usearch kNN):

${table(['model', 'layer', 'batch of 1', 'batch of 32'], times)}

guard/occlusion cost per instance (batches of 32; copies answered by the local ONNX model in-process; through
\`guard proxy\` each copy is a row sent to the upstream, within its STRIP/occlusion budget):

${table(['model', 'occluded copies per instance', 'ms per instance (median)'], timed.occlusion)}

Peak RSS of a process that loads each profile and model in turn and scores the traffic: ${peakScoring} MB (the whole
benchmark process, with the gate runs and HTTP servers: ${peak} MB).

${notes.map((n) => `- ${n}`).join('\n')}
`,
);
