/**
 * Content sniffing: what a file is, from its bytes, never from its name. Hand-written because no library
 * answers "would CPython's unpickler start reading this?" or "which archive wrapper is this?" with the
 * strictness a scanner needs: a sniffer that is stricter than the loader lets a payload pass as `unknown`,
 * so the pickle check here is deliberately lenient about argument syntax (like `_pickle`) and strict only
 * about opcode structure.
 */

/** Bytes of every single-byte-argument-free opcode and of those with fixed/counted arguments. */
enum Arg {
  None = 0,
  Line = 1, // one newline-terminated line (INT, LONG, FLOAT, STRING, UNICODE, PERSID, PUT, GET)
  TwoLines = 2, // GLOBAL, INST
  U1 = 3,
  U2 = 4,
  U4 = 5,
  U8 = 6,
  Len1 = 7, // 1-byte length then data
  Len4 = 8, // 4-byte little-endian length then data
  Len8 = 9,
  Frame = 10,
  Proto = 11,
}

const ARGS = new Int8Array(256).fill(-1);
function def(chars: string, kind: Arg): void {
  for (const ch of chars) ARGS[ch.charCodeAt(0)] = kind;
}
function defb(codes: number[], kind: Arg): void {
  for (const c of codes) ARGS[c] = kind;
}
// Protocol 0/1 opcodes (printable).
def('().0123NRabdelostu}])', Arg.None); // MARK STOP POP POP_MARK DUP NONE REDUCE APPEND BUILD DICT APPENDS LIST OBJ SETITEM TUPLE SETITEMS EMPTY_DICT EMPTY_LIST EMPTY_TUPLE
def('IFLSVPgp', Arg.Line);
def('ci', Arg.TwoLines);
def('KhqU', Arg.U1); // BININT1 BINGET BINPUT; SHORT_BINSTRING handled as Len1 below
def('U', Arg.Len1);
def('M', Arg.U2);
def('Jjr', Arg.U4); // BININT LONG_BINGET LONG_BINPUT
def('G', Arg.U8); // BINFLOAT
def('TX', Arg.Len4); // BINSTRING BINUNICODE
def('Q', Arg.None); // BINPERSID
// Protocol 2+.
defb([0x80], Arg.Proto);
defb([0x81, 0x85, 0x86, 0x87, 0x88, 0x89], Arg.None); // NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE
defb([0x82], Arg.U1); // EXT1
defb([0x83], Arg.U2); // EXT2
defb([0x84], Arg.U4); // EXT4
defb([0x8a], Arg.Len1); // LONG1
defb([0x8b], Arg.Len4); // LONG4
// Protocol 3+.
def('B', Arg.Len4); // BINBYTES
def('C', Arg.Len1); // SHORT_BINBYTES
// Protocol 4+.
defb([0x8c], Arg.Len1); // SHORT_BINUNICODE
defb([0x8d, 0x8e, 0x96], Arg.Len8); // BINUNICODE8 BINBYTES8 BYTEARRAY8
defb([0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98], Arg.None); // EMPTY_SET ADDITEMS FROZENSET NEWOBJ_EX STACK_GLOBAL MEMOIZE NEXT_BUFFER READONLY_BUFFER
defb([0x95], Arg.Frame);

/** True when `b` is an opcode CPython's unpickler knows. */
export function isPickleOpcode(b: number): boolean {
  return ARGS[b] !== -1;
}

const STOP = 0x2e;
const MAX_LINE = 64 * 1024;

export type PickleSniff =
  /** Reached STOP with only well-formed opcodes. */
  | 'pickle'
  /** Well-formed opcodes up to the end of the bytes given (the stream continues past them). */
  | 'pickle-prefix'
  | 'no';

export interface PickleWalk {
  /** How the walk ended. */
  end: 'stop' | 'bytes' | 'invalid';
  /** Well-formed opcodes before the end. */
  opcodes: number;
  /** The well-formed prefix imports a name (GLOBAL, INST, STACK_GLOBAL, EXT*) ... */
  imports: boolean;
  /** It imports a name written out in the stream (GLOBAL or INST with two Python names): never random bytes. */
  namedImports: boolean;
  /** Calls or instantiates something (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX, BUILD). */
  calls: boolean;
  /** Offset of the STOP, when the walk reached one. */
  stopAt?: number;
}

/**
 * Opcodes that push a str, or may (a memo GET): STACK_GLOBAL imports only two str values, and before the
 * stream's first import nothing else can make one. Counted over the whole prefix (not only at the top of the
 * stack: POP, DUP and marks can bring earlier ones back), so the count over-approximates what CPython sees.
 */
const PUSHES_STR = new Uint8Array(256);
for (const op of [0x58, 0x8c, 0x8d, 0x56, 0x53, 0x54, 0x55, 0x67, 0x68, 0x6a]) PUSHES_STR[op] = 1;

