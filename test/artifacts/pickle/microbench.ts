/**
 * Micro-benchmark of the pickle analyser (not part of the test suite; the end-to-end benchmark is
 * bench/scan.bench.ts). Builds, opcode by opcode, the data.pkl that torch.save writes for a state dict of N
 * small tensors (the same opcode mix: ~32 opcodes per tensor) and times analyzePickle on it, cold (a fresh
 * process per run, which is what `antidote scan` pays) and warm.
 *
 *   npx tsx test/artifacts/pickle/microbench.ts [tensors=20000] [runs=5]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzePickle, defaultPolicy } from '../../../src/artifacts/pickle/api.js';

/** A torch-style state dict pickle: OrderedDict of _rebuild_tensor_v2(persistent storage, 0, (2, 3), (3, 1), ...). */
export function torchLikeStateDict(n: number): Uint8Array {
  const out: number[] = [];
  const b = (...x: number[]) => out.push(...x);
  const le32 = (v: number) => b(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const text = (s: string) => {
    const bytes = Buffer.from(s, 'utf8');
    b(0x58);
    le32(bytes.length);
    b(...bytes);
  };
  let memo = 0;
  const put = () => {
    b(0x72);
    le32(memo++);
  };
  const get = (i: number) => {
    b(0x6a);
    le32(i);
  };
  b(0x80, 2);
  b(0x63, ...Buffer.from('collections\nOrderedDict\n'));
  const od = memo;
  put();
  b(0x29, 0x52);
  put();
  b(0x28);
  b(0x63, ...Buffer.from('torch._utils\n_rebuild_tensor_v2\n'));
  const rebuild = memo;
  put();
  b(0x30); // POP: torch writes the GLOBAL at its first use; memo it, drop it, fetch it per tensor
  let storageStr = -1;
  let floatStorage = -1;
  let cpu = -1;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % 1000 === 0) b(0x75, 0x28); // SETITEMS, MARK: batches of 1000 like pickle
    text(`layers.${i >> 2}.sub.weight_${i & 3}`);
    put();
    get(rebuild);
    b(0x28, 0x28);
    if (storageStr < 0) {
      text('storage');
      storageStr = memo;
      put();
      b(0x63, ...Buffer.from('torch\nFloatStorage\n'));
      floatStorage = memo;
      put();
    } else {
      get(storageStr);
      get(floatStorage);
    }
    text(String(i));
    put();
    if (cpu < 0) {
      text('cpu');
      cpu = memo;
      put();
    } else get(cpu);
    b(0x4b, 6, 0x74);
    put();
    b(0x51, 0x4b, 0, 0x4b, 2, 0x4b, 3, 0x86);
    put();
    b(0x4b, 3, 0x4b, 1, 0x86);
    put();
    b(0x89);
    get(od);
    b(0x29, 0x52);
    put();
    b(0x74);
    put();
    b(0x52);
    put();
  }
  b(0x75, 0x2e);
  return Uint8Array.from(out);
}

function timeOnce(bytes: Uint8Array, values: boolean): number {
  const policy = defaultPolicy();
  const t = performance.now();
  const r = analyzePickle(bytes, { policy, location: {}, values });
  const ms = performance.now() - t;
  if (!r.complete || r.findings.some((f) => f.severity !== 'info'))
    throw new Error('benchmark pickle did not pass');
  return ms;
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

if (process.argv[2] === '--child') {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(
    String(timeOnce(new Uint8Array(readFileSync(process.argv[3])), process.argv[4] !== 'lean')),
  );
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 20000);
  const runs = Number(process.argv[3] ?? 5);
  const bytes = torchLikeStateDict(n);
  const file = join(tmpdir(), `antidote-microbench-${n}.pkl`);
  writeFileSync(file, bytes);
  for (const mode of ['full', 'lean'] as const) {
    const cold: number[] = [];
    for (let i = 0; i < runs; i++) {
      const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', file, mode];
      cold.push(Number(execFileSync(process.execPath, args).toString()));
    }
    const warm: number[] = [];
    for (let i = 0; i < runs + 3; i++) warm.push(timeOnce(bytes, mode === 'full'));
    console.log(
      `${n} tensors, ${bytes.length} bytes, values: ${mode === 'full'}: cold median ${median(cold).toFixed(1)} ms, warm median ${median(warm.slice(3)).toFixed(1)} ms`,
    );
  }
}
