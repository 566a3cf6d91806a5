/**
 * ONNX models (protobuf ModelProto). Walked with the bounded wire-format walker in protobuf.ts, which
 * skips initializer bytes, so a large model costs what its graph costs. Field numbers are the facts of
 * onnx/onnx.proto (ModelProto 7 graph, 8 opset_import, 14 metadata_props, 20 training_info, 25 functions;
 * GraphProto 1 node, 5 initializer, 15 sparse_initializer; NodeProto 4 op_type, 7 domain, 5 attribute;
 * AttributeProto 5 t, 6 g, 10 tensors, 11 graphs, 22/23 sparse; TensorProto 8 name, 13 external_data,
 * 14 data_location; FunctionProto 1 name, 10 domain, 7 node).
 *
 * Checks: external data locations (absolute, `..`, symlinks out of the model folder, missing files,
 * ranges past the file), operator domains outside the standard ones and the model's own functions,
 * nested graphs (If/Loop/Scan bodies, training graphs, functions) walked like the main graph, size and
 * nesting bounds. A model that cannot be walked completely blocks.
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { Finding, Location } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { expectWire, headFields, ProtoError, type ProtoField, ProtoReader, WIRE } from './protobuf.js';
import {
  onnxCustomDomain,
  onnxExternalDataMissing,
  onnxExternalDataPath,
  onnxMalformed,
  onnxStructure,
} from './rules-meta.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

/** Domains every ONNX runtime implements itself (ONNX standard + ONNX Runtime's built-in contrib domains). */
export const STANDARD_ONNX_DOMAINS = new Set([
  '',
  'ai.onnx',
  'ai.onnx.ml',
  'ai.onnx.training',
  'ai.onnx.preview.training',
  'com.microsoft',
  'com.microsoft.nchwc',
  'com.microsoft.experimental',
  'com.ms.internal.nhwc',
]);

interface OnnxNode {
  op: string;
  domain: string;
  name: string;
  graph: string;
}
interface ExternalRef {
  tensor: string;
  graph: string;
  location?: string;
  offset?: number;
  length?: number;
}
interface OnnxModel {
  irVersion?: number;
  producer?: string;
  producerVersion?: string;
  domain?: string;
  opsets: Record<string, number>;
  metadata: Record<string, string>;
  nodes: OnnxNode[];
  functions: Array<{ domain: string; name: string }>;
  subgraphs: string[];
  initializers: number;
  external: ExternalRef[];
}

export function detectOnnx({ head }: DetectInput): boolean {
  if (head.length < 4 || head[0] !== 0x08) return false;
  const fields = headFields(head);
  if (fields.length < 2 || fields[0].no !== 1 || fields[0].wire !== 0 || fields[0].value > 100) return false;
  const known: Record<number, number> = {
    1: 0,
    2: 2,
    3: 2,
    4: 2,
    5: 0,
    6: 2,
    7: 2,
    8: 2,
    14: 2,
    20: 2,
    25: 2,
    26: 2,
  };
  if (!fields.every((f) => known[f.no] === undefined || known[f.no] === f.wire)) return false;
  if (looksLikeSavedModel(head)) return false;
  return fields.some((f) => f.no === 7 || f.no === 8);
}

/** SavedModel: field 1 schema version, field 2 MetaGraphDef starting with meta_info_def (tag 0x0a). */
export function looksLikeSavedModel(head: Uint8Array): boolean {
  const fields = headFields(head, 4);
  const f2 = fields.find((f) => f.no === 2);
  return !!f2 && f2.wire === 2 && head[f2.start] === 0x0a && fields[0]?.no === 1;
}