/**
 * CPython's own checks on the text argument of a protocol 0 opcode (`line` without its newline): INT and
 * LONG must be integers, FLOAT a float, PUT/GET decimal memo keys, STRING quoted, PERSID ASCII. The
 * unpickler raises on anything else before the opcode acts, so text that breaks these rules stops it.
 */
function lineArgOk(op: number, bytes: Uint8Array, from: number, to: number): boolean {
  if (op === 0x56) return true; // UNICODE: raw-unicode-escape takes any bytes
  let s = '';
  for (let i = from; i < to && i - from < 128; i++) {
    if (bytes[i] > 0x7f) {
      if (op === 0x53) continue; // STRING: decoded later; only its quotes matter here
      return false;
    }
    s += String.fromCharCode(bytes[i]);
  }
  switch (op) {
    case 0x49: // INT
      return /^\s*[+-]?(0[xXoObB])?[0-9a-fA-F_]+\s*$/.test(s);
    case 0x4c: // LONG
      return /^\s*[+-]?(0[xXoObB])?[0-9a-fA-F_]+L?\s*$/.test(s);
    case 0x46: // FLOAT
      return /^\s*[+-]?([0-9_]*\.?[0-9_]+([eE][+-]?[0-9]+)?|[0-9_]+\.|inf(inity)?|nan)\s*$/i.test(s);
    case 0x67: // GET
    case 0x70: // PUT
      return /^\s*[+-]?[0-9_]+\s*$/.test(s);
    case 0x53: {
      // STRING: quoted after trailing whitespace is stripped
      let end = to;
      while (end > from && bytes[end - 1] <= 0x20) end--;
      const q = bytes[from];
      return end - from >= 2 && (q === 0x27 || q === 0x22) && bytes[end - 1] === q;
    }
    default:
      return true; // PERSID: any ASCII
  }
}

/** `bytes[from, to)` is a dotted Python identifier (ASCII, optionally with a trailing CR). */
function isDottedName(bytes: Uint8Array, from: number, to: number): boolean {
  if (to > from && bytes[to - 1] === 0x0d) to--;
  if (to <= from) return false;
  let start = true;
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
    if (alpha) start = false;
    else if (c >= 0x30 && c <= 0x39) {
      if (start) return false;
    } else if (c === 0x2e) {
      if (start) return false;
      start = true;
    } else return false;
  }
  return !start;
}
const CALL_OPS = new Set([0x52, 0x69, 0x6f, 0x81, 0x92, 0x62]);

/**
 * Walk opcodes from `start` checking only structure (known opcode, argument fits), never semantics.
 * `requireProto` demands a protocol 2-5 PROTO opcode first (used for unnamed archive members, where
 * random tensor bytes must not be mistaken for a protocol-0 pickle).
 */
export function walkPickle(
  bytes: Uint8Array,
  start = 0,
  opts: { requireProto?: boolean; size?: number } = {},
): PickleWalk {
  let i = start;
  const n = bytes.length;
  // A length that runs past the end of the file is a truncated stream: CPython raises there.
  const size = opts.size ?? Number.POSITIVE_INFINITY;
  let strings = 0;
  const w: PickleWalk = { end: 'invalid', opcodes: 0, imports: false, namedImports: false, calls: false };
  if (i >= n) return w;
  if (opts.requireProto && !(bytes[i] === 0x80 && i + 1 < n && bytes[i + 1] >= 2 && bytes[i + 1] <= 5))
    return w;
  // The bytes end mid-stream: a prefix of a longer file, or (when they are the whole file) a truncation.
  const prefix = () => {
    if (n < size) w.end = 'bytes';
    return w;
  };
  while (i < n) {
    const op = bytes[i];
    const kind = ARGS[op];
    if (kind === -1) return w;
    // A STOP as the very first opcode is an empty pickle: CPython raises, and nothing real looks like it.
    if (op === STOP) {
      if (w.opcodes > 0) {
        w.end = 'stop';
        w.stopAt = i;
      }
      return w;
    }
    i++;
    switch (kind) {
      case Arg.None:
        break;
      case Arg.Line:
      case Arg.TwoLines: {
        let names = true;
        for (let k = kind === Arg.Line ? 1 : 2; k > 0; k--) {
          const nl = bytes.indexOf(0x0a, i);
          if (nl < 0) return n - i > MAX_LINE ? w : prefix();
          if (nl - i > MAX_LINE) return w;
          if (kind === Arg.TwoLines && !isDottedName(bytes, i, nl)) names = false;
          if (kind === Arg.Line && !lineArgOk(op, bytes, i, nl)) return w;
          i = nl + 1;
        }
        // GLOBAL/INST import only when both lines are Python names; text that merely starts with
        // "c" or "i" makes CPython fail the import, running nothing.
        if (kind === Arg.TwoLines && names) {
          w.imports = true;
          w.namedImports = true;
        }
        break;
      }
      case Arg.U1:
        i += 1;
        break;
      case Arg.U2:
        i += 2;
        break;
      case Arg.U4:
        i += 4;
        break;
      case Arg.U8:
        i += 8;
        break;
      case Arg.Proto:
        if (i < n && bytes[i] > 5) return w;
        i += 1;
        break;
      case Arg.Len1:
        if (i >= n) return prefix();
        i += 1 + bytes[i];
        break;
      case Arg.Len4: {
        if (i + 4 > n) return prefix();
        const len = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
        if (len < 0) return w;
        i += 4 + len;
        break;
      }
      case Arg.Len8:
      case Arg.Frame: {
        if (i + 8 > n) return prefix();
        const hi = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
        if (hi !== 0) return w;
        const lo = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
        i += 8 + (kind === Arg.Frame ? 0 : lo);
        break;
      }
    }
    if (i > size) return w;
    if (i > n) return prefix();
    w.opcodes++;
    // STACK_GLOBAL imports only when two strings were pushed before it (CPython raises on anything else);
    // EXT1/2/4 import only codes registered with copyreg, and CPython registers none.
    if (op === 0x93 && strings >= 2) w.imports = true;
    strings += PUSHES_STR[op];
    if (CALL_OPS.has(op)) w.calls = true;
  }
  return prefix();
}

