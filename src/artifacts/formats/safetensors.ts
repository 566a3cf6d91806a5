/**
 * safetensors: `u64 little-endian N`, N bytes of JSON header, then the byte buffer. Only the header is
 * read (a multi-GB file costs one small read). Every rule the reference implementation relies on is
 * checked strictly, because two loaders that disagree on a malformed header load different weights:
 * header length bound, strict JSON (no duplicate keys, no unsafe integers), known dtypes, integer shapes,
 * offsets that start at 0 and tile the buffer exactly (contiguous, non-overlapping, in bounds, no trailing
 * bytes), sizes equal to element count x dtype size, and `__metadata__` mapping strings to strings.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { safetensorsMalformed, safetensorsMetadata } from './rules-meta.js';
import { isJsonObject, type JsonValue, parseStrictJson, StrictJsonError } from './strict-json.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

/** dtype -> size in bits (F4/F6 pack below a byte; the tensor's byte size must then be whole). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets relative to the start of the byte buffer. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  headerLength: number;
  /** Absolute offset of the byte buffer (8 + header length). */
  dataStart: number;
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
}

export interface SafetensorsValidation {
  /** Blocking findings when the file is not exactly well-formed; empty when it is. */
  problems: string[];
  header?: SafetensorsHeader;
}

const MAGIC_HINT = 0x7b; // '{'

export function detectSafetensors({ head, size }: DetectInput): boolean {
  if (head.length < 10 || size < 10) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  // Loose on the length (a corrupt length must still be claimed, then blocked), strict on the shape:
  // the JSON header opens with `{"` or `{}` right after the 8 length bytes.
  if (dv.getBigUint64(0, true) < 2n || dv.getUint16(6, true) !== 0) return false;
  return head[8] === MAGIC_HINT && (head[9] === 0x22 || head[9] === 0x7d);
}

/** Validate a safetensors file from its header alone. Never throws for malformed input. */
export async function validateSafetensors(source: ByteSource): Promise<SafetensorsValidation> {
  const problems: string[] = [];
  const size = source.size;
  if (size < 8) return { problems: [`file is ${size} bytes, shorter than the 8-byte header length`] };
  const lenBytes = await source.read(0, 8);
  if (lenBytes.length < 8) return { problems: ['could not read the 8-byte header length'] };
  const n64 = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  const max = LIMITS.headers.maxSafetensorsHeader;
  if (n64 > BigInt(max)) return { problems: [`header length ${n64} exceeds the ${max}-byte limit`] };
  const n = Number(n64);
  if (8 + n > size) return { problems: [`header length ${n} runs past the end of the ${size}-byte file`] };
  const raw = await source.read(8, n);
  if (raw.length < n) return { problems: ['header truncated'] };
  let doc: JsonValue;
  try {
    doc = parseStrictJson(raw, { maxDepth: 16 });
  } catch (err) {
    const msg = err instanceof StrictJsonError ? err.message : String(err);
    return { problems: [`header is not strict JSON: ${msg}`] };
  }
  if (!isJsonObject(doc)) return { problems: ['header is not a JSON object'] };
  const dataStart = 8 + n;
  const bufferLength = size - dataStart;
  const tensors: SafetensorsTensor[] = [];
  const metadata: Record<string, string> = Object.create(null);
  for (const [name, v] of Object.entries(doc)) {
    if (name === '__metadata__') {
      if (!isJsonObject(v)) {
        problems.push('__metadata__ is not an object of strings');
        continue;
      }
      for (const [k, mv] of Object.entries(v)) {
        if (typeof mv !== 'string') problems.push(`__metadata__[${JSON.stringify(k)}] is not a string`);
        else metadata[k] = mv;
      }
      continue;
    }
    const t = checkTensorEntry(name, v, problems);
    if (t) tensors.push(t);
  }
  if (problems.length === 0) checkLayout(tensors, bufferLength, problems);
  if (problems.length) return { problems };
  return { problems, header: { headerLength: n, dataStart, tensors, metadata } };
}

