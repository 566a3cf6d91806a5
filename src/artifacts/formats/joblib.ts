/**
 * joblib files (joblib.dump, scikit-learn models): a pickle in which each numpy array is a
 * `joblib.numpy_pickle.NumpyArrayWrapper` followed, right after its BUILD, by the array's raw bytes (preceded
 * by a padding-length byte and padding when the wrapper has `numpy_array_alignment_bytes`, joblib >= 1.2).
 * Object-dtype arrays are instead followed by a nested pickle that joblib reads with pickle.load. The VM's
 * BUILD hook skips exactly what joblib reads there, so opcodes placed after an array are still analysed and
 * array bytes are never mistaken for opcodes. Compressed joblib (zlib, joblib's legacy `ZF` header, gzip, bz2,
 * xz, lzma) is decompressed within LIMITS.archive bounds first.
 *
 * Registered after the structural formats and before `pickle` (formats/index.ts), detect() claims
 *   1. an uncompressed pickle whose first 64 KiB mention `NumpyArrayWrapper` (joblib's array wrapper);
 *   2. a zlib stream (0x78 + valid header) or gzip member whose decompressed head starts like a pickle;
 *   3. joblib's legacy `ZF0x...` zlib header;
 *   4. bz2 (`BZh1`-`BZh9`), xz (FD 37 7A 58 5A 00) and lzma-alone (5D 00 00 + dictionary size) streams,
 *      whatever they contain: the scan decompresses them and hands a non-pickle payload back to full
 *      detection through ctx.scanNested (so a .tar.xz or a compressed .npy is still scanned).
 * A plain pickle without wrappers is left to `pickle`; gzip/zlib payloads that are not pickles are left to
 * whoever claims them next.
 */

import { pushAll } from '../../core/arrays.js';
import { zlib } from '../../core/builtins.js';
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { BoundedBytes, DecompressError, gunzipBounded, inflateBounded } from '../containers/compression.js';
import { MemorySource, readAt } from '../containers/sync-source.js';
import { looksLikePickle } from '../detect.js';
import type { Policy } from '../pickle/api.js';
import {
  asInt,
  dictGet,
  isCall,
  isDict,
  isGlobal,
  isSeq,
  type PyCall,
  type PyInlineArray,
  type PyValue,
} from '../pickle/value.js';
import type { BuildHookResult } from '../pickle/vm.js';
import type { ByteSource } from '../source.js';
import * as incomplete from './rules/incomplete.js';
import * as limitRule from './rules/limit-exceeded.js';
import * as trailing from './rules/trailing-data.js';
import * as unanalysable from './rules/unanalysable.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

export type JoblibCodec = 'zlib' | 'zf' | 'gzip' | 'bz2' | 'xz' | 'lzma';

const WRAPPER_NAMES = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

// ---- detection ---------------------------------------------------------------------------------------------

function isZlibHeader(h: Uint8Array): boolean {
  return h.length >= 2 && h[0] === 0x78 && ((h[0] << 8) | h[1]) % 31 === 0;
}

/** The compression joblib may have used, from the first bytes. */
export function joblibCodec(h: Uint8Array): JoblibCodec | undefined {
  if (h.length >= 4 && h[0] === 0x5a && h[1] === 0x46 && h[2] === 0x30 && h[3] === 0x78) return 'zf'; // ZF0x
  if (isZlibHeader(h)) return 'zlib';
  if (h.length >= 3 && h[0] === 0x1f && h[1] === 0x8b && h[2] === 8) return 'gzip';
  if (h.length >= 4 && h[0] === 0x42 && h[1] === 0x5a && h[2] === 0x68 && h[3] >= 0x31 && h[3] <= 0x39)
    return 'bz2';
  if (
    h.length >= 6 &&
    h[0] === 0xfd &&
    h[1] === 0x37 &&
    h[2] === 0x7a &&
    h[3] === 0x58 &&
    h[4] === 0x5a &&
    h[5] === 0
  )
    return 'xz';
  // LZMA alone: properties byte (lc/lp/pb) 0x5d as every encoder writes by default, then a dictionary size.
  if (h.length >= 13 && h[0] === 0x5d && h[1] === 0 && h[2] === 0) return 'lzma';
  return undefined;
}

function partialInflate(head: Uint8Array, gzip: boolean): Uint8Array | undefined {
  try {
    const z = zlib();
    const opts = { finishFlush: z.constants.Z_SYNC_FLUSH, maxOutputLength: 1 << 16 };
    return gzip ? z.gunzipSync(head, opts) : z.inflateSync(head, opts);
  } catch {
    return undefined;
  }
}