/**
 * `pickle` at the first STOP, `pickle-prefix` when the bytes end first (after at least `minPrefixOpcodes`
 * well-formed opcodes), `no` otherwise.
 */
export function sniffPickle(
  bytes: Uint8Array,
  start = 0,
  opts: { requireProto?: boolean; minPrefixOpcodes?: number } = {},
): PickleSniff {
  const w = walkPickle(bytes, start, opts);
  if (w.end === 'stop') return 'pickle';
  if (w.end === 'bytes' && w.opcodes >= (opts.minPrefixOpcodes ?? 0)) return 'pickle-prefix';
  return 'no';
}

/**
 * Would pickle.load run anything from these bytes? Yes for a well-formed stream that reaches STOP; for a
 * well-formed prefix of a longer stream (`complete` false: `bytes` is only the head); and for a stream that
 * breaks after a prefix that imports a name (CPython executes opcodes as it reads them, so a payload
 * followed by garbage still runs, and an import alone runs the module's top-level code).
 */
export function looksLikePickle(
  bytes: Uint8Array,
  opts: { complete: boolean; start?: number; requireProto?: boolean },
): boolean {
  const w = walkPickle(bytes, opts.start ?? 0, { requireProto: opts.requireProto });
  if (w.end === 'stop') return true;
  if (w.end === 'bytes' && !opts.complete) return true;
  // Importing a module runs its top-level code: a broken stream that imports a name still acts.
  return w.imports;
}

/**
 * How strongly the first bytes of a `size`-byte file say "pickle":
 *   - `genuine`: what pickle.dump writes or what a loader would act on, whatever the file's name: a PROTO 2-5
 *     header followed by well-formed opcodes; a protocol 0/1 stream of pickles that ends with STOP exactly at
 *     the end of the file; or a well-formed prefix that imports a name (CPython imports as it reads).
 *   - `loose`: only a well-formed prefix (the structure holds up to where the bytes end, or a STOP part-way).
 *     Text and tensor bytes often get that far by chance; it counts only for a file handed to a pickle loader.
 *   - `no`.
 */
export function pickleEvidence(head: Uint8Array, size: number): 'genuine' | 'loose' | 'no' {
  const w = walkPickle(head, 0, { size });
  if (w.imports) return 'genuine';
  const proto = head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5;
  if (proto && w.opcodes >= 2 && (w.end === 'stop' || w.end === 'bytes')) return 'genuine';
  if (w.end === 'stop' && head.length >= size && consumesWhole(head)) return 'genuine';
  if (w.end === 'stop' || w.end === 'bytes') return 'loose';
  return 'no';
}

/** The bytes are one or more complete pickles, back to back, the last STOP being the last byte. */
function consumesWhole(bytes: Uint8Array): boolean {
  let off = 0;
  for (let k = 0; k < 64; k++) {
    const w = walkPickle(bytes, off, { size: bytes.length });
    if (w.end !== 'stop' || w.stopAt === undefined) return false;
    if (w.stopAt === bytes.length - 1) return true;
    off = w.stopAt + 1;
  }
  return false;
}

/**
 * File names that loaders hand to pickle (torch.load, joblib.load, pickle.load, numpy.load with
 * allow_pickle, paddle.load): for these a loose pickle structure is enough to read the file as a pickle.
 */
