/**
 * HDF5 files: legacy Keras `.h5` models (and the weights file inside a `.keras` archive).
 *
 * Read with h5wasm (the HDF5 C library compiled to WebAssembly): the `model_config` / `training_config`
 * attributes are inspected like a Keras config (legacy Keras runs Lambda bytecode with no safe mode at
 * all: CVE-2024-3660, CVE-2025-9905); every object is visited for virtual datasets and external links.
 * h5wasm does not expose a dataset's external storage list, so that one check is hand-written: a
 * streaming pass finds External Data Files messages (HDF5 object header message type 7) whose local heap
 * address points at a real `HEAP` block, and reads the file names from that heap. Anything h5wasm cannot
 * open blocks as unanalysable. Dataset bytes are never read by h5wasm.
 */
import fs from 'node:fs';
import { stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushAll } from '../../core/arrays.js';
import { crypto } from '../../core/builtins.js';
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { inspectKerasConfig } from './keras-config.js';
import { h5ExternalStorage, h5VirtualDataset, kerasMalformed, kerasSummary } from './rules-meta.js';
import { isJsonObject, jsonSafe, parseStrictJson } from './strict-json.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

const SIG = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_OBJECTS = 1_000_000;

function sigAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 8; i++) if (b[at + i] !== SIG[i]) return false;
  return true;
}

/** The superblock sits at 0, 512, 1024, 2048, ... (after a user block). */
export function superblockOffset(head: Uint8Array): number {
  for (let at = 0; at + 8 <= head.length; at = at === 0 ? 512 : at * 2) if (sigAt(head, at)) return at;
  return -1;
}

export function detectHdf5({ head }: DetectInput): boolean {
  return superblockOffset(head) >= 0;
}

interface ExternalFile {
  name: string;
  offset: number;
  size: number;
}

const latin1 = new TextDecoder('latin1');

/** Find External Data Files messages (type 7) whose heap is real; return the file names they list. */
export async function findExternalStorage(source: ByteSource, base: number): Promise<ExternalFile[]> {
  const heaps = new Set<number>();
  const candidates: Array<{ heap: number; used: number; body: number }> = [];
  const chunk = 8 << 20;
  const overlap = 64;
  for (let start = 0; start < source.size; start += chunk) {
    const buf = await source.read(start, chunk + overlap);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const limit = Math.min(buf.length, chunk);
    for (
      let i = Buffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf('HEAP', 0, 'latin1');
      i >= 0 && i < limit;
    ) {
      heaps.add(start + i - base);
      i = Buffer.from(buf.buffer, buf.byteOffset, buf.length).indexOf('HEAP', i + 1, 'latin1');
    }
    for (let i = buf.indexOf(7); i >= 0 && i < limit; i = buf.indexOf(7, i + 1)) {
      // v1 header: type u16 (07 00), size u16, flags, 3 reserved -> body at +8; v2: type u8, size u16, flags [+2].
      for (const off of buf[i + 1] === 0 ? [8, 4, 6] : [4, 6]) {
        const b = i + off;
        if (b + 16 > buf.length) continue;
        if (buf[b] !== 1 || buf[b + 1] !== 0 || buf[b + 2] !== 0 || buf[b + 3] !== 0) continue;
        const alloc = dv.getUint16(b + 4, true);
        const used = dv.getUint16(b + 6, true);
        if (used < 1 || alloc < used || alloc > 4096) continue;
        const heap = dv.getBigUint64(b + 8, true);
        if (heap >= BigInt(source.size)) continue;
        candidates.push({ heap: Number(heap), used, body: start + b });
      }
    }
  }
  const out: ExternalFile[] = [];
  for (const c of candidates) {
    if (!heaps.has(c.heap)) continue;
    const h = await source.read(base + c.heap, 32);
    if (h.length < 32) continue;
    const hv = new DataView(h.buffer, h.byteOffset, 32);
    const segSize = Number(hv.getBigUint64(8, true));
    const segAddr = Number(hv.getBigUint64(24, true));
    const seg = await source.read(base + segAddr, Math.min(segSize, 1 << 20));
    const slots = await source.read(c.body + 16, c.used * 24);
    const sv = new DataView(slots.buffer, slots.byteOffset, slots.byteLength);
    for (let s = 0; s < c.used && (s + 1) * 24 <= slots.length; s++) {
      const nameOff = Number(sv.getBigUint64(s * 24, true));
      const end = seg.indexOf(0, nameOff);
      const name = latin1.decode(seg.subarray(nameOff, end < 0 ? seg.length : end));
      out.push({
        name,
        offset: Number(sv.getBigUint64(s * 24 + 8, true)),
        size: Number(sv.getBigUint64(s * 24 + 16, true)),
      });
    }
  }
  return out;
}