async function parseModel(r: ProtoReader): Promise<OnnxModel> {
  const m: OnnxModel = {
    opsets: {},
    metadata: {},
    nodes: [],
    functions: [],
    subgraphs: [],
    initializers: 0,
    external: [],
  };
  let sawGraph = false;
  await r.walk(0, r.size, 0, async (f) => {
    switch (f.no) {
      case 1:
        expectWire(f, WIRE.VARINT, 'ir_version');
        m.irVersion = f.value;
        break;
      case 2:
        m.producer = await r.string(f, 4096);
        break;
      case 3:
        m.producerVersion = await r.string(f, 4096);
        break;
      case 4:
        m.domain = await r.string(f, 4096);
        break;
      case 7:
        expectWire(f, WIRE.LEN, 'graph');
        sawGraph = true;
        await parseGraph(r, f, 1, 'graph', m);
        break;
      case 8:
        expectWire(f, WIRE.LEN, 'opset_import');
        await parseOpset(r, f, m.opsets);
        break;
      case 14:
        expectWire(f, WIRE.LEN, 'metadata_props');
        await parseStringEntry(r, f, m.metadata);
        break;
      case 20: // TrainingInfoProto: 1 initialization, 2 algorithm (graphs)
        expectWire(f, WIRE.LEN, 'training_info');
        await r.walk(f.start, f.end, 1, async (g) => {
          if (g.no === 1 || g.no === 2) {
            expectWire(g, WIRE.LEN, 'training graph');
            const name = g.no === 1 ? 'training.initialization' : 'training.algorithm';
            m.subgraphs.push(name);
            await parseGraph(r, g, 2, name, m);
          }
        });
        break;
      case 25:
        expectWire(f, WIRE.LEN, 'functions');
        await parseFunction(r, f, m);
        break;
      default:
        break;
    }
  });
  if (!sawGraph) throw new ProtoError('ModelProto has no graph');
  return m;
}

async function parseOpset(r: ProtoReader, f: ProtoField, out: Record<string, number>): Promise<void> {
  let domain = '';
  let version = 0;
  await r.walk(f.start, f.end, 2, async (g) => {
    if (g.no === 1) domain = await r.string(g, 4096);
    else if (g.no === 2) version = g.value;
  });
  out[domain || 'ai.onnx'] = version;
}

async function parseStringEntry(r: ProtoReader, f: ProtoField, out: Record<string, string>): Promise<void> {
  let k = '';
  let v = '';
  await r.walk(f.start, f.end, 3, async (g) => {
    if (g.no === 1) k = await r.string(g, 4096);
    else if (g.no === 2) v = await r.string(g, 1 << 20);
  });
  if (Object.keys(out).length < 1000) out[k] = v.length > 500 ? `${v.slice(0, 500)}…` : v;
}

async function parseGraph(
  r: ProtoReader,
  f: ProtoField,
  depth: number,
  path: string,
  m: OnnxModel,
): Promise<void> {
  await r.walk(f.start, f.end, depth, async (g) => {
    switch (g.no) {
      case 1:
        expectWire(g, WIRE.LEN, 'node');
        await parseNode(r, g, depth + 1, path, m);
        break;
      case 5:
        expectWire(g, WIRE.LEN, 'initializer');
        m.initializers++;
        await parseTensor(r, g, depth + 1, path, m);
        break;
      case 15: // SparseTensorProto: 1 values, 2 indices
        expectWire(g, WIRE.LEN, 'sparse_initializer');
        m.initializers++;
        await r.walk(g.start, g.end, depth + 1, async (h) => {
          if (h.no === 1 || h.no === 2) {
            expectWire(h, WIRE.LEN, 'sparse tensor part');
            await parseTensor(r, h, depth + 2, path, m);
          }
        });
        break;
      default:
        break;
    }
  });
}

async function parseNode(
  r: ProtoReader,
  f: ProtoField,
  depth: number,
  path: string,
  m: OnnxModel,
): Promise<void> {
  const node: OnnxNode = { op: '', domain: '', name: '', graph: path };
  const attrs: ProtoField[] = [];
  await r.walk(f.start, f.end, depth, async (g) => {
    if (g.no === 4) node.op = await r.string(g, 4096);
    else if (g.no === 7) node.domain = await r.string(g, 4096);
    else if (g.no === 3) node.name = await r.string(g, 4096);
    else if (g.no === 5) {
      expectWire(g, WIRE.LEN, 'attribute');
      attrs.push(g);
    }
  });
  m.nodes.push(node);
  for (const a of attrs) await parseAttribute(r, a, depth + 1, `${path}/${node.name || node.op}`, m);
}