function checkTensorEntry(name: string, v: JsonValue, problems: string[]): SafetensorsTensor | undefined {
  const q = JSON.stringify(name.slice(0, 200));
  if (!isJsonObject(v)) {
    problems.push(`tensor ${q} is not an object`);
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets')
      problems.push(`tensor ${q} has unknown field ${JSON.stringify(k)}`);
  }
  const { dtype, shape, data_offsets: offs } = v;
  if (typeof dtype !== 'string' || SAFETENSORS_DTYPE_BITS[dtype] === undefined) {
    problems.push(`tensor ${q} has unknown dtype ${JSON.stringify(dtype)}`);
    return undefined;
  }
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    problems.push(`tensor ${q} shape is not a list of non-negative integers`);
    return undefined;
  }
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    problems.push(`tensor ${q} data_offsets is not [begin, end] of non-negative integers`);
    return undefined;
  }
  const [begin, end] = offs as number[];
  if (end < begin) {
    problems.push(`tensor ${q} data_offsets end ${end} is before begin ${begin}`);
    return undefined;
  }
  // Element count x bits, in BigInt: a hostile shape must not overflow into a plausible number.
  let bits = BigInt(SAFETENSORS_DTYPE_BITS[dtype]);
  for (const d of shape as number[]) bits *= BigInt(d);
  if (bits % 8n !== 0n) {
    problems.push(`tensor ${q} (${dtype}) does not fill a whole number of bytes`);
    return undefined;
  }
  if (bits / 8n !== BigInt(end - begin)) {
    problems.push(
      `tensor ${q} spans ${end - begin} bytes but ${dtype}${JSON.stringify(shape)} needs ${bits / 8n} bytes`,
    );
    return undefined;
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function checkLayout(tensors: SafetensorsTensor[], bufferLength: number, problems: string[]): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const t of sorted) {
    const q = JSON.stringify(t.name.slice(0, 200));
    if (t.begin < pos) {
      problems.push(`tensor ${q} [${t.begin}, ${t.end}) overlaps the previous tensor (ends at ${pos})`);
      return;
    }
    if (t.begin > pos) {
      problems.push(`gap of ${t.begin - pos} unreferenced bytes before tensor ${q} at buffer offset ${pos}`);
      return;
    }
    if (t.end > bufferLength) {
      problems.push(`tensor ${q} ends at ${t.end}, past the ${bufferLength}-byte buffer`);
      return;
    }
    pos = t.end;
  }
  if (pos !== bufferLength) problems.push(`${bufferLength - pos} trailing bytes after the last tensor`);
}

export async function scanSafetensors(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const v = await validateSafetensors(source);
  const findings: Finding[] = [];
  if (!v.header) {
    for (const p of v.problems.slice(0, 20)) {
      findings.push(
        makeFinding(safetensorsMalformed, `safetensors ${p}; do not load this file`, {
          location,
          evidence: { problem: p },
        }),
      );
    }
    if (v.problems.length > 20) {
      findings.push(
        makeFinding(
          safetensorsMalformed,
          `${v.problems.length - 20} more problems in the safetensors header`,
          { location },
        ),
      );
    }
    return { format: 'safetensors', complete: false, findings };
  }
  const h = v.header;
  const dtypes: Record<string, number> = {};
  let params = 0n;
  for (const t of h.tensors) {
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    params += t.shape.reduce((a, d) => a * BigInt(d), 1n);
  }
  const details = {
    tensors: h.tensors.length,
    parameters: params.toString(),
    dtypes,
    headerBytes: h.headerLength,
    metadata: truncateMetadata(h.metadata),
  };
  findings.push(
    makeFinding(
      safetensorsMetadata,
      `safetensors with ${h.tensors.length} tensors (${Object.keys(dtypes).join(', ') || 'none'})`,
      {
        location,
        evidence: details,
      },
    ),
  );
  return { format: 'safetensors', complete: true, findings, details };
}

function truncateMetadata(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m).slice(0, 50))
    out[k.slice(0, 200)] = v.length > 500 ? `${v.slice(0, 500)}…` : v;
  return out;
}

export const safetensorsFormat: FormatScanner = {
  id: 'safetensors',
  title: 'safetensors',
  detect: detectSafetensors,
  scan: (source, ctx) => scanSafetensors(source, ctx),
};
