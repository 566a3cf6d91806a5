/**
 * Every opcode of pickle protocols 0 to 5 (CPython Lib/pickle.py, Modules/_pickle.c), with the kind of inline
 * argument it reads. The VM switches on the numeric codes below; the table serves names, docs and tests.
 */

export const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  FLOAT: 0x46, // F
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  PERSID: 0x50, // P
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  EMPTY_DICT: 0x7d, // }
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  INST: 0x69, // i
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  EMPTY_LIST: 0x5d, // ]
  OBJ: 0x6f, // o
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  SETITEMS: 0x75, // u
  BINFLOAT: 0x47, // G
  // protocol 2
  PROTO: 0x80,
  NEWOBJ: 0x81,
  EXT1: 0x82,
  EXT2: 0x83,
  EXT4: 0x84,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  // protocol 3
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  // protocol 4
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  NEWOBJ_EX: 0x92,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
  // protocol 5
  BYTEARRAY8: 0x96,
  NEXT_BUFFER: 0x97,
  READONLY_BUFFER: 0x98,
} as const;

export type OpName = keyof typeof OP;

/** Inline argument read after the opcode byte. */
export type ArgKind =
  | 'none'
  | 'u1'
  | 'u2'
  | 'i4'
  | 'u4'
  | 'u8'
  | 'f8'
  | 'line' // one newline-terminated line
  | 'line2' // two lines (GLOBAL, INST)
  | 'long1' // 1-byte length + bytes
  | 'long4' // 4-byte signed length + bytes
  | 'str1' // 1-byte length + bytes
  | 'str4' // 4-byte length + bytes
  | 'str8'; // 8-byte length + bytes

export interface OpcodeInfo {
  code: number;
  name: OpName;
  /** Protocol that introduced it. */
  proto: number;
  arg: ArgKind;
}

const ARGS: Record<OpName, [number, ArgKind]> = {
  MARK: [0, 'none'],
  STOP: [0, 'none'],
  POP: [0, 'none'],
  POP_MARK: [1, 'none'],
  DUP: [0, 'none'],
  FLOAT: [0, 'line'],
  INT: [0, 'line'],
  BININT: [1, 'i4'],
  BININT1: [1, 'u1'],
  LONG: [0, 'line'],
  BININT2: [1, 'u2'],
  NONE: [0, 'none'],
  PERSID: [0, 'line'],
  BINPERSID: [1, 'none'],
  REDUCE: [0, 'none'],
  STRING: [0, 'line'],
  BINSTRING: [1, 'str4'],
  SHORT_BINSTRING: [1, 'str1'],
  UNICODE: [0, 'line'],
  BINUNICODE: [1, 'str4'],
  APPEND: [0, 'none'],
  BUILD: [0, 'none'],
  GLOBAL: [0, 'line2'],
  DICT: [0, 'none'],
  EMPTY_DICT: [1, 'none'],
  APPENDS: [1, 'none'],
  GET: [0, 'line'],
  BINGET: [1, 'u1'],
  INST: [0, 'line2'],
  LONG_BINGET: [1, 'u4'],
  LIST: [0, 'none'],
  EMPTY_LIST: [1, 'none'],
  OBJ: [1, 'none'],
  PUT: [0, 'line'],
  BINPUT: [1, 'u1'],
  LONG_BINPUT: [1, 'u4'],
  SETITEM: [0, 'none'],
  TUPLE: [0, 'none'],
  EMPTY_TUPLE: [1, 'none'],
  SETITEMS: [1, 'none'],
  BINFLOAT: [1, 'f8'],
  PROTO: [2, 'u1'],
  NEWOBJ: [2, 'none'],
  EXT1: [2, 'u1'],
  EXT2: [2, 'u2'],
  EXT4: [2, 'i4'],
  TUPLE1: [2, 'none'],
  TUPLE2: [2, 'none'],
  TUPLE3: [2, 'none'],
  NEWTRUE: [2, 'none'],
  NEWFALSE: [2, 'none'],
  LONG1: [2, 'long1'],
  LONG4: [2, 'long4'],
  BINBYTES: [3, 'str4'],
  SHORT_BINBYTES: [3, 'str1'],
  SHORT_BINUNICODE: [4, 'str1'],
  BINUNICODE8: [4, 'str8'],
  BINBYTES8: [4, 'str8'],
  EMPTY_SET: [4, 'none'],
  ADDITEMS: [4, 'none'],
  FROZENSET: [4, 'none'],
  NEWOBJ_EX: [4, 'none'],
  STACK_GLOBAL: [4, 'none'],
  MEMOIZE: [4, 'none'],
  FRAME: [4, 'u8'],
  BYTEARRAY8: [5, 'str8'],
  NEXT_BUFFER: [5, 'none'],
  READONLY_BUFFER: [5, 'none'],
};

/** Opcode table indexed by byte value; undefined for bytes that are not opcodes. */
export const OPCODES: ReadonlyArray<OpcodeInfo | undefined> = (() => {
  const t: Array<OpcodeInfo | undefined> = new Array(256).fill(undefined);
  for (const name of Object.keys(OP) as OpName[]) {
    const [proto, arg] = ARGS[name];
    t[OP[name]] = { code: OP[name], name, proto, arg };
  }
  return t;
})();

export const HIGHEST_PROTOCOL = 5;

export function opName(code: number): string {
  return OPCODES[code]?.name ?? `0x${code.toString(16).padStart(2, '0')}`;
}