async function parseAttribute(
  r: ProtoReader,
  f: ProtoField,
  depth: number,
  path: string,
  m: OnnxModel,
): Promise<void> {
  let name = '';
  const nested: ProtoField[] = [];
  await r.walk(f.start, f.end, depth, async (g) => {
    if (g.no === 1) name = await r.string(g, 4096);
    else if ([5, 6, 10, 11, 22, 23].includes(g.no)) {
      expectWire(g, WIRE.LEN, 'attribute value');
      nested.push(g);
    }
  });
  let k = 0;
  for (const g of nested) {
    if (g.no === 6 || g.no === 11) {
      const sub = `${path}.${name || 'attr'}${g.no === 11 ? `[${k++}]` : ''}`;
      m.subgraphs.push(sub);
      await parseGraph(r, g, depth + 1, sub, m);
    } else if (g.no === 5 || g.no === 10) await parseTensor(r, g, depth + 1, path, m);
    else {
      await r.walk(g.start, g.end, depth + 1, async (h) => {
        if (h.no === 1 || h.no === 2) await parseTensor(r, h, depth + 2, path, m);
      });
    }
  }
}

/** TensorProto.DataType -> bits per element (STRING = 8 has no fixed size). */
const ONNX_DTYPE_BITS: Record<number, number> = {
  1: 32,
  2: 8,
  3: 8,
  4: 16,
  5: 16,
  6: 32,
  7: 64,
  9: 8,
  10: 16,
  11: 64,
  12: 32,
  13: 64,
  14: 64,
  15: 128,
  16: 16,
  17: 8,
  18: 8,
  19: 8,
  20: 8,
  21: 4,
  22: 4,
  23: 4,
};

async function parseTensor(
  r: ProtoReader,
  f: ProtoField,
  depth: number,
  path: string,
  m: OnnxModel,
): Promise<void> {
  let name = '';
  let location = 0;
  let dataType = 0;
  let rawLength: number | undefined;
  const dims: number[] = [];
  const ext: Record<string, string> = {};
  await r.walk(f.start, f.end, depth, async (g) => {
    if (g.no === 8) name = await r.string(g, 1 << 16);
    else if (g.no === 1) {
      if (dims.length < 64) dims.push(...(await r.varints(g, 64)));
    } else if (g.no === 2) {
      expectWire(g, WIRE.VARINT, 'data_type');
      dataType = g.value;
    } else if (g.no === 9) {
      expectWire(g, WIRE.LEN, 'raw_data');
      rawLength = g.end - g.start; // length only: tensor bytes are never read
    } else if (g.no === 14) {
      expectWire(g, WIRE.VARINT, 'data_location');
      location = g.value;
    } else if (g.no === 13) {
      expectWire(g, WIRE.LEN, 'external_data');
      let k = '';
      let v = '';
      await r.walk(g.start, g.end, depth + 1, async (h) => {
        if (h.no === 1) k = await r.string(h, 4096);
        else if (h.no === 2) v = await r.string(h, 1 << 16);
      });
      ext[k] = v;
    }
  });
  // Size bound: raw bytes (inline or external) must be exactly what dims x dtype need; a runtime that trusts
  // the dims reads past the buffer otherwise.
  const bits = ONNX_DTYPE_BITS[dataType];
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  const declared = rawLength ?? (location === 1 ? num(ext.length) : undefined);
  if (bits !== undefined && declared !== undefined) {
    const count = dims.reduce((a, d) => a * BigInt(d), 1n);
    const need = (count * BigInt(bits) + 7n) / 8n;
    if (BigInt(declared) !== need) {
      throw new ProtoError(
        `tensor ${name || '(unnamed)'} holds ${declared} bytes but its dims [${dims.join(', ')}] and data type ${dataType} need ${need}`,
      );
    }
  }
  if (location === 1 || Object.keys(ext).length) {
    m.external.push({
      tensor: name,
      graph: path,
      location: ext.location,
      offset: num(ext.offset),
      length: num(ext.length),
    });
  }
}

