/**
 * JSON text as the OpenSSF model-signing reference writes its payload: protobuf's MessageToJson,
 * i.e. Python's json.dumps with indent=2, ensure_ascii escaping (\uXXXX, lowercase hex) and
 * Python float reprs for numbers (every number in a protobuf Struct is a double, so a shard size of
 * 1000000000 is written `1000000000.0`). Hand-written because JSON.stringify differs on all three.
 */

/** A number as Python's float repr writes it (for the magnitudes a payload holds). */
export function pyFloat(n: number): string {
  if (!Number.isFinite(n)) throw new Error('payload numbers must be finite');
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  const s = String(n);
  // JS writes 1e+21 / 1.5e-7; Python writes 1e+21 / 1.5e-07 (two-digit exponent at least).
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export function pyJsonDumps(value: unknown, indent = 2, level = 0): string {
  const pad = ' '.repeat(indent * (level + 1));
  const end = ' '.repeat(indent * level);
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pyFloat(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad + pyJsonDumps(v, indent, level + 1)).join(',\n')}\n${end}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${pad}${pyString(k)}: ${pyJsonDumps(v, indent, level + 1)}`).join(',\n')}\n${end}}`;
  }
  throw new Error(`cannot serialise ${typeof value}`);
}

/** Python's repr() of a bytes object (b'...'), needed to re-create the v0.2 signatures' PAE. */
export function pyBytesRepr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const hasDouble = bytes.includes(0x22);
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  let out = `b${String.fromCharCode(quote)}`;
  for (const b of bytes) {
    if (b === quote || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return `${out}${String.fromCharCode(quote)}`;
}