function mentions(head: Uint8Array, text: string): boolean {
  return Buffer.from(head.buffer, head.byteOffset, head.byteLength).includes(text, 0, 'latin1');
}

export function detectJoblib(head: Uint8Array, size: number): boolean {
  const codec = joblibCodec(head);
  if (codec === 'zlib' || codec === 'gzip') {
    const inner = partialInflate(head, codec === 'gzip');
    if (inner === undefined || inner.length === 0) return false;
    if (inner[0] === 0x80 && inner[1] >= 2 && inner[1] <= 5) return true;
    // Protocol 0/1 (joblib protocol= argument): only when the whole stream was decompressed and parses.
    return looksLikePickle(inner, { complete: head.length >= size });
  }
  if (codec) return true;
  return mentions(head, 'NumpyArrayWrapper') && looksLikePickle(head, { complete: head.length >= size });
}

// ---- decompression -----------------------------------------------------------------------------------------

class LimitHit extends Error {}

/** bz2 through seek-bzip, writing into a bounded output (it has no limit of its own). */
async function bunzipBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  const Bunzip = (await import('seek-bzip')).default as {
    decode(input: Buffer, output: { writeByte(b: number): void }, multistream?: boolean): void;
  };
  const out = new BoundedBytes(max);
  Bunzip.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength), out, true);
  return out.bytes();
}

/** xz through xz-decompress (WebAssembly xz-embedded), read chunk by chunk and stopped at the bound. */
async function unxzBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  const mod = (await import('xz-decompress')) as unknown as {
    default?: { XzReadableStream: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array> };
    XzReadableStream?: new (s: ReadableStream<Uint8Array>) => ReadableStream<Uint8Array>;
  };
  const Xz = mod.XzReadableStream ?? mod.default?.XzReadableStream;
  if (!Xz) throw new Error('xz decoder unavailable');
  const reader = new Xz(new Blob([data]).stream()).getReader();
  const out = new BoundedBytes(max);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.write(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return out.bytes();
}

/** joblib < 0.10: `ZF` + hex length padded to 19 bytes (+ optional space), then a zlib stream. */
function unzfBounded(data: Uint8Array, max: number): Promise<Uint8Array> {
  const headerLen = 2 + 19;
  let start = headerLen;
  if (data[headerLen] === 0x20) start++;
  return inflateBounded(data.subarray(start), max);
}

export async function decompressJoblib(
  codec: JoblibCodec,
  data: Uint8Array,
  max: number,
): Promise<Uint8Array> {
  try {
    switch (codec) {
      case 'zlib':
        return await inflateBounded(data, max);
      case 'zf':
        return await unzfBounded(data, max);
      case 'gzip':
        return await gunzipBounded(data, max);
      case 'bz2':
        return await bunzipBounded(data, max);
      case 'xz':
        return await unxzBounded(data, max);
      case 'lzma': {
        const { decodeLzmaAlone } = await import('../pickle/lzma-alone.js');
        return decodeLzmaAlone(data, max);
      }
    }
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    if (err instanceof LimitHit) throw new DecompressError('limit', err.message);
    const e = err as Error & { reason?: string };
    if (e?.name === 'LzmaError' || e?.reason === 'limit' || e?.reason === 'corrupt')
      throw new DecompressError(e.reason === 'limit' ? 'limit' : 'corrupt', e.message);
    throw new DecompressError('corrupt', `cannot be decompressed: ${e?.message ?? String(err)}`);
  }
}

// ---- the inline-array hook --------------------------------------------------------------------------------

/** The class an object was created from, if it is an imported name (direct, or through copyreg helpers). */
function classOf(c: PyCall): string | undefined {
  if (!isGlobal(c.fn)) return undefined;
  const fn = c.fn.qualified;
  if ((fn === 'copyreg._reconstructor' || fn === 'copyreg.__newobj__') && isSeq(c.args, 'tuple')) {
    const a0 = c.args.items[0];
    return isGlobal(a0) ? a0.qualified : undefined;
  }
  return fn;
}

interface ArraySpec {
  count: number;
  itemsize: number;
  hasObject: boolean;
  alignment: boolean;
}