async function parseFunction(r: ProtoReader, f: ProtoField, m: OnnxModel): Promise<void> {
  let name = '';
  let domain = '';
  const nodes: ProtoField[] = [];
  await r.walk(f.start, f.end, 1, async (g) => {
    if (g.no === 1) name = await r.string(g, 4096);
    else if (g.no === 10) domain = await r.string(g, 4096);
    else if (g.no === 7) {
      expectWire(g, WIRE.LEN, 'function node');
      nodes.push(g);
    }
  });
  m.functions.push({ domain, name });
  const path = `function ${domain}.${name}`;
  m.subgraphs.push(path);
  for (const n of nodes) await parseNode(r, n, 2, path, m);
}

/** The real folder of the model file, when it is a file on disk (not an archive member). */
async function modelFolder(source: ByteSource, displayPath: string): Promise<string | undefined> {
  for (const p of [source.name, displayPath]) {
    if (!p || p.includes('!')) continue;
    try {
      if ((await stat(p)).isFile()) return await realpath(dirname(p));
    } catch {
      /* not a file path */
    }
  }
  return undefined;
}

async function checkExternal(
  refs: ExternalRef[],
  folder: string | undefined,
  location: Location,
  findings: Finding[],
): Promise<string[]> {
  const files = new Set<string>();
  const sizes = new Map<string, number | null>();
  for (const ref of refs) {
    const loc = ref.location;
    const where = { ...location, tensor: ref.tensor };
    const ev = { tensor: ref.tensor, graph: ref.graph, location: loc };
    if (loc === undefined || loc === '') {
      findings.push(
        makeFinding(
          onnxExternalDataMissing,
          `tensor ${ref.tensor} is stored externally but names no location`,
          { location: where, evidence: ev },
        ),
      );
      continue;
    }
    files.add(loc);
    const parts = loc.split(/[\\/]+/);
    let reason: string | undefined;
    if (loc.includes('\0')) reason = 'contains a NUL byte';
    else if (isAbsolute(loc) || /^[A-Za-z]:/.test(loc) || loc.startsWith('\\') || loc.startsWith('/'))
      reason = 'is an absolute path';
    else if (parts.includes('..')) reason = 'climbs out of the model folder with ".."';
    else if (/^[a-z][a-z0-9+.-]*:/i.test(loc)) reason = 'is a URL';
    if (reason) {
      findings.push(
        makeFinding(
          onnxExternalDataPath,
          `external data location ${JSON.stringify(loc)} of tensor ${ref.tensor} ${reason}`,
          {
            location: where,
            evidence: { ...ev, reason },
          },
        ),
      );
      continue;
    }
    if (!folder) {
      findings.push(
        makeFinding(
          onnxExternalDataMissing,
          `tensor ${ref.tensor} keeps its data in ${JSON.stringify(loc)}, which cannot be checked here (model inside an archive or not on disk)`,
          {
            location: where,
            evidence: ev,
          },
        ),
      );
      continue;
    }
    const full = join(folder, ...parts);
    let size = sizes.get(full);
    if (size === undefined) {
      try {
        await lstat(full);
        const real = await realpath(full);
        const rel = relative(folder, real);
        if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
          findings.push(
            makeFinding(
              onnxExternalDataPath,
              `external data ${JSON.stringify(loc)} of tensor ${ref.tensor} is a symlink resolving outside the model folder (${real})`,
              {
                location: where,
                evidence: { ...ev, resolved: real, reason: 'symlink out of the model folder' },
              },
            ),
          );
          sizes.set(full, null);
          continue;
        }
        size = (await stat(real)).size;
      } catch {
        size = null;
      }
      sizes.set(full, size);
    }
    if (size === null) {
      if (!findings.some((f) => f.evidence?.location === loc)) {
        findings.push(
          makeFinding(
            onnxExternalDataMissing,
            `external data file ${JSON.stringify(loc)} (tensor ${ref.tensor}) is missing`,
            { location: where, evidence: ev },
          ),
        );
      }
      continue;
    }
    const off = ref.offset ?? 0;
    const end = ref.length !== undefined ? off + ref.length : size;
    if (off > size || end > size) {
      findings.push(
        makeFinding(
          onnxExternalDataMissing,
          `tensor ${ref.tensor} reads [${off}, ${end}) of ${JSON.stringify(loc)}, which has ${size} bytes`,
          {
            location: where,
            evidence: { ...ev, offset: off, end, size },
          },
        ),
      );
    }
  }
  return [...files];
}

