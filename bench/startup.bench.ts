/**
 * Start-up: how long `antidote` takes before it does any work, against `node -e 0` measured in the same
 * session. The commands run interleaved (one round runs each once) so a busy machine slows all alike.
 * Rows: bare node; node importing commander alone (the argument parser every command needs); node importing
 * the scan bundle alone (what the scanner's code costs to load); --version; --help; `scan` of a small committed
 * model file (the whole path: parse flags, load the scanner, scan, print).
 * Target: --version and scan within 50 ms of `node -e 0` (median).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CLI, machine, median, ROOT, table, writeSection } from './lib.js';

const RUNS = Number(process.env.STARTUP_RUNS ?? 21);
const SMALL = join(ROOT, 'test', 'fixtures', 'formats', 'benign', 'model.safetensors');

interface Case {
  name: string;
  args: string[];
  /** Exit codes that mean the command ran as intended. */
  ok: number[];
}

const cases: Case[] = [
  { name: '`node -e 0`', args: ['-e', '0'], ok: [0] },
  {
    name: '`node` importing commander only',
    args: ['--input-type=module', '-e', "import 'commander'"],
    ok: [0],
  },
  {
    name: '`node` importing the scan bundle only',
    args: ['--input-type=module', '-e', "await import('./dist/cli/scan.bundle.js')"],
    ok: [0],
  },
  { name: '`antidote --version`', args: [CLI, '--version'], ok: [0] },
  { name: '`antidote --help`', args: [CLI, '--help'], ok: [0] },
  { name: '`antidote scan` small file (437 B safetensors)', args: [CLI, 'scan', SMALL], ok: [0] },
];
// STARTUP_BASELINE=/path/to/other/bin/antidote.js adds the same two commands of another build (e.g. main).
const BASELINE = process.env.STARTUP_BASELINE;
if (BASELINE)
  cases.push(
    { name: 'baseline `antidote --version`', args: [BASELINE, '--version'], ok: [0] },
    { name: 'baseline `antidote scan` small file', args: [BASELINE, 'scan', SMALL], ok: [0] },
  );

/**
 * CPU seconds (user + system, all threads) of this process's finished children, from /proc/self/stat. Read in
 * clock ticks (10 ms) but accumulated by the kernel in nanoseconds, so the sum over all runs of a command is
 * exact to a tick: its mean per run is steady on a shared machine, where wall times wait for a core.
 */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
const cpuTotal = new Map<Case, number>();

function once(c: Case): number {
  const cpu0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  cpuTotal.set(c, (cpuTotal.get(c) ?? 0) + childCpuSeconds() - cpu0);
  if (!c.ok.includes(r.status ?? -1))
    throw new Error(`${c.name} exited ${r.status}: ${(r.stderr || r.stdout).split('\n')[0]}`);
  return ms;
}

// One warm-up round (page cache), then RUNS interleaved rounds.
const loadBefore = loadavg()[0];
for (const c of cases) once(c);
cpuTotal.clear();
const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
for (let i = 0; i < RUNS; i++) for (const c of cases) times.get(c)?.push(once(c));

const base = median(times.get(cases[0]) ?? []);
const cpuMs = (c: Case) => ((cpuTotal.get(c) ?? 0) / RUNS) * 1000;
const cpuBase = cpuMs(cases[0]);
const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`;
const rows = cases.map((c) => {
  const xs = times.get(c) ?? [];
  const m = median(xs);
  const sorted = [...xs].sort((a, b) => a - b);
  return [
    c.name,
    m.toFixed(1),
    `${sorted[0].toFixed(1)} – ${sorted[sorted.length - 1].toFixed(1)}`,
    c === cases[0] ? '–' : signed(m - base),
    cpuMs(c).toFixed(1),
    c === cases[0] ? '–' : signed(cpuMs(c) - cpuBase),
  ];
});
// In process: what the first scan of the small file costs once the scanner's code is loaded (initialising the
// format modules, building the default allowlist), against a second scan of the same file.
const inProcess = (() => {
  const firsts: number[] = [];
  const laters: number[] = [];
  const code = `const m = await import('./dist/cli/scan.bundle.js');
const o = { failOn: 'high', allow: [] };
let t = performance.now(); await m.scanPaths([${JSON.stringify(SMALL)}], o); const a = performance.now() - t;
t = performance.now(); await m.scanPaths([${JSON.stringify(SMALL)}], o); const b = performance.now() - t;
console.log(JSON.stringify([a, b]));`;
  for (let i = 0; i < 7; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const [a, b] = JSON.parse(r.stdout) as [number, number];
    firsts.push(a);
    laters.push(b);
  }
  return { first: median(firsts), later: median(laters) };
})();

const loadAfter = loadavg()[0];
const byName = (prefix: string) =>
  median(times.get(cases.find((c) => c.name.startsWith(prefix)) as Case) ?? []);
const version = byName('`antidote --version`') - base;
const scan = byName('`antidote scan`') - base;
const cpuOver = (prefix: string) => cpuMs(cases.find((c) => c.name.startsWith(prefix)) as Case) - cpuBase;
const verdict = (x: number) => (x <= 50 ? 'within' : 'over');

writeSection(
  'startup',
  `## Start-up

${machine()}; 1-minute load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end (the machine is
shared). ${RUNS} interleaved runs of each command (after one warm-up round), whole process wall time
measured by the parent (spawn to exit). \`npm run bench -- startup\`.

${table(['command', 'median ms', 'min – max ms', 'vs node -e 0 (ms)', 'mean CPU ms', 'CPU vs node -e 0 (ms)'], rows)}

\`--version\` is ${version.toFixed(1)} ms over \`node -e 0\` (${verdict(version)} the 50 ms target); \`scan\` of a small file is
${scan.toFixed(1)} ms over (${verdict(scan)} it). In CPU time, which a busy machine does not stretch, they cost
${cpuOver('`antidote --version`').toFixed(1)} and ${cpuOver('`antidote scan`').toFixed(1)} ms more than \`node -e 0\`. The commander and scan-bundle rows show what loading each costs on its own. In process (7 runs),
the first scan of the file takes ${inProcess.first.toFixed(1)} ms (the scanner's code runs for the first time: functions not in the
build's code cache are compiled, inline caches are cold) and a second one ${inProcess.later.toFixed(1)} ms.${
    BASELINE ? `\nBaseline rows: ${BASELINE}, measured in the same interleaved rounds.` : ''
  }`,
);
