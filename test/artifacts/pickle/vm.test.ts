import { describe, expect, it } from 'vitest';
import { OPCODES } from '../../../src/artifacts/pickle/opcodes.js';
import type { PyCall, PyDict, PySeq, PyValue } from '../../../src/artifacts/pickle/value.js';
import { runVm } from '../../../src/artifacts/pickle/vm.js';
import { op, pk } from './ops.js';

const run = (...parts: Array<number[] | readonly number[]>) => runVm(pk(...parts));
const items = (v: PyValue | undefined) => (v as PySeq).items;

describe('opcode table', () => {
  it('knows every opcode of protocols 0 to 5 and nothing else', () => {
    const known = OPCODES.filter(Boolean);
    expect(known.length).toBe(68);
    for (const name of [
      'FRAME',
      'BYTEARRAY8',
      'NEXT_BUFFER',
      'READONLY_BUFFER',
      'EXT4',
      'BINPERSID',
      'NEWOBJ_EX',
      'POP_MARK',
    ])
      expect(known.some((o) => o?.name === name)).toBe(true);
    expect(OPCODES[0x00]).toBeUndefined();
    expect(OPCODES[0x99]).toBeUndefined();
  });
});

describe('symbolic values', () => {
  it('builds containers, numbers, text and bytes without executing anything', () => {
    const r = run(
      op.PROTO(4),
      op.EMPTY_DICT,
      op.MARK,
      op.str('t'),
      op.int(1),
      op.int(70000),
      op.TUPLE2,
      op.str('l'),
      op.EMPTY_LIST,
      op.int(2),
      op.APPEND,
      op.str('b'),
      op.bytes([1, 2, 3]),
      op.str('f'),
      op.float(1.5),
      op.str('n'),
      op.NONE,
      op.SETITEMS,
      op.STOP,
    );
    expect(r.complete).toBe(true);
    const d = r.value as PyDict;
    expect(d.kind).toBe('dict');
    expect(d.keys).toEqual(['t', 'l', 'b', 'f', 'n']);
    expect(items(d.values[0])).toEqual([1, 70000]);
    expect(items(d.values[1])).toEqual([2]);
    expect(Array.from((d.values[2] as { data: Uint8Array }).data)).toEqual([1, 2, 3]);
    expect(d.values[3]).toEqual({ kind: 'float', value: 1.5 });
    expect(d.values[4]).toBeNull();
  });

  it('reads protocol 0 text forms like CPython (I01 is True, octal INT, L suffix, quoted escapes)', () => {
    const r = run(
      op.MARK,
      op.text("I01\nI00\nI010\nL12345678901234567890L\nF2.5\nS'a\\x41\\n'\nVsnow\\u2603\n"),
      op.LIST,
      op.STOP,
    );
    expect(items(r.value)).toEqual([
      true,
      false,
      8,
      12345678901234567890n,
      { kind: 'float', value: 2.5 },
      'aA\n',
      'snow☃',
    ]);
  });

  it('decodes LONG1 two-complement integers', () => {
    const r = run(
      op.PROTO(2),
      op.MARK,
      [0x8a, 1, 0xff],
      [0x8a, 2, 0x00, 0x80],
      [0x8a, 3, 0x00, 0x80, 0x00],
      [0x8a, 0],
      op.LIST,
      op.STOP,
    );
    expect(items(r.value)).toEqual([-1, -32768, 32768, 0]);
  });
});

describe('marks, stack and memo follow the C unpickler', () => {
  it('POP right after MARK removes the mark, not a value', () => {
    const r = run(op.int(7), op.MARK, op.POP, op.STOP);
    expect(r.complete).toBe(true);
    expect(r.value).toBe(7);
  });

  it('cannot pop below the innermost MARK (stack underflow)', () => {
    const r = run(op.global('collections', 'OrderedDict'), op.MARK, op.EMPTY_TUPLE, op.REDUCE, op.STOP);
    expect(r.complete).toBe(false);
    expect(r.error?.message).toContain('stack underflow');
  });

  it('reports a missing MARK', () => {
    const r = run(op.int(1), op.TUPLE, op.STOP);
    expect(r.error?.message).toBe('could not find MARK');
  });

  it('MEMOIZE stores at the number of memo entries, not after the highest index', () => {
    // PUT 5 makes one entry; MEMOIZE then stores at index 1, so GET 1 finds the second value.
    const r = run(op.PROTO(4), op.str('a'), op.put(5), op.str('b'), op.MEMOIZE, op.get(1), op.STOP);
    expect(r.value).toBe('b');
    const miss = run(op.PROTO(4), op.str('a'), op.put(5), op.str('b'), op.MEMOIZE, op.get(2), op.STOP);
    expect(miss.error?.message).toBe('Memo value not found at index 2');
  });

  it('POP_MARK discards everything above the mark', () => {
    const r = run(op.int(1), op.MARK, op.int(2), op.int(3), op.POP_MARK, op.STOP);
    expect(r.value).toBe(1);
  });

  it('STOP returns the top value and leaves the rest (CPython ignores it)', () => {
    const r = run(op.int(1), op.int(2), op.STOP, op.int(3));
    expect(r.value).toBe(2);
    expect(r.end).toBe(5);
    expect(r.leftover).toBe(1);
  });

  it('stops at the first STOP: later pickles in the stream are left to the caller', () => {
    const bytes = pk(op.PROTO(2), op.NONE, op.STOP, op.PROTO(2), op.global('os', 'system'), op.STOP);
    const first = runVm(bytes);
    expect(first.end).toBe(4);
    expect(first.globals.size).toBe(0);
    const second = runVm(bytes, { start: first.end });
    expect([...second.globals.keys()]).toEqual(['os.system']);
  });
});