const PICKLE_LOADER_EXTENSIONS = new Set([
  'pkl',
  'pickle',
  'pk',
  'pck',
  'pcl',
  'p',
  'pt',
  'pth',
  'bin',
  'ckpt',
  'joblib',
  'jl',
  'dill',
  'sav',
  'npy',
  'pdparams',
  'pdopt',
]);

export function isPickleLoaderName(name: string): boolean {
  return PICKLE_LOADER_EXTENSIONS.has(extensionOf(name));
}

function startsWith(head: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (head.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (head[at + i] !== sig[i]) return false;
  return true;
}

export const MAGIC = {
  zipLocal: [0x50, 0x4b, 0x03, 0x04],
  zipEmpty: [0x50, 0x4b, 0x05, 0x06],
  zipSpanned: [0x50, 0x4b, 0x07, 0x08],
  npy: [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], // \x93NUMPY
  sevenZip: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
  rar: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07],
  gzip: [0x1f, 0x8b],
  bzip2: [0x42, 0x5a, 0x68], // BZh
  xz: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  zstd: [0x28, 0xb5, 0x2f, 0xfd],
  lz4: [0x04, 0x22, 0x4d, 0x18],
  /** torch legacy: PROTO 2, LONG1 10 bytes = 0x1950a86a20f9469cfc6c, STOP. */
  torchLegacy: [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e],
  /** The legacy magic number's 10 little-endian bytes alone (however the first pickle builds it). */
  torchLegacyNumber: [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19],
} as const;

export function isZip(head: Uint8Array): boolean {
  return (
    startsWith(head, MAGIC.zipLocal) || startsWith(head, MAGIC.zipEmpty) || startsWith(head, MAGIC.zipSpanned)
  );
}

export function isNpy(head: Uint8Array): boolean {
  return startsWith(head, MAGIC.npy);
}

/** A POSIX/GNU tar header: "ustar" at 257 and a valid header checksum. Old v7 tars: checksum only. */
export function isTar(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  const field = head.subarray(148, 156);
  let text = '';
  for (const b of field) {
    if (b === 0 || b === 0x20) {
      if (text) break;
      continue;
    }
    if (b < 0x30 || b > 0x37) return false;
    text += String.fromCharCode(b);
  }
  if (!text) return false;
  const stored = Number.parseInt(text, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : head[i];
  if (sum !== stored) return false;
  const ustar =
    head[257] === 0x75 &&
    head[258] === 0x73 &&
    head[259] === 0x74 &&
    head[260] === 0x61 &&
    head[261] === 0x72;
  // A v7 tar has no magic; require a plausible name then (printable, NUL-terminated).
  return ustar || (head[0] >= 0x20 && head[0] < 0x7f);
}

/** A compressed stream or archive wrapper Antidote recognises; `null` if none. */
export function wrapperKind(head: Uint8Array): string | null {
  if (startsWith(head, MAGIC.sevenZip)) return '7z';
  if (startsWith(head, MAGIC.rar)) return 'rar';
  if (startsWith(head, MAGIC.xz)) return 'xz';
  if (startsWith(head, MAGIC.zstd)) return 'zstd';
  if (startsWith(head, MAGIC.lz4)) return 'lz4';
  if (startsWith(head, MAGIC.gzip) && head.length > 2 && head[2] === 8) return 'gzip';
  if (startsWith(head, MAGIC.bzip2) && head.length > 3 && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  // Raw LZMA ("alone" format, as joblib writes): properties byte 0x5d and a dictionary size; weak, so
  // checked only with a plausible dictionary size.
  if (head.length >= 13 && head[0] === 0x5d && head[1] === 0x00 && head[2] === 0x00) return 'lzma';
  return null;
}

export function isTorchLegacy(head: Uint8Array): boolean {
  return startsWith(head, MAGIC.torchLegacy);
}

/** Position of the legacy magic number's bytes inside `bytes[from, to)`, or -1. */
export function indexOfBytes(bytes: Uint8Array, sig: readonly number[], from = 0, to = bytes.length): number {
  outer: for (let i = from; i + sig.length <= to; i++) {
    for (let k = 0; k < sig.length; k++) if (bytes[i + k] !== sig[k]) continue outer;
    return i;
  }
  return -1;
}

/** Extensions of model formats: an unrecognised file under one of these names blocks as unanalysable. */
export const MODEL_EXTENSIONS = new Set([
  'pt',
  'pth',
  'pkl',
  'pickle',
  'bin',
  'ckpt',
  'joblib',
  'jl',
  'npy',
  'npz',
  'safetensors',
  'gguf',
  'ggml',
  'onnx',
  'h5',
  'hdf5',
  'keras',
  'pb',
  'tflite',
  'msgpack',
  'mar',
  'model',
  'dill',
  'sav',
  'ptl',
  'torchscript',
  'pdparams',
  'nemo',
  'mlmodel',
  'llamafile',
]);

export function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}
