/**
 * Attack classes beyond the public corpus that the scanner's containers and orchestration must catch by
 * design. Every file is built opcode by opcode / byte by byte here; none is ever loaded.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/artifacts/scan.js';
import type { FileResult } from '../../src/report/types.js';
import { tempDir } from '../helpers/tmp.js';
import { benignPickle, bytes, callPickle0, callPickle2, orderedDictPickle } from './helpers/pickles.js';
import { buildZip } from './helpers/zip-builder.js';

const dir = tempDir('antidote-attacks-');
const payload = () => callPickle2('posix', 'system', 'id');

async function scanOne(name: string, data: Uint8Array): Promise<FileResult> {
  const p = join(dir, name);
  writeFileSync(p, data);
  const r = await scanPaths([p], { failOn: 'high', allow: [] });
  expect(r.results).toHaveLength(1);
  return r.results[0];
}

const rules = (r: FileResult) =>
  r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => f.rule);
const blockedForGlobal = (r: FileResult) => {
  expect(r.verdict).toBe('block');
  expect(rules(r).some((x) => x.startsWith('pickle/'))).toBe(true);
};

/** A tar member: 512-byte ustar header + data padded to 512. */
function tarMember(name: string, data: Uint8Array): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number) => h.set(new TextEncoder().encode(s), off);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  h[156] = 0x30;
  put('ustar\0', 257);
  put('00', 263);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padded = new Uint8Array(Math.ceil(data.length / 512) * 512);
  padded.set(data);
  return bytes(h, padded);
}