describe('globals and calls', () => {
  it('feeds STACK_GLOBAL from the memo and records the use', () => {
    const r = run(
      op.PROTO(4),
      op.str('collections'),
      op.MEMOIZE,
      op.POP,
      op.str('OrderedDict'),
      op.MEMOIZE,
      op.POP,
      op.get(0),
      op.get(1),
      op.STACK_GLOBAL,
      op.EMPTY_TUPLE,
      op.REDUCE,
      op.STOP,
    );
    const g = r.globals.get('collections.OrderedDict');
    expect(g?.importedBy).toBe('STACK_GLOBAL');
    expect(g?.uses).toBe(1); // REDUCE
    expect((r.value as PyCall).via).toBe('REDUCE');
  });

  it('STACK_GLOBAL requires two str operands', () => {
    const r = run(op.PROTO(4), op.bytes([0x6f, 0x73]), op.str('system'), op.STACK_GLOBAL, op.STOP);
    expect(r.error?.message).toBe('STACK_GLOBAL requires str');
  });

  it('maps Python 2 names only below protocol 3 (fix_imports)', () => {
    const p2 = run(op.PROTO(2), op.global('copy_reg', '_reconstructor'), op.STOP);
    expect([...p2.globals.keys()]).toEqual(['copyreg._reconstructor']);
    const p0 = run(op.global('__builtin__', 'xrange'), op.STOP);
    expect([...p0.globals.keys()]).toEqual(['builtins.range']);
    const p3 = run(op.PROTO(3), op.global('copy_reg', '_reconstructor'), op.STOP);
    expect([...p3.globals.keys()]).toEqual(['copy_reg._reconstructor']);
  });

  it('records INST, OBJ, NEWOBJ and NEWOBJ_EX instantiations with their arguments', () => {
    const inst = run(op.MARK, op.int(1), op.inst('m', 'C'), op.STOP);
    expect((inst.value as PyCall).via).toBe('INST');
    expect(items((inst.value as PyCall).args)).toEqual([1]);
    const obj = run(op.MARK, op.global('m', 'C'), op.int(2), op.OBJ, op.STOP);
    expect((obj.value as PyCall).via).toBe('OBJ');
    const ex = run(op.PROTO(4), op.global('m', 'C'), op.EMPTY_TUPLE, op.EMPTY_DICT, op.NEWOBJ_EX, op.STOP);
    expect((ex.value as PyCall).via).toBe('NEWOBJ_EX');
    expect(ex.globals.get('m.C')?.uses).toBe(32);
  });

  it('NEWOBJ needs a tuple of arguments', () => {
    const r = run(op.PROTO(2), op.global('m', 'C'), op.EMPTY_LIST, op.NEWOBJ, op.STOP);
    expect(r.error?.message).toContain('args argument must be a tuple');
  });

  it('BUILD on an object records its state; on an imported name it is a mutation', () => {
    const ok = run(
      op.PROTO(2),
      op.global('m', 'C'),
      op.EMPTY_TUPLE,
      op.NEWOBJ,
      op.EMPTY_DICT,
      op.BUILD,
      op.STOP,
    );
    expect((ok.value as PyCall).state).toMatchObject({ kind: 'dict' });
    expect(ok.mutations).toEqual([]);
    const bad = run(op.PROTO(2), op.global('m', 'C'), op.EMPTY_DICT, op.BUILD, op.STOP);
    expect(bad.mutations.map((m) => `${m.op} ${m.target.qualified}`)).toEqual(['BUILD m.C']);
  });

  it('resolves EXT codes to an opaque name and rejects code 0', () => {
    const r = run(op.PROTO(2), op.ext1(7), op.STOP);
    expect([...r.globals.values()][0].global.ext).toBe(7);
    expect(run(op.PROTO(2), op.ext1(0), op.STOP).error?.message).toBe('EXT specifies code <= 0');
  });

  it('records persistent ids (torch storages)', () => {
    const r = run(
      op.PROTO(2),
      op.MARK,
      op.str('storage'),
      op.global('torch', 'FloatStorage'),
      op.str('0'),
      op.str('cpu'),
      op.int(6),
      op.TUPLE,
      op.BINPERSID,
      op.STOP,
    );
    expect(r.persistentIds).toHaveLength(1);
    expect(items(r.persistentIds[0])[0]).toBe('storage');
    expect((r.value as { kind: string }).kind).toBe('persistent');
  });
});

