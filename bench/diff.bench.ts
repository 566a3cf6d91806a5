/**
 * `antidote diff`: detection and speed.
 *
 * Detection: tiny language models made by test/fixtures/weights/make_models.py (Debian python3-torch), in
 * two architectures: gpt2 (GPT-2 layout, the development part, the one the thresholds were set on) and
 * llama (Llama layout, other depth and width, bf16, the frozen part). Each: a base, four benign fine-tunes
 * (all parameters, last blocks, low learning rate, a merged LoRA), a ROME-style rank-one edit (checked to
 * change its continuation with held-out loss moving under 1%), MEMIT-style edits over consecutive layers,
 * and the ROME edit on top of a fine-tune; safetensors and torch.save files. Every candidate is diffed
 * against its base through the CLI; an edit counts as found only when every edited layer is named.
 *
 * Speed: two ~1 GB float32 models in four safetensors shards with an index, the candidate a fine-tune
 * (every tensor changed, the worst case); median wall time of `antidote diff` (two lanes, and one lane, whose
 * reports must be the same) against the time to read both models from the page cache (dd with 4 MiB reads),
 * peak RSS against twice the largest tensor plus 200 MB, and the per-core throughput of the work the diff
 * cannot skip (reading, the delta pass, the sketched spectrum) on CPU time, which a loaded machine disturbs
 * less than wall time.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { floatAccess } from '../src/weights/decode.js';
import { compareTensor } from '../src/weights/diff/compare.js';
import type { TensorStore } from '../src/weights/store.js';
import { readSafetensors, writeSafetensors } from '../test/weights/helpers.js';
import { CLI as cliPath, machine, median, ROOT as root, writeSection } from './lib.js';

const cache = join(root, 'bench', '.cache', 'weights');
const parts = process.argv.includes('--frozen')
  ? ['gpt2', 'llama']
  : (process.env.DIFF_BENCH_ARCHS ?? 'gpt2,llama').split(',').filter(Boolean);

function models(arch: string): string {
  const dir = join(cache, arch);
  if (!existsSync(join(dir, 'manifest.json'))) {
    mkdirSync(dir, { recursive: true });
    const args = [
      'test/fixtures/weights/make_models.py',
      dir,
      '--arch',
      arch,
      '--torch-too',
      '--dtype',
      arch === 'llama' ? 'BF16' : 'F16',
    ];
    const r = spawnSync('/usr/bin/python3', args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`make_models.py failed for ${arch}`);
  }
  return dir;
}

interface Row {
  arch: string;
  part: string;
  candidate: string;
  file: string;
  expected: string;
  got: string;
  layers: string;
  ok: boolean;
  seconds: number;
}

type Info = { kind: string; layer?: number; layers?: number[] };

/** `antidote diff BASE CAND` through the CLI, judged against the manifest's truth for the candidate. */
function judge(arch: string, part: string, label: string, info: Info, base: string, cand: string): Row {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliPath, 'diff', base, cand, '-f', 'json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = (performance.now() - t0) / 1000;
  const rep = JSON.parse(r.stdout);
  const edit = rep.findings.find((f: { rule: string }) => f.rule === 'weights/surgical-edit');
  const named: number[] = (edit?.evidence?.edited ?? []).map((e: { layer?: number }) => e.layer);
  const want = info.layers ?? (info.layer !== undefined ? [info.layer] : []);
  const expected = info.kind === 'edit' ? 'edit' : info.kind === 'base' ? 'identical' : 'fine-tune';
  const got = rep.summary.kind;
  const layersOk =
    expected !== 'edit' || JSON.stringify([...named].sort()) === JSON.stringify([...want].sort());
  // A converted copy must also say what it was converted to.
  const converted = part !== 'converted' || (rep.summary.convertedTo ?? []).join() === 'BF16';
  return {
    arch,
    part,
    candidate: label,
    file: basename(cand),
    expected,
    got,
    layers: expected === 'edit' ? `${named.join(',')} (true ${want.join(',')})` : '-',
    ok: got === expected && layersOk && converted,
    seconds,
  };
}

