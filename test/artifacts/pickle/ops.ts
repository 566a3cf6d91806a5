/** A tiny pickle assembler for tests: opcodes by name, arguments encoded as CPython writes them. */
export const op = {
  PROTO: (n: number) => [0x80, n],
  MARK: [0x28],
  STOP: [0x2e],
  POP: [0x30],
  POP_MARK: [0x31],
  DUP: [0x32],
  NONE: [0x4e],
  TRUE: [0x88],
  FALSE: [0x89],
  EMPTY_TUPLE: [0x29],
  EMPTY_LIST: [0x5d],
  EMPTY_DICT: [0x7d],
  EMPTY_SET: [0x8f],
  TUPLE: [0x74],
  TUPLE1: [0x85],
  TUPLE2: [0x86],
  TUPLE3: [0x87],
  LIST: [0x6c],
  DICT: [0x64],
  FROZENSET: [0x91],
  APPEND: [0x61],
  APPENDS: [0x65],
  SETITEM: [0x73],
  SETITEMS: [0x75],
  ADDITEMS: [0x90],
  REDUCE: [0x52],
  BUILD: [0x62],
  NEWOBJ: [0x81],
  NEWOBJ_EX: [0x92],
  OBJ: [0x6f],
  STACK_GLOBAL: [0x93],
  MEMOIZE: [0x94],
  BINPERSID: [0x51],
  NEXT_BUFFER: [0x97],
  READONLY_BUFFER: [0x98],
  int: (n: number) =>
    n >= 0 && n < 256 ? [0x4b, n] : n >= 0 && n < 65536 ? [0x4d, n & 0xff, n >> 8] : [0x4a, ...le32(n)],
  str: (s: string) => {
    const b = [...Buffer.from(s, 'utf8')];
    return b.length < 256 ? [0x8c, b.length, ...b] : [0x58, ...le32(b.length), ...b];
  },
  bytes: (b: ArrayLike<number>) =>
    b.length < 256 ? [0x43, b.length, ...Array.from(b)] : [0x42, ...le32(b.length), ...Array.from(b)],
  global: (mod: string, name: string) => [0x63, ...ascii(`${mod}\n${name}\n`)],
  inst: (mod: string, name: string) => [0x69, ...ascii(`${mod}\n${name}\n`)],
  text: (s: string) => ascii(s),
  put: (i: number) => [0x71, i],
  get: (i: number) => [0x68, i],
  longPut: (i: number) => [0x72, ...le32(i)],
  longGet: (i: number) => [0x6a, ...le32(i)],
  ext1: (code: number) => [0x82, code],
  frame: (n: number) => [0x95, ...le32(n), 0, 0, 0, 0],
  float: (v: number) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return [0x47, ...b];
  },
};

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function ascii(s: string): number[] {
  return [...Buffer.from(s, 'latin1')];
}

/** Concatenate opcode parts into a pickle. */
export function pk(...parts: Array<number[] | readonly number[]>): Uint8Array {
  return Uint8Array.from(parts.flat());
}