/** Shape, dtype and alignment from a NumpyArrayWrapper's BUILD state, or why they cannot be known. */
export function arraySpec(state: PyValue | undefined): ArraySpec | string {
  let dict = state;
  if (isSeq(dict, 'tuple') && dict.items.length === 2)
    dict = isDict(dict.items[0]) ? dict.items[0] : dict.items[1];
  if (!isDict(dict)) return 'the array wrapper has no state dictionary';
  const shape = dictGet(dict, 'shape');
  if (!isSeq(shape, 'tuple')) return 'the array shape is not a tuple';
  let count = 1;
  for (const s of shape.items) {
    const v = asInt(s);
    if (v === undefined || v < 0) return 'the array shape holds a value that is not a non-negative int';
    count *= v;
    if (!Number.isSafeInteger(count)) return 'the array shape is too large';
  }
  const dtype = dictGet(dict, 'dtype');
  if (
    !isCall(dtype) ||
    !isGlobal(dtype.fn) ||
    !/^numpy(\._core|\.core)?(\.multiarray)?\.dtype$/.test(dtype.fn.qualified)
  )
    return 'the array dtype is not a numpy.dtype';
  const args = isSeq(dtype.args, 'tuple') ? dtype.args.items : [];
  const typestr = typeof args[0] === 'string' ? args[0] : undefined;
  if (!typestr) return 'the numpy dtype has no type string';
  const m = /^[<>|=]?([A-Za-z])(\d*)/.exec(typestr);
  if (!m) return `the numpy dtype "${typestr}" is not understood`;
  const st = isSeq(dtype.state, 'tuple') ? dtype.state.items : [];
  const elsize = asInt(st[5]);
  const flags = asInt(st[7]) ?? 0;
  const hasObject = m[1] === 'O' || (flags & 1) === 1;
  let itemsize = elsize !== undefined && elsize > 0 ? elsize : m[2] ? Number(m[2]) : Number.NaN;
  if (hasObject) itemsize = 0;
  else if (!Number.isFinite(itemsize) || itemsize <= 0)
    return `the size of numpy dtype "${typestr}" cannot be determined`;
  const align = dictGet(dict, 'numpy_array_alignment_bytes');
  return { count, itemsize, hasObject, alignment: align !== undefined && align !== null };
}

interface HookEnv {
  policy: Policy;
  location: Location;
  depth: number;
  nesting: string[];
  arrays: number;
  arrayBytes: number;
}

function makeHook(env: HookEnv, analyze: typeof import('../pickle/api.js').analyzePickle) {
  return (obj: PyCall, next: number, bytes: Uint8Array): BuildHookResult | undefined => {
    const cls = classOf(obj);
    if (!cls || !WRAPPER_NAMES.has(cls)) return undefined;
    const spec = arraySpec(obj.state);
    if (typeof spec === 'string') return { next, error: `joblib cannot read this array: ${spec}` };
    env.arrays++;
    if (spec.hasObject) {
      // joblib reads an object array with pickle.load on the same stream: a nested pickle of its own.
      const r = analyze(bytes, {
        policy: env.policy,
        location: env.location,
        start: next,
        depth: env.depth + 1,
        nesting: [...env.nesting, `joblib object array at byte ${next}`],
      });
      const findings = r.findings.map((f) =>
        f.evidence?.nestedIn
          ? f
          : { ...f, evidence: { ...f.evidence, nestedIn: `joblib object array at byte ${next}` } },
      );
      if (!r.complete)
        return { next: r.end, findings, error: 'the pickle of a joblib object array did not parse' };
      const value: PyInlineArray = {
        kind: 'inline-array',
        wrapper: obj,
        dataOffset: next,
        byteLength: r.end - next,
      };
      if (r.value !== undefined) value.objects = r.value as PyValue;
      return { next: r.end, findings, value };
    }
    let at = next;
    if (spec.alignment) {
      if (at >= bytes.length) return { next, error: 'the joblib array padding byte is missing' };
      at += 1 + bytes[at];
    }
    const len = spec.count * spec.itemsize;
    if (at + len > bytes.length)
      return {
        next,
        error: `the joblib array needs ${len} bytes after byte ${at} but the stream ends first`,
      };
    env.arrayBytes += len;
    const value: PyInlineArray = { kind: 'inline-array', wrapper: obj, dataOffset: at, byteLength: len };
    return { next: at + len, value };
  };
}

// ---- scan ----------------------------------------------------------------------------------------------------

export interface JoblibStreamResult {
  findings: Finding[];
  complete: boolean;
  arrays: number;
  arrayBytes: number;
  globals: string[];
  value?: PyValue;
}

