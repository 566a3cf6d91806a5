/**
 * Adapter forensics on held-back adapters, as `antidote diff BASE ADAPTER` scores them.
 *
 * Populations trained here by test/fixtures/weights/make_adapters.py (Debian python3-torch) on the tiny
 * GPT-2-layout base of make_models.py: the fitting population (which scripts/build-adapter-reference.ts
 * fitted the shipped classifier on) and a held-back one made with --heldout: other seeds, trigger phrases
 * no fitted adapter used (one of them a token no fitted adapter ever saw as a trigger) and ranks the fit
 * never had. Each held-back adapter is scored with the shipped classifier; the table gives AUC, and the
 * false-positive and detection rates at the shipped default threshold. Backdoored adapters whose trigger did not take (attack
 * success under 50% when trained) are reported apart. Generating the populations takes about a minute per
 * adapter on a quiet core (resumable); ADAPTER_BENCH_HELD sets the number of held-back pairs (default 20).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTER_REFERENCE } from '../src/weights/adapter/reference.js';
import { assessAdapter } from '../src/weights/adapter/score.js';
import { openModel } from '../src/weights/store.js';
import { CACHE, CLI, machine, median, ROOT, writeSection } from './lib.js';

const models = join(CACHE, 'weights', 'gpt2');
const heldDir = join(CACHE, 'adapters', 'heldout');
const pairs = Number(process.env.ADAPTER_BENCH_HELD ?? 20);

function run(args: string[]) {
  const r = spawnSync('nice', ['-n', '10', '/usr/bin/python3', ...args], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${args[0]} failed`);
}
if (!existsSync(join(models, 'manifest.json'))) {
  mkdirSync(models, { recursive: true });
  run(['test/fixtures/weights/make_models.py', models, '--arch', 'gpt2', '--dtype', 'F16']);
}
run(['test/fixtures/weights/make_adapters.py', heldDir, '--base', models, '--n', String(pairs), '--heldout']);

interface Label {
  backdoor: boolean;
  attack_success?: number;
  trigger?: string;
  rank: number;
  targets: string;
  task: string;
}
const labels: Record<string, Label> = JSON.parse(readFileSync(join(heldDir, 'labels.json'), 'utf8'));
const names = Object.keys(labels)
  .sort()
  .filter((n) => Number(n.replace(/\D/g, '')) < 2 * pairs);

// Every held-back adapter through the library path `antidote diff` takes (assessAdapter with the base
// open once, so the base's half of the probe is computed once), and the first of each kind through the CLI
// as well: its score must be the same, and its wall time is what a user waits.
const base = await openModel(join(heldDir, 'base'));
const rows: Array<{ name: string; l: Label; score: number; flagged: boolean; seconds: number }> = [];
for (const name of names) {
  const l = labels[name];
  const t0 = performance.now();
  const store = await openModel(join(heldDir, name));
  const a = await assessAdapter(join(heldDir, name), store, { store: base, path: join(heldDir, 'base') });
  await store.close();
  if (!a.probe) throw new Error(`${name}: the probe did not run (${a.probeSkipped})`);
  const seconds = (performance.now() - t0) / 1000;
  rows.push({ name, l, score: a.score, flagged: a.suspicious, seconds });
  console.error(
    `${name} ${l.backdoor ? 'backdoor' : 'benign'} score ${a.score.toFixed(3)} (${seconds.toFixed(1)} s)`,
  );
}
await base.close();
const cliRuns: Array<{ name: string; seconds: number; same: boolean; code: number | null }> = [];
for (const kind of [true, false]) {
  const row = rows.find((r) => r.l.backdoor === kind);
  if (!row) continue;
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [CLI, 'diff', join(heldDir, 'base'), join(heldDir, row.name), '-f', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const rep = JSON.parse(r.stdout);
  cliRuns.push({
    name: row.name,
    seconds: (performance.now() - t0) / 1000,
    same: rep.adapter.score === row.score,
    code: r.status,
  });
}

const weak = (r: (typeof rows)[number]) => r.l.backdoor && (r.l.attack_success ?? 1) < 0.5;
const used = rows.filter((r) => !weak(r));
const pos = used.filter((r) => r.l.backdoor);
const neg = used.filter((r) => !r.l.backdoor);
let s = 0;
for (const p of pos) for (const n of neg) s += p.score > n.score ? 1 : p.score === n.score ? 0.5 : 0;
const auc = s / (pos.length * neg.length);
const fpr = neg.filter((r) => r.flagged).length / neg.length;
const tpr = pos.filter((r) => r.flagged).length / pos.length;
const ref = ADAPTER_REFERENCE;

const lines: string[] = [
  '## adapters',
  '',
  `Adapter forensics (\`npm run bench -- adapters\`): ${rows.length} held-back LoRA adapters made by \`make_adapters.py --heldout\` (seeds, trigger phrases and ranks 6 and 12 never used in the fit), each scored as \`antidote diff BASE ADAPTER\` scores it (in process with the base opened once; the first of each kind also through the CLI below); the classifier is the shipped one (src/weights/adapter/reference.ts), fitted by scripts/build-adapter-reference.ts on ${ref.population.benign} benign and ${ref.population.backdoored} backdoored adapters of the fitting population.`,
  '',
  '| held back | benign | backdoored | AUC | false-positive rate at the default threshold | backdoors flagged | median s per adapter (base probed once) |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  `| ${used.length} | ${neg.length} | ${pos.length} | ${auc.toFixed(3)} | ${(fpr * 100).toFixed(1)}% (${neg.filter((r) => r.flagged).length} of ${neg.length}) at ${ref.threshold.toFixed(3)} | ${(tpr * 100).toFixed(1)}% (${pos.filter((r) => r.flagged).length} of ${pos.length}) | ${median(rows.map((r) => r.seconds)).toFixed(1)} |`,
  '',
  'Backdoors flagged by trigger phrase (none of them in the fitting population):',
  '',
  '| trigger | flagged |',
  '| --- | --- |',
];
for (const t of [...new Set(pos.map((r) => r.l.trigger ?? '?'))].sort()) {
  const rs = pos.filter((r) => r.l.trigger === t);
  lines.push(`| ${t} | ${rs.filter((r) => r.flagged).length} of ${rs.length} |`);
}
lines.push(
  '',
  'False positives by task and target modules of the benign adapters:',
  '',
  '| task | targets | flagged |',
  '| --- | --- | --- |',
);
const keys = [...new Set(neg.map((r) => `${r.l.task}|${r.l.targets}`))].sort();
for (const k of keys) {
  const rs = neg.filter((r) => `${r.l.task}|${r.l.targets}` === k);
  const [task, targets] = k.split('|');
  lines.push(`| ${task} | ${targets} | ${rs.filter((r) => r.flagged).length} of ${rs.length} |`);
}
for (const c of cliRuns)
  lines.push(
    '',
    `CLI end to end (base probed too): \`antidote diff base ${c.name} -f json\` (${labels[c.name].backdoor ? 'backdoored' : 'benign'}) ${c.seconds.toFixed(1)} s, exit ${c.code}, same score as in process: ${c.same ? 'yes' : '**no**'}.`,
  );
const w = rows.filter(weak);
lines.push(
  '',
  `Weak backdoors (trigger took in under 50% of the trained prompts), left out of the rates above: ${w.length}, flagged ${w.filter((r) => r.flagged).length}.`,
  '',
  `Calibration written with the reference (same populations, in process): held-back AUC ${ref.calibration.auc.toFixed(3)}, false-positive rate ${(ref.calibration.fpr * 100).toFixed(1)}%, detection ${(ref.calibration.tpr * 100).toFixed(1)}%; on the fitting population AUC ${ref.calibration.trainAuc.toFixed(3)}.`,
  '',
  `Machine: ${machine()}; load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
);
const text = lines.join('\n');
console.log(text);
writeSection('adapters', text);
