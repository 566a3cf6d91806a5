import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemorySource, SyncFileSource } from '../../../src/artifacts/containers/sync-source.js';
import { openZip, readEntry, ZipReadError } from '../../../src/artifacts/containers/zip.js';
import { FIXTURES } from '../../helpers/cli.js';
import { benignPickle } from '../helpers/pickles.js';
import { buildZip } from '../helpers/zip-builder.js';

const open = (bytes: Uint8Array) => openZip(new MemorySource('t.zip', bytes));
const kinds = async (bytes: Uint8Array) => (await open(bytes)).issues.map((i) => i.kind);

describe('zip reader', () => {
  it('reads a clean archive with no issues, stored and deflated', async () => {
    const z = await open(
      buildZip([
        { name: 'a/data.pkl', data: benignPickle },
        { name: 'b.txt', data: 'hello '.repeat(50), method: 8 },
      ]),
    );
    expect(z.fatal).toBeUndefined();
    expect(z.issues).toEqual([]);
    expect(z.entries.map((e) => e.name)).toEqual(['a/data.pkl', 'b.txt']);
    expect((await readEntry(z, z.entries[0])).bytes).toEqual(benignPickle);
    expect(new TextDecoder().decode((await readEntry(z, z.entries[1])).bytes)).toBe('hello '.repeat(50));
  });

  it('accepts data descriptors without reporting their bytes as unaccounted', async () => {
    expect(
      await kinds(
        buildZip([
          { name: 'x', data: 'abc', descriptor: true },
          { name: 'y', data: 'def', descriptor: true },
        ]),
      ),
    ).toEqual([]);
  });

  it('flags local/central disagreement on the name and on the method', async () => {
    expect(
      await kinds(buildZip([{ name: 'data.pkl', localName: 'datap.kl', data: benignPickle }])),
    ).toContain('header-mismatch');
    expect(await kinds(buildZip([{ name: 'data.pkl', localMethod: 8, data: benignPickle }]))).toContain(
      'header-mismatch',
    );
  });

  it('flags a central size that disagrees with the local header', async () => {
    expect(await kinds(buildZip([{ name: 'a', data: 'abcdef', centralSize: 3 }]))).toContain(
      'header-mismatch',
    );
  });

  it('flags duplicate names, case-only differences and escaping paths', async () => {
    expect(
      await kinds(
        buildZip([
          { name: 'data.pkl', data: 'a' },
          { name: 'data.pkl', data: 'b' },
        ]),
      ),
    ).toContain('duplicate-name');
    expect(
      await kinds(
        buildZip([
          { name: 'Data.pkl', data: 'a' },
          { name: 'data.pkl', data: 'b' },
        ]),
      ),
    ).toContain('case-collision');
    expect(await kinds(buildZip([{ name: '../evil.pkl', data: 'a' }]))).toContain('unsafe-path');
    expect(await kinds(buildZip([{ name: '/etc/evil', data: 'a' }]))).toContain('unsafe-path');
  });

  it('flags two central entries sharing one local header as overlapping', async () => {
    expect(
      await kinds(
        buildZip([{ name: 'a.pkl', data: benignPickle }], { aliasOf: [{ index: 0, name: 'b.pkl' }] }),
      ),
    ).toContain('overlap');
  });

  it('flags bytes before, between and after the entries, and still reads like python when prepended', async () => {
    const pre = await open(
      buildZip([{ name: 'a.pkl', data: benignPickle }], { prepend: new Uint8Array(10).fill(0x41) }),
    );
    expect(pre.issues.map((i) => i.kind)).toContain('unaccounted-data');
    expect(pre.prefix).toBe(10);
    expect((await readEntry(pre, pre.entries[0])).bytes).toEqual(benignPickle);
    expect(
      await kinds(
        buildZip([
          { name: 'a', data: 'x', gapAfter: new Uint8Array(100) },
          { name: 'b', data: 'y' },
        ]),
      ),
    ).toContain('unaccounted-data');
    expect(await kinds(buildZip([{ name: 'a', data: 'x' }], { append: new Uint8Array(5) }))).toContain(
      'unaccounted-data',
    );
  });

  it('flags an end record hidden in the comment and a wrong entry count', async () => {
    const inner = buildZip([{ name: 'a', data: 'x' }]);
    const fakeEnd = inner.subarray(inner.length - 22);
    expect(await kinds(buildZip([{ name: 'a', data: 'x' }], { comment: fakeEnd }))).toContain(
      'ambiguous-end',
    );
    expect(
      await kinds(
        buildZip(
          [
            { name: 'a', data: 'x' },
            { name: 'b', data: 'y' },
          ],
          { declaredCount: 1 },
        ),
      ),
    ).toContain('header-mismatch');
  });

  it('reads zip64 records', async () => {
    const z = await open(buildZip([{ name: 'a.pkl', data: benignPickle }], { zip64: true }));
    expect(z.zip64).toBe(true);
    expect(z.issues.map((i) => i.kind)).toEqual(['zip64']);
    expect((await readEntry(z, z.entries[0])).bytes).toEqual(benignPickle);
  });

  it('reads an entry whose encryption flag is set on plain data, and refuses real encryption', async () => {
    const plain = await open(buildZip([{ name: 'a.pkl', data: benignPickle, flags: 1 }]));
    const r = await readEntry(plain, plain.entries[0]);
    expect(r.plaintextDespiteFlag).toBe(true);
    expect(r.bytes).toEqual(benignPickle);
    // Traditional encryption: a 12-byte header makes the stored size differ from the plain size.
    const enc = await open(
      buildZip([{ name: 'a.txt', data: new Uint8Array(27).fill(7), flags: 1, centralSize: 15 }]),
    );
    await expect(readEntry(enc, enc.entries[0])).rejects.toMatchObject({ reason: 'encrypted' });
  });

  it('refuses unknown compression methods, reports CRC mismatches and bounds inflation', async () => {
    const m = await open(buildZip([{ name: 'a', data: 'abc', rawMethod: 12 }]));
    await expect(readEntry(m, m.entries[0])).rejects.toBeInstanceOf(ZipReadError);
    const c = await open(buildZip([{ name: 'a', data: 'abc', crc: 1234 }]));
    expect((await readEntry(c, c.entries[0])).crcMatches).toBe(false);
    const bomb = await open(buildZip([{ name: 'a', data: new Uint8Array(1 << 20), method: 8 }]));
    await expect(readEntry(bomb, bomb.entries[0], 1000)).rejects.toMatchObject({ reason: 'limit' });
  });

  it('never throws on garbage and reports it as fatal', async () => {
    expect((await open(new Uint8Array(100).fill(0x50))).fatal).toBeTruthy();
    expect((await open(new Uint8Array(3))).fatal).toBeTruthy();
  });

  it('finds nothing to report in real PyTorch and numpy archives beyond zip64 records', async () => {
    const dir = join(FIXTURES, 'real');
    const files = readdirSync(dir).filter(
      (f) => /\.(npz)$/.test(f) || /state_dict_dtypes|torchscript_traced|training_checkpoint/.test(f),
    );
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const src = SyncFileSource.open(join(dir, f));
      const z = await openZip(src);
      await src.close();
      expect(
        z.issues.filter((i) => i.kind !== 'zip64'),
        f,
      ).toEqual([]);
      expect(z.entries.length, f).toBeGreaterThan(1);
    }
  });
});
