/**
 * numpy `.npy` (and the members of `.npz`, see pytorch-zip.ts). numpy reads the header with
 * `ast.literal_eval`, then either unpickles the rest (object dtypes, with allow_pickle) or reads
 * shape x itemsize raw bytes. Hand-written literal parser: the header is a tiny Python literal and
 * evaluating it with anything more general would be the vulnerability this scanner exists to prevent.
 * Plain arrays cost one header read: their data is never read, only its size checked.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { readAt } from '../containers/sync-source.js';
import { isNpy } from '../detect.js';
import type { ByteSource } from '../source.js';
import { scanPickleStream } from './pickle-stream.js';
import * as limit from './rules/limit-exceeded.js';
import * as header from './rules/numpy-header.js';
import * as sizeRule from './rules/numpy-size.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

type Lit = string | number | boolean | null | Lit[] | { [k: string]: Lit };

/** Parse a Python literal of the subset numpy headers use. Throws on anything else. */
export function parsePyLiteral(text: string): Lit {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i}`);
  };
  let depth = 0;
  const value = (): Lit => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const q = c;
      let out = '';
      i++;
      while (i < text.length && text[i] !== q) {
        if (text[i] === '\\') {
          const n = text[i + 1];
          out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else out += text[i++];
      }
      if (text[i] !== q) fail('unterminated string');
      i++;
      return out;
    }
    if (c === '{' || c === '(' || c === '[') {
      if (++depth > 32) fail('nesting too deep');
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: Lit[] = [];
      const obj: Record<string, Lit> = {};
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        const v = value();
        if (c === '{') {
          ws();
          if (text[i] !== ':') fail('expected ":"');
          i++;
          if (typeof v !== 'string') fail('non-string key');
          obj[v as string] = value();
        } else items.push(v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected "," or "${close}"`);
      }
      depth--;
      return c === '{' ? obj : items;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 40));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number.parseInt(m[0], 10);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

/** Bytes per element of a numpy descr, and whether it holds Python objects. Throws on an unknown dtype. */
export function descrInfo(d: Lit): { itemsize: number; hasObject: boolean } {
  if (typeof d === 'string') {
    const m = /^([<>|=]?)([?bBhHiIlLqQefdgFDGSaUVOMmuc])(\d*)(\[[A-Za-z0-9]+\])?$/.exec(d);
    if (!m) throw new Error(`unknown dtype ${JSON.stringify(d)}`);
    const kind = m[2];
    const n = m[3] === '' ? undefined : Number(m[3]);
    if (kind === 'O') return { itemsize: 8, hasObject: true };
    const fixed: Record<string, number> = {
      '?': 1,
      b: 1,
      B: 1,
      h: 2,
      H: 2,
      i: 4,
      I: 4,
      l: 8,
      L: 8,
      q: 8,
      Q: 8,
      e: 2,
      f: 4,
      d: 8,
      g: 16,
      F: 8,
      D: 16,
      G: 32,
    };
    if (n === undefined) {
      if (kind in fixed) return { itemsize: fixed[kind], hasObject: false };
      if (kind === 'M' || kind === 'm') return { itemsize: 8, hasObject: false };
      throw new Error(`dtype ${d} has no size`);
    }
    return { itemsize: kind === 'U' ? 4 * n : n, hasObject: false };
  }
  if (Array.isArray(d)) {
    let itemsize = 0;
    let hasObject = false;
    for (const field of d) {
      if (!Array.isArray(field) || field.length < 2 || field.length > 3)
        throw new Error('malformed structured dtype');
      const sub = descrInfo(field[1]);
      let count = 1;
      if (field.length === 3) {
        const shape = Array.isArray(field[2]) ? field[2] : [field[2]];
        for (const s of shape) {
          if (typeof s !== 'number' || s < 0) throw new Error('malformed field shape');
          count *= s;
        }
      }
      itemsize += sub.itemsize * count;
      hasObject ||= sub.hasObject;
    }
    return { itemsize, hasObject };
  }
  throw new Error('dtype descr is neither a string nor a list');
}

export interface NpyHeader {
  version: string;
  headerEnd: number;
  descr: Lit;
  shape: number[];
  fortranOrder: boolean;
  itemsize: number;
  hasObject: boolean;
}