describe('torch persistent ids', () => {
  it("resolves ('module', cls, ...) to the class, as torch's legacy loader does", () => {
    const r = run(
      op.PROTO(2),
      op.MARK,
      op.str('module'),
      op.global('torch.nn.modules.linear', 'Linear'),
      op.str('linear.py'),
      op.str('class Linear: ...'),
      op.TUPLE,
      op.BINPERSID,
      op.EMPTY_TUPLE,
      op.NEWOBJ,
      op.STOP,
    );
    expect(r.complete).toBe(true);
    expect((r.value as PyCall).fn).toMatchObject({
      kind: 'global',
      qualified: 'torch.nn.modules.linear.Linear',
    });
    expect(r.globals.get('torch.nn.modules.linear.Linear')?.uses).toBe(16); // NEWOBJ
  });
});

describe('fail closed', () => {
  it('rejects truncation, unknown opcodes, bad protocols and out-of-band buffers', () => {
    expect(run(op.PROTO(2), op.NONE).error?.message).toBe('pickle data was truncated');
    expect(run([0x00]).error?.message).toContain('invalid load key');
    expect(run(op.PROTO(6), op.NONE, op.STOP).error?.message).toBe('unsupported pickle protocol: 6');
    expect(run(op.PROTO(5), op.NEXT_BUFFER, op.STOP).error?.message).toContain('out-of-band');
    expect(run(op.text('cos\nsys')).error?.message).toBe('pickle data was truncated');
  });

  it('a FRAME must have all its bytes', () => {
    expect(run(op.PROTO(4), op.frame(100), op.NONE, op.STOP).error?.message).toBe(
      'pickle data was truncated',
    );
    expect(run(op.PROTO(4), op.frame(2), op.NONE, op.STOP).complete).toBe(true);
  });

  it('stops at limits with a limit error', () => {
    const many = pk(...Array.from({ length: 50 }, () => op.NONE), op.STOP);
    expect(runVm(many, { limits: { maxOpcodes: 10 } }).error?.kind).toBe('limit');
    const deep = pk(op.PROTO(2), op.NONE, ...Array.from({ length: 20 }, () => op.TUPLE1), op.STOP);
    expect(runVm(deep, { limits: { maxNesting: 10 } }).error?.message).toContain('nested deeper');
    expect(runVm(deep).complete).toBe(true);
    const memo = pk(op.PROTO(2), op.NONE, op.put(0), op.put(1), op.put(2), op.STOP);
    expect(runVm(memo, { limits: { maxMemo: 2 } }).error?.kind).toBe('limit');
  });

  it('never throws on arbitrary bytes and always ends', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(1 + (rnd() % 64)).map(() => rnd() & 0xff);
      const r = runVm(b);
      expect(r.complete || r.error !== undefined).toBe(true);
    }
  });
});

describe('text decoding', () => {
  it('accepts UTF-8 with encoded surrogates (surrogatepass) and rejects invalid UTF-8', () => {
    const sur = [0xed, 0xa0, 0x80]; // U+D800 encoded
    const ok = run(op.PROTO(4), [0x8c, 4, 0x61, ...sur], op.STOP);
    expect(ok.value).toBe('a\ud800');
    expect(run(op.PROTO(4), [0x8c, 2, 0xc3, 0x28], op.STOP).error?.message).toContain("can't decode");
  });

  it('rejects hostile float and int lines in linear time', () => {
    const digits = '1'.repeat(200_000);
    const t = performance.now();
    expect(run(op.text(`F${digits}x\n.`)).error?.message).toBe('could not convert string to float');
    expect(run(op.text(`I${digits}x\n.`)).error?.message).toBe('could not convert string to int');
    expect(run(op.text(`L${digits}\n.`)).error?.message).toBe('could not convert string to int'); // over 4300 digits
    expect(performance.now() - t).toBeLessThan(2000);
  });
});
