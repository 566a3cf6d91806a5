/**
 * `antidote scan` on real PyTorch checkpoints, end to end including process start, against a bare Python
 * `pickletools.genops` walk over the same checkpoint's data.pkl (read out of the zip in Python), in the
 * same run.
 *   - inputs (bench/.cache/scan/, made once by the Python below with Debian's python3-torch, seeded):
 *     small.pt, a state dict of 20,000 small tensors; large.pt, a few large tensors (zeros: cheap to
 *     write, same layout), over 2 GB.
 *   - targets: scan time <= 0.2 x the genops walk; peak RSS < 150 MB; large.pt in about small.pt's time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureCache, machine, median, repeat, table, timeCommand, writeSection } from './lib.js';

/** Writes small.pt and large.pt into the folder given (argv[1]); skips those that exist. */
const MAKE_CHECKPOINTS = `
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)
if not os.path.exists(os.path.join(out, "small.pt")):
    sd = {}
    dtypes = [torch.float32, torch.float16, torch.bfloat16, torch.int64]
    for i in range(20000):
        t = torch.randn(4, 8).to(dtypes[i % len(dtypes)])
        sd[f"model.layers.{i // 10}.block.{i % 10}.weight"] = t
    torch.save(sd, os.path.join(out, "small.pt"))
if not os.path.exists(os.path.join(out, "large.pt")):
    n = 150 * 1024 * 1024  # float32 elements: 600 MiB per tensor
    sd = {f"embed.{i}": torch.zeros(n, dtype=torch.float32) for i in range(4)}
    sd["head.bias"] = torch.randn(16)
    torch.save(sd, os.path.join(out, "large.pt"))
`;

const RUNS = 7;
const PY = '/usr/bin/python3';
const dir = join(ensureCache(), 'scan');
mkdirSync(dir, { recursive: true });
const small = join(dir, 'small.pt');
const large = join(dir, 'large.pt');
if (!existsSync(small) || !existsSync(large)) {
  console.log('generating checkpoints (once) ...');
  const g = spawnSync(PY, ['-c', MAKE_CHECKPOINTS, dir], { stdio: 'inherit' });
  if (g.status !== 0) throw new Error('checkpoint generation failed');
}

const GENOPS = [
  'import io, pickletools, sys, zipfile',
  'z = zipfile.ZipFile(sys.argv[1])',
  "data = z.read(next(n for n in z.namelist() if n.endswith('/data.pkl')))",
  'n = 0',
  'for _ in pickletools.genops(io.BytesIO(data)): n += 1',
  'print(n)',
].join('\n');

/**
 * CPU seconds (user + system) of one run, from GNU time: on a busy shared machine wall time mostly measures
 * waiting, so the CPU ratio is reported beside the wall-time ratio.
 */
function cpuSeconds(cmd: string, args: string[]): number {
  const r = spawnSync('/usr/bin/time', ['-f', '__CPU=%U %S', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const m = /__CPU=([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return m ? Number(m[1]) + Number(m[2]) : Number.NaN;
}

const scanArgs = (file: string) => [CLI, 'scan', '--no-progress', '--format', 'json', file];

function scanOnce(file: string) {
  const t = timeCommand(process.execPath, scanArgs(file));
  if (t.status !== 0)
    throw new Error(`scan of ${file} exited ${t.status}: ${t.stderr || t.stdout.slice(0, 400)}`);
  return t;
}
function genopsOnce(file: string) {
  const t = timeCommand(PY, ['-c', GENOPS, file]);
  if (t.status !== 0) throw new Error(`genops walk failed: ${t.stderr}`);
  return t;
}

// Warm the page cache and check both tools succeed.
scanOnce(small);
const ops = Number(genopsOnce(small).stdout.trim());
scanOnce(large);

const scanSmall = repeat(RUNS, () => scanOnce(small));
const pySmall = repeat(RUNS, () => genopsOnce(small));
const scanLarge = repeat(RUNS, () => scanOnce(large));
const cpu = (cmd: string, args: string[]) =>
  median(Array.from({ length: RUNS }, () => cpuSeconds(cmd, args)));
const cpuScanSmall = cpu(process.execPath, scanArgs(small));
const cpuPySmall = cpu(PY, ['-c', GENOPS, small]);
const cpuScanLarge = cpu(process.execPath, scanArgs(large));
const ratio = scanSmall.median / pySmall.median;
const mb = (f: string) => (statSync(f).size / 2 ** 20).toFixed(0);
const load = loadavg()[0].toFixed(1);

const rows = [
  [
    'antidote scan small.pt (20,000 tensors)',
    `${mb(small)} MiB`,
    scanSmall.median.toFixed(3),
    cpuScanSmall.toFixed(3),
    scanSmall.peakRssMB.toFixed(0),
  ],
  [
    'python pickletools.genops over its data.pkl',
    `${ops} opcodes`,
    pySmall.median.toFixed(3),
    cpuPySmall.toFixed(3),
    pySmall.peakRssMB.toFixed(0),
  ],
  [
    'antidote scan large.pt (few large tensors)',
    `${mb(large)} MiB`,
    scanLarge.median.toFixed(3),
    cpuScanLarge.toFixed(3),
    scanLarge.peakRssMB.toFixed(0),
  ],
];
writeSection(
  'scan',
  `## scan

${machine()}; 1-minute load average ${load} at the end of the run; medians of ${RUNS} runs each, end to end
including process start, page cache warm.

${table(['run', 'input', 'median wall s', 'median CPU s', 'peak RSS MB'], rows)}

- ratio antidote / genops walk on the 20,000-tensor checkpoint: **${ratio.toFixed(3)}** wall, ${(cpuScanSmall / cpuPySmall).toFixed(3)} CPU (target <= 0.2)
- peak RSS of antidote scan: **${Math.max(scanSmall.peakRssMB, scanLarge.peakRssMB).toFixed(0)} MB** (target < 150 MB)
- ${mb(large)} MiB checkpoint vs 20,000-tensor checkpoint: ${scanLarge.median.toFixed(3)} s vs ${scanSmall.median.toFixed(3)} s
`,
);
