/** Tensor bytes are never read: scanning a checkpoint costs its pickle and headers, not its size. */
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/artifacts/containers/sync-source.js';
import { loadScanPolicy } from '../../src/artifacts/formats/pickle-stream.js';
import { scanSource } from '../../src/artifacts/scan.js';
import { bytes, orderedDictPickle } from './helpers/pickles.js';
import { buildZip } from './helpers/zip-builder.js';

class CountingSource extends MemorySource {
  bytesRead = 0;
  override readSync(offset: number, length: number): Uint8Array {
    const b = super.readSync(offset, length);
    this.bytesRead += b.length;
    return b;
  }
}

describe('read cost', () => {
  it('reads under 1 MB of a 96 MB PyTorch zip and of a 96 MB legacy checkpoint', async () => {
    const policy = await loadScanPolicy(undefined, []);
    const big = new Uint8Array(32 * 1024 * 1024).fill(0x80); // tensor bytes that even start like PROTO
    const zip = buildZip([
      { name: 'archive/data.pkl', data: orderedDictPickle },
      { name: 'archive/data/0', data: big },
      { name: 'archive/data/1', data: big },
      { name: 'archive/data/2', data: big },
      { name: 'archive/version', data: '3\n' },
    ]);
    const z = new CountingSource('big.pt', zip);
    const r = await scanSource(z, { policy, failOn: 'high', displayPath: 'big.pt' });
    expect(r.format).toBe('pytorch-zip');
    expect(r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical')).toEqual([]);
    expect(z.bytesRead).toBeLessThan(1024 * 1024);

    const magic = bytes(
      0x80,
      2,
      0x8a,
      0x0a,
      [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19],
      0x2e,
    );
    const legacy = bytes(
      magic,
      0x80,
      2,
      0x4d,
      [0xe9, 0x03],
      0x2e,
      orderedDictPickle,
      orderedDictPickle,
      0x80,
      2,
      0x5d,
      0x2e,
    );
    const all = new Uint8Array(legacy.length + 3 * big.length);
    all.set(legacy);
    const l = new CountingSource('legacy.pt', all);
    const r2 = await scanSource(l, { policy, failOn: 'high', displayPath: 'legacy.pt' });
    expect(r2.format).toBe('pytorch-legacy');
    expect(r2.complete).toBe(true);
    expect(l.bytesRead).toBeLessThan(2 * 1024 * 1024);
  });
});