const rows: Row[] = [];
for (const arch of parts) {
  const dir = models(arch);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  for (const [name, info] of Object.entries(manifest.models) as Array<[string, Info]>) {
    if (name === 'base') continue;
    for (const file of ['model.safetensors', 'pytorch_model.bin']) {
      const cand = join(dir, name, file);
      if (!existsSync(cand)) continue;
      const part = arch === 'gpt2' ? 'development' : 'frozen';
      rows.push(judge(arch, part, name, info, join(dir, 'base', 'model.safetensors'), cand));
    }
  }
}

// ---- converted copies: every gpt2 model (F16) written as BF16, as hubs publish bf16 releases, diffed
// against the F16 base. The conversion alone must read as identical, and each candidate as it did unconverted.
// (The BF16 llama models have no narrower float dtype to convert to.) The copies are written by the test
// helper's own bit-level encoder, not the diff's rounding.
for (const arch of parts.filter((a) => a === 'gpt2')) {
  const dir = models(arch);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  for (const [name, info] of Object.entries(manifest.models) as Array<[string, Info]>) {
    const cand = join(dir, `${name}-bf16`, 'model.safetensors');
    if (!existsSync(cand)) {
      mkdirSync(dirname(cand), { recursive: true });
      const t = readSafetensors(join(dir, name, 'model.safetensors'));
      writeSafetensors(
        cand,
        Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { ...v, dtype: 'BF16' as const }])),
      );
    }
    rows.push(
      judge(arch, 'converted', `${name} as BF16`, info, join(dir, 'base', 'model.safetensors'), cand),
    );
  }
}

// ---- speed
function writeSt(path: string, tensors: Array<[string, number[], Float32Array]>) {
  const header: Record<string, unknown> = {};
  let pos = 0;
  for (const [name, shape, d] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [pos, pos + d.byteLength] };
    pos += d.byteLength;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(
    path,
    Buffer.concat([len, h, ...tensors.map(([, , d]) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))]),
  );
}

