import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  calleeName,
  dictGet,
  isCall,
  isDict,
  isSeq,
  type PyCall,
  type PyValue,
} from '../../../src/artifacts/pickle/value.js';
import { analyze, blocks, FIXTURES, fixture } from './helpers.js';

const files = readdirSync(join(FIXTURES, 'benign')).filter((f) => f.endsWith('.pkl'));

describe('benign pickles made by the real libraries pass', () => {
  it('has fixtures for every library', () => {
    for (const kind of ['containers', 'numpy', 'sklearn', 'pandas', 'torch'])
      expect(files.some((f) => f.startsWith(kind))).toBe(true);
  });
  for (const f of files) {
    it(f, () => {
      const r = analyze(fixture('benign', f));
      expect(r.findings.filter((x) => x.severity !== 'info')).toEqual([]);
      expect(r.complete).toBe(true);
      expect(blocks(r)).toBe(false);
    });
  }
});

/** What a converter (safetensors) needs from a torch checkpoint, without running it. */
describe('symbolic value of a torch state dict', () => {
  it('exposes every tensor as a _rebuild_tensor_v2 call with its storage, offset, size and stride', () => {
    const r = analyze(fixture('benign', 'torch-state-dict.pkl'));
    const sd = r.value as PyCall;
    expect(calleeName(sd)).toBe('collections.OrderedDict');
    const keys = sd.setKeys as string[];
    expect(keys).toContain('1.running_mean');
    expect(keys).toContain('4.weight');
    const w = (sd.setValues as PyValue[])[keys.indexOf('4.weight')] as PyCall;
    expect(calleeName(w)).toBe('torch._utils._rebuild_tensor_v2');
    const [storage, offset, size, stride] = (w.args as { items: PyValue[] }).items;
    expect(storage).toMatchObject({ kind: 'persistent' });
    const pid = (storage as { pid: PyValue }).pid;
    expect(isSeq(pid, 'tuple') && pid.items[0]).toBe('storage');
    expect(
      isSeq(pid, 'tuple') &&
        calleeName({ kind: 'call', fn: pid.items[1], args: null, via: 'REDUCE', offset: 0 }),
    ).toBe('torch.FloatStorage');
    expect(offset).toBe(0);
    expect((size as { items: number[] }).items).toEqual([2, 2]);
    expect((stride as { items: number[] }).items).toEqual([2, 1]);
    expect(r.persistentIds.length).toBe(keys.length);
  });

  it('keeps optimizer state and scheduler state as plain data', () => {
    const r = analyze(fixture('benign', 'torch-checkpoint.pkl'));
    expect(isDict(r.value as PyValue)).toBe(true);
    const d = r.value as import('../../../src/artifacts/pickle/value.js').PyDict;
    expect(dictGet(d, 'epoch')).toBe(3);
    const sched = dictGet(d, 'scheduler');
    expect(isDict(sched) && dictGet(sched, 'step_size')).toBe(2);
    const opt = dictGet(d, 'optimizer');
    expect(isDict(opt)).toBe(true);
    const groups = isDict(opt) ? dictGet(opt, 'param_groups') : undefined;
    expect(isSeq(groups, 'list') && isDict(groups.items[0]) && dictGet(groups.items[0], 'lr')).toEqual({
      kind: 'float',
      value: 0.001,
    });
  });

  it('marks quantized and sparse rebuilds', () => {
    const r = analyze(fixture('benign', 'torch-quantized-sparse.pkl'));
    const names = new Set(r.globals.map((g) => `${g.module}.${g.name}`));
    for (const n of [
      'torch._utils._rebuild_qtensor',
      'torch._utils._rebuild_sparse_tensor',
      'torch.BFloat16Storage',
      'torch.HalfStorage',
    ])
      expect(names).toContain(n);
    const d = r.value as import('../../../src/artifacts/pickle/value.js').PyDict;
    const q = dictGet(d, 'q');
    expect(isCall(q) && calleeName(q)).toBe('torch._utils._rebuild_qtensor');
  });
});
