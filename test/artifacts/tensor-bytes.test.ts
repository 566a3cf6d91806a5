/**
 * Raw float32 tensor files (ONNX external data, one extension-less file per tensor; OpenVINO weights) are
 * never read as pickles: random weights often start with a few well-formed opcodes by chance, and a pickle
 * sniffer that accepts a well-formed prefix used to claim about 1 in 80 of them and block them as malformed.
 */
import { describe, expect, it } from 'vitest';
import { looksLikePickle, pickleEvidence } from '../../src/artifacts/detect.js';
import { HEAD_BYTES } from '../../src/artifacts/formats/types.js';
import { detectFormat } from '../../src/artifacts/scan.js';

/** mulberry32: a small seeded generator, so the 10,000 files are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('random float32 tensor files', () => {
  it('none of 10,000 is read as a pickle', () => {
    const rand = mulberry32(20261203);
    const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const N = 10_000;
    const claimed: Record<string, number> = {};
    let oldSniffer = 0;
    for (let i = 0; i < N; i++) {
      // Sizes from 4 bytes to 4 MB (log-uniform); weights like real layers: normal, scaled, or uniform.
      const count = Math.max(1, Math.floor(2 ** (rand() * 20)));
      const size = count * 4;
      const head = new Float32Array(Math.min(count, HEAD_BYTES / 4));
      const scale = 10 ** (-3 + rand() * 3);
      const uniform = rand() < 0.3;
      for (let k = 0; k < head.length; k++) head[k] = uniform ? (rand() * 2 - 1) * scale : gauss() * scale;
      const bytes = new Uint8Array(head.buffer);
      const name = `onnx__MatMul_${i}`;
      const format = detectFormat({ head: bytes, size, name }).id;
      claimed[format] = (claimed[format] ?? 0) + 1;
      expect(pickleEvidence(bytes, size), name).not.toBe('genuine');
      if (looksLikePickle(bytes, { complete: bytes.length >= size })) oldSniffer++;
    }
    console.log(
      `10,000 random float32 files: claimed as ${JSON.stringify(claimed)}; a prefix-accepting sniffer would take ${oldSniffer}`,
    );
    expect(claimed.unknown).toBe(N);
    expect(claimed.pickle ?? 0).toBe(0);
    expect(claimed.joblib ?? 0).toBe(0);
  }, 60_000);
});