type H5 = typeof import('h5wasm/node');
let h5Promise: Promise<H5> | undefined;
async function loadH5(): Promise<H5> {
  h5Promise ??= (async () => {
    const m = await import('h5wasm/node');
    await m.ready;
    return m;
  })();
  return h5Promise;
}

async function localPath(source: ByteSource): Promise<{ path: string; cleanup?: () => Promise<void> }> {
  if (!source.name.includes('!')) {
    try {
      const st = await stat(source.name);
      if (st.isFile() && st.size === source.size) return { path: source.name };
    } catch {
      /* not a path */
    }
  }
  if (source.size > LIMITS.archive.maxEntryBytes)
    throw new Error(`HDF5 member of ${source.size} bytes is over the limit`);
  const path = join(tmpdir(), `antidote-h5-${crypto().randomBytes(6).toString('hex')}.h5`);
  await writeFile(path, await source.read(0, source.size), { mode: 0o600 });
  return { path, cleanup: () => unlink(path).catch(() => undefined) };
}

function attrText(attrs: Record<string, { value: unknown }>, name: string): string | undefined {
  const a = attrs[name];
  if (!a) return undefined;
  const v = a.value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

export async function scanHdf5(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  const head = await source.read(0, 64 * 1024);
  const base = Math.max(0, superblockOffset(head));
  for (const ext of await findExternalStorage(source, base)) {
    findings.push(
      makeFinding(
        h5ExternalStorage,
        `HDF5 dataset stores its bytes in external file ${JSON.stringify(ext.name)}; loading reads that host file`,
        {
          location,
          evidence: { file: ext.name, offset: ext.offset, size: ext.size },
        },
      ),
    );
  }
  let format = 'hdf5';
  let complete = true;
  const details: Record<string, unknown> = {};
  let local: { path: string; cleanup?: () => Promise<void> } | undefined;
  try {
    const h5 = await loadH5();
    local = await localPath(source);
    const path = local.path;
    // The HDF5 C library prints its error stack to stderr; keep it out of the report (the finding says why).
    const diag: string[] = [];
    // (Emscripten's NODERAWFS writes fd 2 with fs.writeSync.)
    const writeSync = fs.writeSync;
    fs.writeSync = ((fd: number, chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (fd !== 2) return (writeSync as (...a: unknown[]) => number)(fd, chunk, ...rest);
      const off = typeof rest[0] === 'number' ? rest[0] : 0;
      const len =
        typeof rest[1] === 'number'
          ? rest[1]
          : typeof chunk === 'string'
            ? Buffer.byteLength(chunk)
            : chunk.length - off;
      if (diag.length < 200)
        diag.push(
          typeof chunk === 'string' ? chunk : Buffer.from(chunk.subarray(off, off + len)).toString('utf8'),
        );
      return len;
    }) as typeof fs.writeSync;
    try {
      let file: InstanceType<H5['File']>;
      try {
        file = new h5.File(path, 'r');
        if (!file.file_id || file.file_id < 0n) throw new Error('h5wasm could not open it');
      } catch {
        // The innermost frame of the first HDF5 error stack says what is wrong (e.g. "truncated file").
        const first = diag.join('').split('HDF5-DIAG')[1] ?? '';
        const why = first
          .split('\n')
          .filter((l) => l.includes('(): '))
          .pop()
          ?.split('(): ')[1]
          ?.trim();
        throw new Error(`the HDF5 library cannot open it${why ? `: ${why}` : ''}`);
      }
      try {
        const attrs = file.attrs as unknown as Record<string, { value: unknown }>;
        for (const key of ['model_config', 'training_config']) {
          const text = attrText(attrs, key);
          if (text === undefined) continue;
          format = 'keras-h5';
          let doc: ReturnType<typeof parseStrictJson>;
          try {
            doc = jsonSafe(parseStrictJson(text, { bigIntegers: 'keep' }));
          } catch (err) {
            complete = false;
            findings.push(
              makeFinding(kerasMalformed, `${key} attribute is not strict JSON: ${(err as Error).message}`, {
                location,
              }),
            );
            continue;
          }
          pushAll(findings, inspectKerasConfig(doc, { ...location, entry: key }, `${key} attribute`));
          if (key === 'model_config' && isJsonObject(doc)) details.modelClass = doc.class_name;
        }
        details.kerasVersion = attrText(attrs, 'keras_version');
        details.backend = attrText(attrs, 'backend');
        // Visit every object: virtual datasets and external links make HDF5 open other files.
        let visited = 0;
        const stack = ['/'];
        while (stack.length) {
          const path = stack.pop() as string;
          const g = file.get(path);
          if (!g || !(g instanceof h5.Group)) continue;
          for (const k of g.keys()) {
            if (++visited > MAX_OBJECTS) throw new Error(`more than ${MAX_OBJECTS} HDF5 objects`);
            const child = `${path === '/' ? '' : path}/${k}`;
            const e = g.get(k);
            if (e instanceof h5.ExternalLink) {
              findings.push(
                makeFinding(
                  h5VirtualDataset,
                  `HDF5 external link ${child} points into ${JSON.stringify(e.filename)}`,
                  {
                    location: { ...location, tensor: child },
                    evidence: { object: child, file: e.filename, target: e.obj_path },
                  },
                ),
              );
            } else if (e instanceof h5.Group) stack.push(child);
            else if (e instanceof h5.Dataset) {
              const vs = e.metadata.virtual_sources;
              if (vs?.length) {
                findings.push(
                  makeFinding(
                    h5VirtualDataset,
                    `HDF5 virtual dataset ${child} reads from ${vs
                      .map((s) => JSON.stringify(s.file_name))
                      .slice(0, 5)
                      .join(', ')}`,
                    {
                      location: { ...location, tensor: child },
                      evidence: { object: child, sources: vs.slice(0, 20) },
                    },
                  ),
                );
              }
            }
          }
        }
        details.objects = visited;
      } finally {
        file.close();
      }
    } finally {
      fs.writeSync = writeSync;
    }
  } catch (err) {
    complete = false;
    findings.push(
      makeFinding(kerasMalformed, `HDF5 file cannot be analysed: ${(err as Error).message.split('\n')[0]}`, {
        location,
        evidence: { problem: String(err) },
      }),
    );
  } finally {
    await local?.cleanup?.();
  }
  if (format === 'keras-h5') {
    findings.push(
      makeFinding(kerasSummary, `legacy Keras HDF5 model ${String(details.modelClass ?? '')}`.trim(), {
        location,
        evidence: details,
      }),
    );
  }
  return { format, complete, findings, details };
}

export const hdf5Format: FormatScanner = {
  id: 'keras-h5',
  title: 'HDF5 / legacy Keras .h5',
  detect: detectHdf5,
  scan: (source, ctx) => scanHdf5(source, ctx),
};