describe('attack classes the containers must catch', () => {
  it('a pickle under a misleading extension (or none) is detected by content', async () => {
    for (const name of ['weights.txt', 'image.png', 'README', 'config.json']) {
      const r = await scanOne(name, payload());
      expect(r.format, name).toBe('pickle');
      blockedForGlobal(r);
    }
    const r0 = await scanOne('notes.md', callPickle0('os', 'system', 'id'));
    expect(r0.format).toBe('pickle');
    blockedForGlobal(r0);
  });

  it('a payload followed by garbage (no STOP) still blocks: CPython runs opcodes as it reads them', async () => {
    const p = payload();
    blockedForGlobal(await scanOne('broken.dat', bytes(p.subarray(0, p.length - 1), 0xff, 0xfe)));
  });

  it('a second pickle after the first STOP in a raw pickle file', async () => {
    blockedForGlobal(await scanOne('two.pkl', bytes(benignPickle, payload())));
  });

  it('a second pickle in a PyTorch zip, under any name or none', async () => {
    for (const name of ['archive/data/0', 'archive/extra/x.pkl', 'archive/.data/serialization_id']) {
      const z = buildZip([
        { name: 'archive/data.pkl', data: orderedDictPickle },
        { name, data: payload() },
        { name: 'archive/version', data: '3\n' },
      ]);
      const r = await scanOne('model.pt', z);
      expect(r.format).toBe('pytorch-zip');
      blockedForGlobal(r);
      expect(r.findings.some((f) => f.location?.entry === name)).toBe(true);
    }
  });

  it('a protocol 0 (text) pickle hidden in an unnamed entry of a PyTorch zip', async () => {
    const z = buildZip([
      { name: 'archive/data.pkl', data: orderedDictPickle },
      { name: 'archive/data/3', data: bytes('N0', callPickle0('os', 'system', 'id')) },
    ]);
    const r = await scanOne('text-in-zip.pt', z);
    blockedForGlobal(r);
    expect(r.findings.some((f) => f.location?.entry === 'archive/data/3')).toBe(true);
  });

  it('a malicious data.pkl in a deflated entry and behind a data descriptor', async () => {
    blockedForGlobal(
      await scanOne('d.pt', buildZip([{ name: 'a/data.pkl', data: payload(), method: 8, descriptor: true }])),
    );
  });

  it("the legacy format's third (and fifth) pickle", async () => {
    const magic = bytes(
      0x80,
      2,
      0x8a,
      0x0a,
      [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19],
      0x2e,
    );
    const proto = bytes(0x80, 2, 0x4d, [0xe9, 0x03], 0x2e);
    const empty = bytes(0x80, 2, 0x5d, 0x2e);
    const r3 = await scanOne(
      'legacy3.pt',
      bytes(magic, proto, payload(), benignPickle, empty, new Uint8Array(64)),
    );
    expect(r3.format).toBe('pytorch-legacy');
    blockedForGlobal(r3);
    const r5 = await scanOne(
      'legacy5.pt',
      bytes(magic, proto, benignPickle, benignPickle, payload(), new Uint8Array(64)),
    );
    blockedForGlobal(r5);
    // storage bytes after the fifth pickle are never read as pickles, even when they look like one
    const ok = await scanOne(
      'legacy-ok.pt',
      bytes(magic, proto, benignPickle, benignPickle, empty, 0x80, 0x02, 0x00, 0x01),
    );
    expect(ok.verdict).toBe('pass');
    // fewer than five pickles: torch.load would fail, the scanner cannot vouch for it
    expect((await scanOne('legacy-short.pt', bytes(magic, proto, benignPickle))).verdict).toBe('block');
  });

  it('the old tar form of a legacy checkpoint, payload in its pickle member', async () => {
    const t = bytes(
      tarMember('sys_info', benignPickle),
      tarMember('pickle', payload()),
      tarMember('storages', bytes(0x80, 2, 0x4b, 0, 0x2e)),
      tarMember('tensors', bytes(0x80, 2, 0x4b, 0, 0x2e)),
      new Uint8Array(1024),
    );
    const r = await scanOne('old.tar', t);
    expect(r.format).toBe('pytorch-legacy-tar');
    blockedForGlobal(r);
  });

  it('a malicious pickle inside a plain tar, a gzip stream, a zip inside a zip', async () => {
    blockedForGlobal(
      await scanOne('bundle.tar', bytes(tarMember('model.bin', payload()), new Uint8Array(1024))),
    );
    blockedForGlobal(await scanOne('model.gz', gzipSync(payload())));
    const inner = buildZip([{ name: 'data.pkl', data: payload() }]);
    blockedForGlobal(await scanOne('outer.zip', buildZip([{ name: 'inner.zip', data: inner }])));
  });

  it('object-dtype .npy and .npz members run their pickle', async () => {
    const header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }";
    const pad = 64 - ((10 + header.length + 1) % 64);
    const npy = bytes(
      0x93,
      'NUMPY',
      1,
      0,
      [(header.length + pad + 1) & 0xff, 0],
      header,
      ' '.repeat(pad),
      '\n',
      payload(),
    );
    const r = await scanOne('arr.npy', npy);
    expect(r.format).toBe('npy');
    blockedForGlobal(r);
    blockedForGlobal(await scanOne('arrs.npz', buildZip([{ name: 'a.npy', data: npy, method: 8 }])));
  });

  it('a TorchScript archive whose pickle names a class its code does not define', async () => {
    const code = 'class Net(Module):\n  __parameters__ = []\n';
    const z = buildZip([
      { name: 'm/code/__torch__/net.py', data: code },
      { name: 'm/data.pkl', data: bytes(0x80, 2, 'c__torch__.net\nEvil\n', 0x29, 0x81, 0x2e) },
      { name: 'm/constants.pkl', data: bytes(0x80, 2, 0x29, 0x2e) },
    ]);
    const r = await scanOne('ts.pt', z);
    expect(r.format).toBe('torchscript');
    blockedForGlobal(r);
    const good = buildZip([
      { name: 'm/code/__torch__/net.py', data: code },
      { name: 'm/data.pkl', data: bytes(0x80, 2, 'c__torch__.net\nNet\n', 0x29, 0x81, 0x2e) },
      { name: 'm/constants.pkl', data: bytes(0x80, 2, 0x29, 0x2e) },
    ]);
    const ok = await scanOne('ts-ok.pt', good);
    expect(rules(ok).filter((x) => x.startsWith('pickle/'))).toEqual([]);
  });

  it('archives that cannot be opened block as unanalysable', async () => {
    const un = (r: FileResult) => {
      expect(r.verdict).toBe('block');
      expect(rules(r)).toContain('scan/unanalysable');
    };
    un(await scanOne('x.7z', bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4, new Uint8Array(40))));
    un(await scanOne('x.xz', bytes(0xfd, '7zXZ', 0, new Uint8Array(40))));
    un(await scanOne('x.rar', bytes('Rar!', 0x1a, 0x07, 0, new Uint8Array(40))));
    un(
      await scanOne(
        'enc.zip',
        buildZip([{ name: 'data.pkl', data: new Uint8Array(40).fill(9), flags: 1, centralSize: 28 }]),
      ),
    );
    un(await scanOne('bz.zip', buildZip([{ name: 'data.pkl', data: 'BZh9', rawMethod: 12 }])));
    un(await scanOne('model.safetensors.pt', bytes('not a model at all')));
  });

  it('a Git LFS pointer in place of a model blocks as never fetched; elsewhere it is listed and passes', async () => {
    const oid = '4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize 498000000\n`;
    for (const name of ['model.safetensors', 'pytorch_model.bin', 'model.onnx']) {
      const r = await scanOne(name, bytes(pointer));
      expect(r.verdict).toBe('block');
      expect(r.format).toBe('lfs-pointer');
      const f = r.findings.find((x) => x.rule === 'scan/lfs-pointer');
      expect(f?.message).toContain('git lfs pull');
      expect(f?.evidence).toMatchObject({ oid: `sha256:${oid}`, size: 498000000 });
    }
    // An image tracked by LFS is no model: listed as a pointer, not blocked.
    const png = await scanOne('sample.png', bytes(pointer));
    expect(png.verdict).toBe('pass');
    expect(png.findings[0].message).toContain('Git LFS pointer');
    // Pointer-shaped text that breaks the format (another version line, no size) is not one.
    const fake = await scanOne('fake.safetensors', bytes(pointer.replace('spec/v1', 'spec/v9')));
    expect(rules(fake)).toEqual(['scan/unanalysable']);
    const noSize = await scanOne(
      'nosize.bin',
      bytes(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\n`),
    );
    expect(rules(noSize)).toEqual(['scan/unanalysable']);
  });

  it('a polyglot: pickle at the start, zip at the end, is scanned as the pickle the loaders read', async () => {
    const z = buildZip([{ name: 'data.pkl', data: benignPickle }], { prepend: payload() });
    blockedForGlobal(await scanOne('poly.pt', z));
  });
});