function bigModels(): { base: string; cand: string; largest: number; bytes: number } {
  const dir = join(cache, 'big');
  const base = join(dir, 'base');
  const cand = join(dir, 'cand');
  const shape = [2048, 2048];
  const perShard = 16;
  const shards = 4;
  if (!existsSync(join(cand, 'model.safetensors.index.json'))) {
    mkdirSync(base, { recursive: true });
    mkdirSync(cand, { recursive: true });
    let s = 1;
    const rnd = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296 - 0.5;
    };
    const map: Record<string, string> = {};
    for (let k = 0; k < shards; k++) {
      const fname = `model-${String(k + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const bt: Array<[string, number[], Float32Array]> = [];
      const ct: Array<[string, number[], Float32Array]> = [];
      for (let i = 0; i < perShard; i++) {
        const name = `model.layers.${k * perShard + i}.mlp.down_proj.weight`;
        const b = new Float32Array(shape[0] * shape[1]);
        for (let j = 0; j < b.length; j++) b[j] = rnd() * 0.04;
        const c = Float32Array.from(b);
        for (let j = 0; j < c.length; j++) c[j] += rnd() * 0.001;
        bt.push([name, shape, b]);
        ct.push([name, shape, c]);
        map[name] = fname;
      }
      writeSt(join(base, fname), bt);
      writeSt(join(cand, fname), ct);
    }
    for (const d of [base, cand])
      writeFileSync(
        join(d, 'model.safetensors.index.json'),
        JSON.stringify({ metadata: {}, weight_map: map }),
      );
  }
  return {
    base,
    cand,
    largest: shape[0] * shape[1] * 4,
    bytes: 2 * shards * perShard * shape[0] * shape[1] * 4,
  };
}

const big = bigModels();
const reps = Number(process.env.DIFF_BENCH_REPS ?? 3);
const catTimes: number[] = [];
const diffTimes: number[] = [];
const catCpu: number[] = [];
const diffCpu: number[] = [];
const rss: number[] = [];
// /usr/bin/time's last line: wall seconds, user and system CPU seconds, peak RSS in KB.
const timed = (cmd: string[]) => {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...cmd], { encoding: 'utf8' });
  const [e, u, s, m] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
  return { wall: e, cpu: u + s, rss: m * 1024 };
};
const lanes1: number[] = [];
const lanes1Cpu: number[] = [];
let sameReport = true;
const diffArgs = (out: string) => [
  process.execPath,
  cliPath,
  'diff',
  big.base,
  big.cand,
  '-f',
  'json',
  '-o',
  out,
  '--force',
];
const withLanes = (n: number, cmd: string[]) => ['env', `ANTIDOTE_DIFF_LANES=${n}`, ...cmd];
const reportOf = (p: string) => {
  const r = JSON.parse(readFileSync(p, 'utf8'));
  r.elapsedMs = 0;
  return JSON.stringify(r);
};
for (let i = 0; i < reps; i++) {
  // dd copies every byte into its own buffer (a real read); `cat > /dev/null` can skip the copy (splice).
  const c = timed([
    'sh',
    '-c',
    `for f in ${big.base}/*.safetensors ${big.cand}/*.safetensors; do dd if="$f" of=/dev/null bs=4M status=none; done`,
  ]);
  catTimes.push(c.wall);
  catCpu.push(c.cpu);
  // The default (two lanes for this model), then one lane: the reports must be the same.
  const d = timed(diffArgs(join(cache, 'big', 'diff.json')));
  diffTimes.push(d.wall);
  diffCpu.push(d.cpu);
  rss.push(d.rss);
  const one = timed(withLanes(1, diffArgs(join(cache, 'big', 'diff-1.json'))));
  lanes1.push(one.wall);
  lanes1Cpu.push(one.cpu);
  sameReport &&= reportOf(join(cache, 'big', 'diff.json')) === reportOf(join(cache, 'big', 'diff-1.json'));
}

// Per-core throughput of the work the diff cannot skip, on CPU time (the least of 5 runs: other processes
// on a shared machine only ever add to it). Read: the shards into one reused buffer, as the diff reads.
// Compare: one 2048 x 2048 pair already in memory, through compareTensor: the delta pass (norms, changed
// elements, row norms) and the sketched spectrum.
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const least = (f: () => void) => {
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 5; k++) {
    const t = cpuNow();
    f();
    best = Math.min(best, cpuNow() - t);
  }
  return best;
};
const shardFiles = [big.base, big.cand].flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => join(d, f)),
);
const readBuf = Buffer.allocUnsafeSlow(4 << 20);
const readSecs = least(() => {
  for (const f of shardFiles) {
    const fd = openSync(f, 'r');
    while (readSync(fd, readBuf, 0, readBuf.length, null) > 0);
    closeSync(fd);
  }
});
const n = 2048 * 2048;
let seed = 5;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 4294967296 - 0.5;
};
const bArr = Float32Array.from({ length: n }, () => rnd() * 0.04);
const cArr = Float32Array.from(bArr, (x) => x + rnd() * 0.001);
// The pair is handed over as ready buffers (no copy: the read is measured apart); the candidate's buffer
// becomes the delta, so it is refilled before each run, outside the timing.
const bBytes = new Uint8Array(bArr.buffer);
const cWork = new Uint8Array(4 * n);
const memStore = (bytes: Uint8Array): TensorStore => {
  const entry = { name: 'w', dtype: 'F32', shape: [2048, 2048], numel: n, file: '-' };
  const raw = async () => bytes;
  return {
    format: 'safetensors',
    files: [],
    tensors: [entry],
    raw,
    ...floatAccess(() => entry, raw),
    close: async () => {},
  };
};
const sb = memStore(bBytes);
const sc = memStore(cWork);
const cmpTimes: number[] = [];
for (let k = 0; k < 5; k++) {
  cWork.set(new Uint8Array(cArr.buffer));
  const t = cpuNow();
  await compareTensor(sb, sc, 'w', 'w', [2048, 2048], { base: 'F32', candidate: 'F32' }, 9);
  cmpTimes.push(cpuNow() - t);
}
const cmpRate = (8 * n) / Math.min(...cmpTimes);
const readRate = big.bytes / readSecs;
const mb = (x: number) => (x / 1e6).toFixed(0);
const catRate = big.bytes / median(catTimes);
const diffRate = big.bytes / median(diffTimes);
const rssBound = 2 * big.largest + 200e6;

const lines: string[] = [];
lines.push(
  '## diff',
  '',
  `Detection (\`npm run bench -- diff\`; models by test/fixtures/weights/make_models.py; gpt2 = development architecture, llama = frozen, not looked at while the thresholds were set; converted = each gpt2 model (F16) written as BF16 and diffed against the F16 base, which must read as identical for the base and as the unconverted candidate otherwise):`,
  '',
);
lines.push(
  '| part | arch | candidate | file | expected | got | edited layers named | ok | s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const r of rows)
  lines.push(
    `| ${r.part} | ${r.arch} | ${r.candidate} | ${r.file} | ${r.expected} | ${r.got} | ${r.layers} | ${r.ok ? 'yes' : '**no**'} | ${r.seconds.toFixed(2)} |`,
  );
for (const part of ['development', 'frozen', 'converted']) {
  const rs = rows.filter((r) => r.part === part);
  if (rs.length)
    lines.push(
      '',
      `${part}: ${rs.filter((r) => r.ok).length} of ${rs.length} right (edits found with their layers: ${rs.filter((r) => r.expected === 'edit' && r.ok).length} of ${rs.filter((r) => r.expected === 'edit').length}; benign called edit: ${rs.filter((r) => r.expected !== 'edit' && r.got === 'edit').length} of ${rs.filter((r) => r.expected !== 'edit').length})`,
    );
}
lines.push(
  '',
  `Speed: two ${mb(big.bytes / 2)} MB float32 models in 4 shards with an index, every tensor changed; median of ${reps}:`,
  '',
);
lines.push('| measure | value |', '| --- | --- |');
lines.push(
  `| read both from the page cache (dd, 4 MiB reads) | ${median(catTimes).toFixed(2)} s (${mb(catRate)} MB/s) |`,
);
lines.push(
  `| antidote diff (two lanes: this thread and a worker) | ${median(diffTimes).toFixed(2)} s (${mb(diffRate)} MB/s) |`,
);
lines.push(
  `| antidote diff, one lane (ANTIDOTE_DIFF_LANES=1) | ${median(lanes1).toFixed(2)} s (${mb(big.bytes / median(lanes1))} MB/s); same report as two lanes: ${sameReport ? 'yes' : '**no**'} |`,
);
lines.push(`| diff rate / read rate (wall) | ${(diffRate / catRate).toFixed(2)} (target >= 0.5) |`);
lines.push(
  `| CPU seconds: dd / antidote diff two lanes / one lane | ${median(catCpu).toFixed(2)} / ${median(diffCpu).toFixed(2)} / ${median(lanes1Cpu).toFixed(2)} |`,
);
lines.push(
  `| peak RSS (two lanes) | ${mb(median(rss))} MB (bound: 2 x largest tensor + 200 MB = ${mb(rssBound)} MB) |`,
);
lines.push(
  '',
  'Per-core throughput of the work the diff cannot skip (CPU time, least of 5 runs), against what the target needs:',
  '',
  '| kernel | MB/s per core |',
  '| --- | --- |',
  `| dd, read both models (CPU time of the runs above) | ${mb(big.bytes / median(catCpu))} |`,
  `| read both models into a reused buffer (Node) | ${mb(readRate)} |`,
  `| compare one float32 pair in memory (delta pass + sketched spectrum) | ${mb(cmpRate)} |`,
  `| read + compare, one core | ${mb(1 / (1 / readRate + 1 / cmpRate))} |`,
  `| needed for half the dd wall rate measured here (${mb(catRate / 2)} MB/s) with 2 cores | ${mb(catRate / 4)} per core |`,
);
lines.push('', 'Adapter forensics: see the adapters section (`npm run bench -- adapters`).');
lines.push(
  '',
  `Machine: ${machine()}; load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
);
const text = lines.join('\n');
console.log(text);
writeSection('diff', text);
