/**
 * Detection benchmark of `antidote audit`: for each seeded poisoning case (src/data/generators) and for the
 * ONION SST-2 BadNets split, run the built CLI end to end and score its quarantine against the ground truth;
 * score two baselines on the same incoming rows in process:
 *   - confident learning alone (cleanlab-style prune-by-noise-rate on 4-fold out-of-fold probabilities of the
 *     same logistic-regression learner, incoming batch only);
 *   - spectral signatures alone (per class, top singular vector of the incoming rows' 64-d random projection of
 *     IDF-weighted hashed n-grams / one-hot items; removes 1.5 × the true poison rate per class, i.e. it is
 *     told the poison rate, which favours it).
 *
 *   npm run bench -- audit-detection            (seed 1)
 *   AUDIT_BENCH_SEEDS=1,2,3 npm run bench -- audit-detection
 * Inputs are regenerated into bench/.cache/audit-detection/seed-N/<case>/ (trusted.csv, incoming.csv, truth.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASES, type GeneratedCase } from '../src/data/generators/cases.js';
import { writeCase } from '../src/data/generators/write.js';
import { parseCsv } from './audit-matrix/csv.js';
import { baselineScores, type Scores, score } from './audit-scoring.js';
import { CLI, ensureCache, machine, SHARED, table, timeCommand, writeSection } from './lib.js';

const DATA = join(SHARED, 'data');
const SEEDS = (process.env.AUDIT_BENCH_SEEDS ?? '1').split(',').map(Number);
const ORDER = [
  'sst2-badnets',
  'phrase-campaign',
  'tabular-trigger',
  'rogue-labelers',
  'noise-10',
  'noise-20',
  'conditioning',
  'clean-sms',
  'clean-adult',
];

const f2 = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(2));

interface Row {
  seed: number;
  name: string;
  c: GeneratedCase;
  antidote: Scores;
  seconds: number;
  rssMB: number;
  cl: Scores;
  ss?: Scores;
  driftWindow?: number;
  driftSubgroup?: boolean;
  highFindings: number;
}

function cliArgs(dir: string, c: GeneratedCase): string[] {
  const r = c.truth.roles;
  const args = [
    'audit',
    '--trusted',
    join(dir, 'trusted.csv'),
    '--incoming',
    join(dir, 'incoming.csv'),
    '--label',
    r.label,
    '--id',
    r.id,
  ];
  for (const [flag, col] of [
    ['--text', r.text],
    ['--source', r.source],
    ['--labeler', r.labeler],
    ['--time', r.time],
    ['--embeddings', r.embeddings],
  ] as const) {
    if (col) args.push(flag, col);
  }
  return [...args, '--out-dir', join(dir, 'out'), '--force', '--format', 'json', '--no-progress'];
}

async function runCase(seed: number, name: string): Promise<Row> {
  const c = CASES[name]({ dataDir: DATA, seed });
  const dir = join(ensureCache(), 'audit-detection', `seed-${seed}`, name);
  await writeCase(c, dir);
  const truth = new Set(c.truth.poisoned);

  const t = timeCommand(process.execPath, [CLI, ...cliArgs(dir, c)]);
  if (t.status !== 0 && t.status !== 1)
    throw new Error(`${name}: antidote audit exited ${t.status}: ${t.stderr.trim().split('\n').pop()}`);
  const quarantined = parseCsv(readFileSync(join(dir, 'out', 'quarantined.csv'), 'utf8'));
  const ranked = quarantined
    .sort((a, b) => Number(b.antidote_score) - Number(a.antidote_score))
    .map((r) => r[c.truth.roles.id]);
  const antidote = score(ranked, new Set(ranked), truth);
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as {
    findings: Array<{
      rule: string;
      severity: string;
      location?: { column?: string; slice?: string };
      evidence?: Record<string, unknown>;
    }>;
  };
  const labelDrift = report.findings.filter(
    (f) =>
      f.rule === 'audit/drift' && (f.evidence?.kind === 'label' || f.evidence?.kind === 'subgroup-label'),
  );
  const driftWindow = labelDrift.length
    ? Math.min(...labelDrift.map((f) => Number(f.evidence?.firstWindow)))
    : undefined;
  const sub = c.truth.details.subgroup as Record<string, string> | undefined;
  const driftSubgroup = sub
    ? labelDrift.some((f) =>
        Object.entries(sub).some(([k, v]) => f.location?.column === k && f.location?.slice === v),
      )
    : undefined;
  const highFindings = report.findings.filter(
    (f) => f.severity === 'high' || f.severity === 'critical',
  ).length;

  // Baselines on the same rows, in process.
  const { cl, ss } = baselineScores(c, seed, truth);
  console.error(
    `${name} (seed ${seed}): P ${f2(antidote.precision)} R ${f2(antidote.recall)} in ${t.seconds.toFixed(1)} s`,
  );
  return {
    seed,
    name,
    c,
    antidote,
    seconds: t.seconds,
    rssMB: t.peakRssMB,
    cl,
    ss,
    driftWindow,
    driftSubgroup,
    highFindings,
  };
}

function target(r: Row): { text: string; met: boolean | undefined } {
  const a = r.antidote;
  switch (r.c.truth.attack) {
    case 'trigger':
    case 'campaign':
      return { text: 'P ≥ 0.9, R ≥ 0.9', met: a.precision >= 0.9 && a.recall >= 0.9 };
    case 'label-flip':
    case 'noise':
      return { text: 'R ≥ 0.8 at P ≥ 0.7', met: a.recallAt70 >= 0.8 };
    case 'conditioning':
      return {
        text: `found by window ${r.c.truth.crossesAt}`,
        met:
          r.driftWindow !== undefined &&
          r.c.truth.crossesAt !== undefined &&
          r.driftWindow <= r.c.truth.crossesAt,
      };
    default:
      return { text: 'no quarantine, no high finding', met: a.flagged === 0 && r.highFindings === 0 };
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const seed of SEEDS) for (const name of ORDER) rows.push(await runCase(seed, name));
  const mark = (m: boolean | undefined) => (m === undefined ? '' : m ? 'yes' : '**no**');
  const detection = table(
    [
      'case',
      'seed',
      'attack',
      'incoming',
      'poisoned',
      'Antidote P',
      'R',
      'R@P≥0.7',
      'quarantined',
      'CL P',
      'CL R',
      'SS P',
      'SS R',
      'target',
      'met',
      'audit s',
    ],
    rows.map((r) => {
      const tg = target(r);
      return [
        r.name,
        r.seed,
        r.c.truth.attack,
        r.c.truth.incomingRows,
        r.c.truth.poisoned.length,
        f2(r.antidote.precision),
        f2(r.antidote.recall),
        f2(r.antidote.recallAt70),
        r.antidote.flagged,
        f2(r.cl.precision),
        f2(r.cl.recall),
        r.ss ? f2(r.ss.precision) : '–',
        r.ss ? f2(r.ss.recall) : '–',
        tg.text,
        mark(tg.met),
        r.seconds.toFixed(1),
      ];
    }),
  );
  const cond = rows.filter((r) => r.c.truth.attack === 'conditioning' || r.c.truth.attack === 'none');
  const conditioning = table(
    [
      'case',
      'seed',
      'conditioned subgroup',
      'truly crosses (window)',
      'Antidote first label-drift window',
      'names the subgroup',
    ],
    cond.map((r) => [
      r.name,
      r.seed,
      r.c.truth.details.subgroup
        ? Object.entries(r.c.truth.details.subgroup as object)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')
        : '(none)',
      r.c.truth.crossesAt ?? '–',
      r.driftWindow ?? 'none',
      r.driftSubgroup === undefined ? '–' : r.driftSubgroup ? 'yes' : 'no',
    ]),
  );
  const descriptions = [...new Map(rows.map((r) => [r.name, r.c.truth.description])).entries()].map(
    ([n, d]) => `- \`${n}\`: ${d}`,
  );
  writeSection(
    'audit-detection',
    `### Audit detection (\`npm run bench -- audit-detection\`)

Machine: ${machine()}. Seeds: ${SEEDS.join(', ')}. Each case runs \`node bin/antidote.js audit\` end to end on generated
files (bench/.cache/audit-detection/; reproduce one with \`npx tsx src/data/generators/cli.ts <case> <dir> --seed N\`).
P and R: precision and recall of the quarantined rows against the ground truth; R@P≥0.7: best recall over the
quarantined rows ranked by \`antidote_score\` while precision stays at or above 0.7 (rows below the threshold count as
missed). Baselines on the same incoming rows: **CL** = confident learning alone (prune by noise rate, 4-fold
out-of-fold probabilities of the same logistic regression, incoming batch only); **SS** = spectral signatures alone
(per class, top singular vector of a 64-d random projection of IDF-weighted hashed n-grams or one-hot items,
removing 1.5 × the *true* poison rate, which favours it). Data: SMS Spam Collection (Almeida & Hidalgo, UCI,
CC BY 4.0), UCI Adult (CC BY 4.0), ONION SST-2 BadNets (thunlp/ONION, MIT).

${descriptions.join('\n')}

${detection}

Conditioning (8 weekly windows; "truly crosses" = first window where the injected drop in the subgroup's >50K
rate reaches 10 points) and false-alarm controls:

${conditioning}
`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
