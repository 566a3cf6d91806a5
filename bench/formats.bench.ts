/**
 * formats: (1) validating a multi-GB safetensors file costs milliseconds because only its header is read;
 * (2) `antidote convert` of a ~1 GB PyTorch checkpoint runs at a rate close to a plain file copy of the same
 * bytes, measured in the same run. Inputs are regenerated into bench/.cache (seeded): the safetensors file is
 * written sparse (header + truncate), the checkpoint with Debian's python3-torch.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  ftruncateSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { validateSafetensors } from '../src/artifacts/formats/safetensors.js';
import { FileSource } from '../src/artifacts/source.js';
import { CLI, ensureCache, machine, median, table, timeCommand, writeSection } from './lib.js';

const cache = ensureCache();
const GiB = 2 ** 30;

// ---- (1) multi-GB safetensors, sparse --------------------------------------------------------------------------
const big = join(cache, 'big.safetensors');
const tensors = 256;
const perTensor = 16 * 2 ** 20; // 16 Mi F32 elements = 64 MiB each -> 16 GiB in all
const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'sparse benchmark file' } };
for (let i = 0; i < tensors; i++) {
  header[`layers.${i}.weight`] = {
    dtype: 'F32',
    shape: [4096, perTensor / 4096],
    data_offsets: [i * perTensor * 4, (i + 1) * perTensor * 4],
  };
}
let h = Buffer.from(JSON.stringify(header));
h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
const total = 8 + h.length + tensors * perTensor * 4;
{
  const fd = openSync(big, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeSync(fd, len);
  writeSync(fd, h);
  ftruncateSync(fd, total);
  closeSync(fd);
}
const inProcess: number[] = [];
for (let i = 0; i < 21; i++) {
  const t0 = process.hrtime.bigint();
  const src = await FileSource.open(big);
  const v = await validateSafetensors(src);
  await src.close();
  inProcess.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (v.problems.length) throw new Error(`benchmark file invalid: ${v.problems[0]}`);
}
const cliRuns = [0, 1, 2, 3, 4].map(() =>
  timeCommand(process.execPath, [CLI, 'scan', big, '--format', 'json']),
);
if (cliRuns.some((r) => r.status !== 0))
  throw new Error(`scan of the safetensors file failed: ${cliRuns[0].stderr}`);
const startRuns = [0, 1, 2, 3, 4].map(() => timeCommand(process.execPath, [CLI, '--version']));

// ---- (2) ~1 GB checkpoint: convert vs plain copy ---------------------------------------------------------------
const ckpt = join(cache, 'convert-1g.pt');
if (!existsSync(ckpt) || statSync(ckpt).size < 0.9 * GiB) {
  const py = `
import torch, collections
torch.manual_seed(1234)
sd = collections.OrderedDict()
for i in range(60):
    sd[f"layers.{i}.weight"] = torch.randn(2048, 2048)           # 16 MiB each, contiguous
sd["embed.weight"] = torch.randn(4096, 1024).half()              # fp16
sd["head.weight"] = torch.randn(1024, 2048).bfloat16()           # bf16
sd["proj.transposed"] = torch.randn(1024, 1024).t()              # non-contiguous view, materialised
torch.save(sd, ${JSON.stringify(ckpt)})
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { stdio: 'inherit' });
  if (r.status !== 0)
    throw new Error('could not generate the checkpoint with /usr/bin/python3 (python3-torch)');
}
const size = statSync(ckpt).size;
const out = join(cache, 'convert-1g.safetensors');
const copy = join(cache, 'convert-1g.copy');
const copyFiles: number[] = [];
const cps: number[] = [];
const dds: number[] = [];
const converts: Array<ReturnType<typeof timeCommand>> = [];
for (let i = 0; i < 3; i++) {
  rmSync(copy, { force: true });
  const t0 = process.hrtime.bigint();
  copyFileSync(ckpt, copy);
  copyFiles.push(Number(process.hrtime.bigint() - t0) / 1e9);
  rmSync(copy, { force: true });
  cps.push(timeCommand('cp', [ckpt, copy]).seconds);
  rmSync(copy, { force: true });
  dds.push(timeCommand('dd', [`if=${ckpt}`, `of=${copy}`, 'bs=16M']).seconds);
  rmSync(copy, { force: true });
  const r = timeCommand(process.execPath, [CLI, 'convert', ckpt, '-o', out, '--force']);
  if (r.status !== 0) throw new Error(`convert failed: ${r.stderr}`);
  converts.push(r);
}
const outSize = statSync(out).size;
rmSync(copy, { force: true });
const mb = size / 1e6;
const convMed = median(converts.map((r) => r.seconds));
const row = (label: string, xs: number[]) => [
  label,
  median(xs).toFixed(2),
  (mb / median(xs)).toFixed(0),
  (convMed / median(xs)).toFixed(2),
];

writeSection(
  'formats',
  `## formats: header-only validation and \`antidote convert\`

Machine: ${machine()}. Inputs generated in bench/.cache (seeded).

**safetensors validation reads the header only.** A sparse ${(total / GiB).toFixed(1)} GiB safetensors file (${tensors} F32 tensors, ${(h.length / 1024).toFixed(0)} KiB header):

${table(
  ['measure', 'median'],
  [
    ['validateSafetensors in process (21 runs)', `${median(inProcess).toFixed(2)} ms`],
    [
      '`antidote scan --format json` incl. process start (5 runs)',
      `${(median(cliRuns.map((r) => r.seconds)) * 1000).toFixed(0)} ms`,
    ],
    [
      'process start alone: `antidote --version` (5 runs)',
      `${(median(startRuns.map((r) => r.seconds)) * 1000).toFixed(0)} ms`,
    ],
  ],
)}

**Converting a ${(size / GiB).toFixed(2)} GiB PyTorch zip checkpoint** (60 F32 tensors of 16 MiB, fp16, bf16, one transposed view) to safetensors
(${(outSize / GiB).toFixed(2)} GiB) with the full pipeline: pre-scan, pickle analysis, streaming copy with a CRC-32 per tensor,
re-read verification of every tensor's CRC-32. Compared with plain copies of the same bytes in the same run:

${table(
  ['operation (3 runs each, interleaved)', 'median seconds', 'MB/s', 'convert / this'],
  [
    row('`cp` (in-kernel copy_file_range)', cps),
    row('fs.copyFile (in-kernel copy)', copyFiles),
    row('`dd bs=16M` (read() + write() through user space, as convert must)', dds),
    row(
      '`antidote convert` incl. process start',
      converts.map((r) => r.seconds),
    ),
  ],
)}

Peak RSS of convert: ${Math.max(...converts.map((r) => r.peakRssMB)).toFixed(0)} MB. The conversion must lay the bytes out anew, so it
reads and writes them through user space (like \`dd\`, unlike \`cp\`, which copies inside the kernel), checksums them while writing, and
re-reads the whole output to verify every tensor. On this machine, shared with other jobs, user-space writes are the bottleneck.`,
);