/** Analyse a (decompressed) joblib pickle stream. joblib.load reads one pickle; bytes after it are reported. */
export async function scanJoblibStream(
  bytes: Uint8Array,
  policy: Policy,
  location: Location,
  depth = 0,
): Promise<JoblibStreamResult> {
  const { analyzePickle } = await import('../pickle/api.js');
  const env: HookEnv = { policy, location, depth, nesting: [], arrays: 0, arrayBytes: 0 };
  const hook = makeHook(env, analyzePickle);
  const findings: Finding[] = [];
  const names = new Set<string>();
  let off = 0;
  let complete = true;
  let value: PyValue | undefined;
  for (let n = 0; n < LIMITS.pickle.maxStreamsPerFile; n++) {
    const r = analyzePickle(bytes, { policy, location, start: off, depth, onBuild: hook });
    pushAll(findings, r.findings);
    for (const g of r.globals) names.add(`${g.module}.${g.name}`);
    if (n === 0) value = r.value as PyValue | undefined;
    if (!r.complete) {
      complete = false;
      if (!findings.some((f) => f.severity === 'high' || f.severity === 'critical'))
        findings.push(
          incomplete.check('the joblib pickle did not parse to its STOP opcode', {
            ...location,
            offset: r.end,
          }),
        );
      break;
    }
    if (r.end >= bytes.length || r.end <= off) break;
    off = r.end;
    // joblib.load stops at STOP; what follows is not read by joblib, but report it and analyse a pickle there.
    findings.push(
      trailing.check(
        `${bytes.length - off} bytes after the joblib pickle's STOP are not read by joblib.load`,
        {
          ...location,
          offset: off,
        },
      ),
    );
    if (!looksLikePickle(bytes.subarray(off), { complete: true })) break;
  }
  const out: JoblibStreamResult = {
    findings,
    complete,
    arrays: env.arrays,
    arrayBytes: env.arrayBytes,
    globals: [...names].sort(),
  };
  if (value !== undefined) out.value = value;
  return out;
}

export async function scanJoblib(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where: Location = { file: ctx.displayPath };
  const maxIn = LIMITS.pickle.maxPickleBytes;
  if (source.size > maxIn) {
    return {
      format: 'joblib',
      findings: [limitRule.check(`the file is ${source.size} bytes, over the limit of ${maxIn}`, where)],
      complete: false,
    };
  }
  const raw = await readAt(source, 0, source.size);
  const codec = joblibCodec(raw);
  let bytes = raw;
  if (codec) {
    if (ctx.depth + 1 > LIMITS.archive.maxArchiveDepth) {
      return {
        format: `joblib-${codec}`,
        findings: [limitRule.check('archives nest too deeply', where)],
        complete: false,
      };
    }
    const max = Math.min(
      LIMITS.archive.maxDecompressedBytes,
      LIMITS.pickle.maxPickleBytes,
      Math.max(raw.length * LIMITS.archive.maxCompressionRatio, 1 << 20),
    );
    try {
      bytes = await decompressJoblib(codec, raw, max);
    } catch (err) {
      if (!(err instanceof DecompressError)) throw err;
      const rule = err.reason === 'limit' ? limitRule : unanalysable;
      return {
        format: `joblib-${codec}`,
        findings: [rule.check(`the ${codec} stream ${err.message}`, where, { codec })],
        complete: false,
      };
    }
    if (!looksLikePickle(bytes, { complete: true })) {
      // Not a pickle inside: let full detection decide what it is (a tar, an .npy, ...).
      const r = await ctx.scanNested(new MemorySource(`${source.name}!${codec}`, bytes), {
        entry: `(${codec})`,
      });
      return {
        format: `${codec}+${r.format}`,
        complete: r.complete,
        findings: r.findings,
        details: { ...r.details, decompressedBytes: bytes.length },
      };
    }
  }
  const s = await scanJoblibStream(bytes, ctx.policy, where, ctx.depth);
  return {
    format: codec ? `joblib-${codec}` : 'joblib',
    findings: s.findings,
    complete: s.complete,
    details: {
      arrays: s.arrays,
      arrayBytes: s.arrayBytes,
      globals: s.globals,
      ...(codec ? { decompressedBytes: bytes.length } : {}),
    },
  };
}

export const joblibFormat: FormatScanner = {
  id: 'joblib',
  title: 'joblib / scikit-learn pickle with inline numpy arrays (plain or compressed)',
  detect: ({ head, size }) => detectJoblib(head, size),
  scan: scanJoblib,
};