export async function scanOnnx(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  let m: OnnxModel;
  try {
    m = await parseModel(new ProtoReader(source));
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    findings.push(
      makeFinding(onnxMalformed, `ONNX model cannot be parsed: ${err.message}`, {
        location,
        evidence: { problem: err.message },
      }),
    );
    return { format: 'onnx', complete: false, findings };
  }
  const local = new Set(m.functions.map((f) => `${f.domain}\u0000${f.name}`));
  const custom = new Map<string, OnnxNode[]>();
  for (const n of m.nodes) {
    if (STANDARD_ONNX_DOMAINS.has(n.domain) || local.has(`${n.domain}\u0000${n.op}`)) continue;
    const key = `${n.domain}::${n.op}`;
    if (!custom.has(key)) custom.set(key, []);
    custom.get(key)?.push(n);
  }
  for (const [key, nodes] of custom) {
    const [domain, op] = key.split('::');
    findings.push(
      makeFinding(
        onnxCustomDomain,
        `operator ${op} of domain ${JSON.stringify(domain)} is a custom op (${nodes.length} node(s)); it needs a native library outside the model`,
        {
          location: { ...location, entry: nodes[0].graph },
          evidence: { domain, op, nodes: nodes.length, examples: nodes.slice(0, 5).map((n) => n.name) },
        },
      ),
    );
  }
  const folder = await modelFolder(source, ctx.displayPath);
  const externalFiles = await checkExternal(m.external, folder, location, findings);
  // The files the runtime will read as tensor bytes (those that stay inside the model folder).
  const references = folder
    ? externalFiles
        .filter(
          (loc) => !loc.includes('\0') && !isAbsolute(loc) && !/^[A-Za-z]:|^[a-z][a-z0-9+.-]*:/i.test(loc),
        )
        .map((loc) => loc.split(/[\\/]+/))
        .filter((parts) => !parts.includes('..'))
        .map((parts) => join(folder, ...parts))
    : [];
  const ops: Record<string, number> = {};
  for (const n of m.nodes) {
    const k = n.domain ? `${n.domain}.${n.op}` : n.op;
    ops[k] = (ops[k] ?? 0) + 1;
  }
  const details = {
    irVersion: m.irVersion,
    producer: m.producer,
    producerVersion: m.producerVersion,
    opsets: m.opsets,
    metadata: m.metadata,
    nodes: m.nodes.length,
    initializers: m.initializers,
    functions: m.functions.map((f) => `${f.domain}.${f.name}`).slice(0, 100),
    subgraphs: m.subgraphs.slice(0, 100),
    externalDataFiles: externalFiles.slice(0, 100),
    opTypes: Object.keys(ops).length,
  };
  findings.push(
    makeFinding(
      onnxStructure,
      `ONNX model (${m.producer || 'unknown producer'}) with ${m.nodes.length} nodes, ${m.subgraphs.length} nested graphs/functions`,
      {
        location,
        evidence: details,
      },
    ),
  );
  return { format: 'onnx', complete: true, findings, details, references };
}

export const onnxFormat: FormatScanner = {
  id: 'onnx',
  title: 'ONNX',
  detect: detectOnnx,
  scan: (source, ctx) => scanOnnx(source, ctx),
};