/** Parse the header from the first bytes of an .npy; throws with a readable reason. */
export function parseNpyHeader(head: Uint8Array): NpyHeader {
  if (!isNpy(head) || head.length < 10) throw new Error('missing \\x93NUMPY magic');
  const major = head[6];
  const minor = head[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0))
    throw new Error(`unsupported .npy version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (head.length < 8 + lenBytes) throw new Error('truncated header');
  const hlen =
    major === 1
      ? head[8] | (head[9] << 8)
      : (head[8] | (head[9] << 8) | (head[10] << 16) | (head[11] << 24)) >>> 0;
  if (hlen > LIMITS.headers.maxNpyHeader) throw new Error(`header of ${hlen} bytes is over the limit`);
  const start = 8 + lenBytes;
  if (head.length < start + hlen) throw new Error('truncated header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(head.subarray(start, start + hlen));
  if (!text.endsWith('\n')) throw new Error('header does not end with a newline');
  const lit = parsePyLiteral(text.trimEnd());
  if (lit === null || typeof lit !== 'object' || Array.isArray(lit)) throw new Error('header is not a dict');
  const keys = Object.keys(lit).sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw new Error(`header keys are ${keys}`);
  const shape = lit.shape;
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isInteger(s) && s >= 0)) {
    throw new Error('shape is not a tuple of non-negative integers');
  }
  if (typeof lit.fortran_order !== 'boolean') throw new Error('fortran_order is not a bool');
  const info = descrInfo(lit.descr);
  return {
    version: `${major}.${minor}`,
    headerEnd: start + hlen,
    descr: lit.descr,
    shape: shape as number[],
    fortranOrder: lit.fortran_order,
    ...info,
  };
}

/**
 * Scan one .npy: a file, or an .npz member. `head` holds at least the header; `size` is the array file's
 * size; `readAll` fetches every byte (only called for object arrays, whose pickle must be read).
 */
export async function scanNpyBytes(
  head: Uint8Array,
  size: number,
  readAll: () => Promise<Uint8Array>,
  ctx: ScanContext,
  where: Location,
): Promise<FormatResult> {
  const findings: Finding[] = [];
  let h: NpyHeader;
  try {
    h = parseNpyHeader(head);
  } catch (err) {
    findings.push(header.check(`the .npy header cannot be parsed: ${(err as Error).message}`, where));
    return { format: 'npy', findings, complete: false };
  }
  const details: Record<string, unknown> = {
    npyVersion: h.version,
    descr: h.descr,
    shape: h.shape,
    objectDtype: h.hasObject,
  };
  if (h.hasObject) {
    if (size > LIMITS.pickle.maxPickleBytes) {
      findings.push(
        limit.check(`the object array's pickle is over ${LIMITS.pickle.maxPickleBytes} bytes`, where),
      );
      return { format: 'npy', complete: false, findings, details };
    }
    const bytes = await readAll();
    const s = await scanPickleStream(bytes, {
      policy: ctx.policy,
      location: where,
      start: h.headerEnd,
      depth: ctx.depth,
    });
    findings.push(...s.findings);
    return {
      format: 'npy',
      complete: s.complete,
      findings,
      details: { ...details, pickles: s.pickles.length, globals: s.globals },
    };
  }
  let count = 1;
  for (const s of h.shape) count *= s;
  const expected = count * h.itemsize;
  const actual = size - h.headerEnd;
  if (expected !== actual) {
    findings.push(
      sizeRule.check(`the header describes ${expected} bytes of data but the array holds ${actual}`, where, {
        expected,
        actual,
      }),
    );
    return { format: 'npy', complete: false, findings, details };
  }
  return { format: 'npy', complete: true, findings, details };
}

export const NPY_HEAD = 16 + 64 * 1024;

export async function scanNpy(source: ByteSource, ctx: ScanContext, where: Location): Promise<FormatResult> {
  let head = await readAt(source, 0, Math.min(source.size, NPY_HEAD));
  // A header larger than the first read (rare, bounded by the limit): read exactly what it declares.
  if (head.length >= 12 && head[6] >= 2) {
    const hlen = (head[8] | (head[9] << 8) | (head[10] << 16) | (head[11] << 24)) >>> 0;
    if (hlen + 12 > head.length && hlen <= LIMITS.headers.maxNpyHeader)
      head = await readAt(source, 0, hlen + 12);
  }
  return scanNpyBytes(head, source.size, async () => readAt(source, 0, source.size), ctx, where);
}

export const npyFormat: FormatScanner = {
  id: 'npy',
  title: 'numpy .npy array',
  detect: ({ head }) => isNpy(head),
  scan: (source, ctx) => scanNpy(source, ctx, { file: ctx.displayPath }),
};
