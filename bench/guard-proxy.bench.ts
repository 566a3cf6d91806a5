/**
 * antidote guard proxy on loopback.
 *   1. Overhead: a KServe v1 model server (Node, its own process) and the guard in front of it (the built CLI,
 *      its own process, default policy, cheap checks: known trigger on every instance, windows of 1,000
 *      instances with output shift and bursts, journal in a state folder, findings file). The load generator
 *      sends 1,000 requests/s to the guard and, interleaved, 1,000 requests/s straight to the model server (the
 *      same bodies, one instance each, 1% carrying the trigger), open loop, for SECONDS (20; env
 *      ANTIDOTE_BENCH_GUARD_SECONDS). Overhead = proxied minus direct latency at each quantile; the guard's own
 *      time per request (its histogram, upstream excluded) is read from /metrics. Peak RSS of the guard from
 *      /proc (VmHWM). Machine load (uptime) before and after, since the machine is shared.
 *   2. Slow shift: the window monitor over 16 windows of 1,000 instances whose output distribution creeps
 *      (test/guard/slow-shift.test.ts): the window each seed is first reported in, against the crossing window
 *      (population class-share PSI >= 0.25, the audit's drift threshold).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { psi } from '../src/data/stats/divergence.js';
import { GuardEngine, type GuardEvent } from '../src/guard/watch/engine.js';
import { instancesOf, toBatch } from '../src/guard/watch/instances.js';
import { WINDOW_DEFAULTS } from '../src/guard/watch/monitor.js';
import { trustedCounts } from '../src/guard/watch/output-shift.js';
import { defaultPolicy } from '../src/guard/watch/policy.js';
import {
  cleanRow,
  makeProfile,
  pPos,
  probsOf,
  rng,
  shiftedRow,
  writeProfile,
} from '../test/guard/watch-fixtures.js';
import { BENCH_DIR, CLI, machine, table, writeSection } from './lib.js';

const SECONDS = Number(process.env.ANTIDOTE_BENCH_GUARD_SECONDS ?? 20);
const RATE = 1000;
const work = mkdtempSync(join(tmpdir(), 'antidote-guard-bench-'));
const uptime = () => spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim();

function startLine(proc: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (l) => {
      const m = re.exec(l);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (c) => reject(new Error(`exited ${c}`)));
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
function post(url: string, body: string): Promise<{ status: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request(
      `${url}/v1/models/m:predict`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }),
        );
      },
    );
    req.on('error', () => resolve({ status: 0, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end(body);
  });
}

/** CPU time (user + system) of a process so far, in ms, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * 10;
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

async function overhead() {
  const profilePath = writeProfile(work);
  const up = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'guard-upstream.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const upUrl = await startLine(up, /^(http:\/\/\S+)$/);
  const guard = spawn(
    process.execPath,
    [
      CLI,
      'guard',
      'proxy',
      '--profile',
      profilePath,
      '--upstream',
      upUrl,
      '--listen',
      '127.0.0.1:0',
      '--state',
      join(work, 'state'),
      '--findings',
      join(work, 'findings.jsonl'),
      '-q',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const gUrl = await startLine(guard, /listening on (http:\/\/\S+)/);
  const r = rng(5);
  const bodies = Array.from({ length: 1000 }, (_, i) => {
    const x = cleanRow(r);
    if (i % 100 === 50) x.text += ' cf';
    return JSON.stringify({ instances: [x] });
  });
  // Warm-up (JIT, connections): 2 s at the full rate, not measured.
  const load = async (seconds: number, record: boolean) => {
    const direct: number[] = [];
    const proxied: number[] = [];
    const statuses = new Map<string, number>();
    const pending: Array<Promise<void>> = [];
    const t0 = Date.now();
    let sent = 0;
    await new Promise<void>((done) => {
      const tick = () => {
        const due = Math.min(RATE * seconds, Math.floor(((Date.now() - t0) / 1000) * RATE));
        while (sent < due) {
          const body = bodies[sent % bodies.length];
          sent++;
          pending.push(
            post(gUrl, body).then((x) => {
              if (record) proxied.push(x.ms);
              statuses.set(`guard ${x.status}`, (statuses.get(`guard ${x.status}`) ?? 0) + 1);
            }),
            post(upUrl, body).then((x) => {
              if (record) direct.push(x.ms);
              statuses.set(`direct ${x.status}`, (statuses.get(`direct ${x.status}`) ?? 0) + 1);
            }),
          );
        }
        if (sent >= RATE * seconds) done();
        else setTimeout(tick, 1);
      };
      tick();
    });
    await Promise.all(pending);
    return { direct, proxied, statuses, elapsed: (Date.now() - t0) / 1000 };
  };
  const before = uptime();
  await load(2, false);
  const cpu0 = { guard: cpuMs(guard.pid), up: cpuMs(up.pid) };
  const res = await load(SECONDS, true);
  const cpu = { guard: cpuMs(guard.pid) - cpu0.guard, up: cpuMs(up.pid) - cpu0.up };
  const after = uptime();
  const metrics = await (await fetch(`${gUrl}/metrics`)).text();
  const rss = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${guard.pid}/status`, 'utf8'));
  guard.kill('SIGKILL');
  up.kill('SIGKILL');
  agent.destroy();
  // The guard's own time: quantiles from its histogram (upper bucket bounds).
  const buckets = [...metrics.matchAll(/antidote_guard_overhead_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map(
    (m) => [m[1], Number(m[2])] as const,
  );
  const count = Number(/antidote_guard_overhead_seconds_count (\d+)/.exec(metrics)?.[1] ?? 0);
  const bucketQ = (p: number) => buckets.find(([, c]) => c >= p * count)?.[0] ?? '?';
  return { ...res, cpu, before, after, rssMB: rss ? Number(rss[1]) / 1024 : Number.NaN, bucketQ, count };
}

async function slowShift() {
  const profile = makeProfile();
  const drift = 0.04;
  const pop: number[] = [];
  const popScore: number[] = [];
  const bins = profile.outputs.bins;
  for (let w = 1; w <= 16; w++) {
    const r = rng(1000 + w);
    const counts = [0, 0];
    const hist = new Array<number>(bins).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const p = pPos(shiftedRow(r, w, drift));
      counts[p >= 0.5 ? 1 : 0]++;
      hist[Math.min(bins - 1, Math.floor(p * bins))]++;
    }
    pop.push(psi(trustedCounts(profile.outputs.overall), counts));
    popScore.push(psi(profile.outputs.overall.histograms[1], hist));
  }
  const crossing = pop.findIndex((p) => p >= 0.25) + 1;
  const rows: Array<Array<string | number>> = [];
  for (const seed of [11, 12, 13, 14, 15]) {
    const events: GuardEvent[] = [];
    const engine = new GuardEngine(
      profile,
      undefined,
      { ...WINDOW_DEFAULTS, rows: 1000, ms: 0 },
      defaultPolicy(),
      (e) => events.push(e),
    );
    const r = rng(seed);
    const observed: string[] = [];
    engine.onReport = (rep) => observed.push(rep.scopes[0] ? rep.scopes[0].classPsi.toFixed(3) : '-');
    for (let w = 1; w <= 16; w++)
      for (let k = 0; k < 100; k++) {
        const xs = Array.from({ length: 10 }, () => shiftedRow(r, w, drift));
        await engine.check(
          toBatch(profile, instancesOf({ instances: xs }, 100), 'b'),
          probsOf(xs),
          'b',
          w * 1000 + k,
        );
      }
    const firsts = events
      .filter(
        (e) =>
          e.finding.rule === 'guard/output-shift' &&
          (e.finding.evidence as { scope: string }).scope === 'overall',
      )
      .map(
        (e) => e.finding.evidence as { window: number; level: string; classPsi: number; scorePsi: number },
      );
    const first = firsts[0];
    rows.push([
      seed,
      first ? first.window : 'none',
      first
        ? `${first.level} (class PSI ${first.classPsi.toFixed(3)}, score PSI ${first.scorePsi.toFixed(3)})`
        : '-',
      crossing,
      observed.slice(0, 16).join(' '),
    ]);
  }
  return { pop, popScore, bins, crossing, rows };
}

const o = await overhead();
const s = await slowShift();
rmSync(work, { recursive: true, force: true });
const f = (x: number) => x.toFixed(2);
const qs = [0.5, 0.9, 0.99, 0.999];
const md = `## antidote guard proxy: overhead at ${RATE} requests/s on loopback, slow output shift

Machine: ${machine()}. Load before: \`${o.before}\`; after: \`${o.after}\` (shared machine: other engineers' jobs run at the same time).
Guard: built CLI, default policy (flag), cheap checks (known trigger on every instance; windows of 1,000 instances with output shift and bursts over 15 slices), journal in --state, findings file. Model server: Node, its own process. Load: open loop, ${RATE} requests/s to the guard and ${RATE} requests/s straight to the model server, interleaved, one instance per request (1% carry the known trigger and are flagged), ${SECONDS} s after a 2 s warm-up; ${o.proxied.length} proxied and ${o.direct.length} direct requests in ${o.elapsed.toFixed(1)} s. Statuses: ${[...o.statuses].map(([k, v]) => `${k}: ${v}`).join(', ')}.

${table(
  ['latency (ms)', ...qs.map((p) => `p${p * 100}`)],
  [
    ['direct', ...qs.map((p) => f(q(o.direct, p)))],
    ['through the guard', ...qs.map((p) => f(q(o.proxied, p)))],
    ['overhead (proxied − direct)', ...qs.map((p) => f(q(o.proxied, p) - q(o.direct, p)))],
  ],
)}

The guard's own time per request (upstream excluded, its /metrics histogram, ${o.count} requests): p50 ≤ ${Number(o.bucketQ(0.5)) * 1000} ms, p99 ≤ ${Number(o.bucketQ(0.99)) * 1000} ms (bucket upper bounds). CPU time per request (user + system, from /proc, independent of the machine's load): the guard ${(o.cpu.guard / o.proxied.length).toFixed(3)} ms, the model server ${(o.cpu.up / (o.proxied.length + o.direct.length)).toFixed(3)} ms, so the guard alone needs ${(((o.cpu.guard / o.proxied.length) * RATE) / 10).toFixed(0)}% of one core at ${RATE} requests/s. Peak RSS of the guard process: ${o.rssMB.toFixed(0)} MB. When the machine has less CPU to give than that, requests queue and the end-to-end latencies above measure the queue, not the guard.

### Slow output shift: first window reported against the crossing window

Traffic creeps by 4% of rows per window toward high-amount, positive-text inputs; windows of 1,000 instances. Population class-share PSI per window (100,000 rows each): ${s.pop.map((p) => p.toFixed(3)).join(', ')}; population score PSI (histogram of P(pos), ${s.bins} bins): ${s.popScore.map((p) => p.toFixed(3)).join(', ')}. Crossing (first window with population class-share PSI ≥ 0.25, the audit's drift threshold): window ${s.crossing}. A report before it comes from the score histogram, which moves first (its population PSI passes 0.25 earlier), or from the moderate level (chi-square and class PSI ≥ 0.1).

${table(['seed', 'first window reported (overall)', 'level', 'crossing window', 'observed class PSI per window'], s.rows)}
`;
writeSection('guard-proxy', md);
process.exit(0);
