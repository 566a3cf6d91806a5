/**
 * TensorFlow SavedModel (`saved_model.pb`): every op of every meta graph's GraphDef and of its function
 * library is judged by an allowlist-first op policy. Walked with the bounded protobuf walker (tensor
 * constants are skipped, not read). Field numbers are facts of tensorflow/core/protobuf/saved_model.proto,
 * meta_graph.proto, framework/graph.proto, node_def.proto, function.proto, op_def.proto:
 *   SavedModel 2 meta_graphs; MetaGraphDef 1 meta_info_def (4 tags, 5 tensorflow_version), 2 graph_def,
 *   3 saver_def (1 filename_tensor_name); GraphDef 1 node, 2 library; FunctionDefLibrary 1 function;
 *   FunctionDef 1 signature (OpDef 1 name, 2 input_arg (ArgDef 1 name)), 3 node_def;
 *   NodeDef 1 name, 2 op, 3 input.
 *
 * Checkpoint ops (SaveV2/RestoreV2/MergeV2Checkpoints...) are how a SavedModel loads its variables: they
 * are info when their file name comes from the loader (a placeholder, a function argument, the saver's
 * filename tensor) and a file write/read finding when it is a constant baked into the graph.
 */
import type { Finding, Location } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import type { ByteSource } from '../source.js';
import { looksLikeSavedModel } from './onnx.js';
import { expectWire, ProtoError, type ProtoField, ProtoReader, WIRE } from './protobuf.js';
import {
  savedModelFileRead,
  savedModelFileWrite,
  savedModelMalformed,
  savedModelPythonOp,
  savedModelSummary,
  savedModelSystemOp,
  savedModelUnknownOp,
} from './rules-meta.js';
import { SAFE_TF_OPS } from './savedmodel-ops.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

export const TF_OP_CLASSES: Record<string, 'python' | 'write' | 'read' | 'system' | 'checkpoint'> = {
  PyFunc: 'python',
  PyFuncStateless: 'python',
  EagerPyFunc: 'python',
  WriteFile: 'write',
  WriteSummary: 'write',
  WriteScalarSummary: 'write',
  WriteHistogramSummary: 'write',
  WriteImageSummary: 'write',
  WriteAudioSummary: 'write',
  WriteGraphSummary: 'write',
  WriteRawProtoSummary: 'write',
  CreateSummaryFileWriter: 'write',
  CreateSummaryDbWriter: 'write',
  ImportEvent: 'write',
  FlushSummaryWriter: 'write',
  SaveDataset: 'write',
  SaveDatasetV2: 'write',
  DatasetToTFRecord: 'write',
  ExperimentalDatasetToTFRecord: 'write',
  SnapshotDataset: 'write',
  SnapshotDatasetV2: 'write',
  CacheDataset: 'write',
  CacheDatasetV2: 'write',
  DebugIdentityV2: 'write',
  PrintV2: 'write',
  RemoteCall: 'system',
  ReadFile: 'read',
  MatchingFiles: 'read',
  MatchingFilesDataset: 'read',
  ImmutableConst: 'read',
  WholeFileReader: 'read',
  WholeFileReaderV2: 'read',
  TextLineReader: 'read',
  TextLineReaderV2: 'read',
  FixedLengthRecordReader: 'read',
  FixedLengthRecordReaderV2: 'read',
  TFRecordReader: 'read',
  TFRecordReaderV2: 'read',
  LMDBReader: 'read',
  IdentityReader: 'read',
  IdentityReaderV2: 'read',
  ReaderRead: 'read',
  ReaderReadV2: 'read',
  ReaderReadUpTo: 'read',
  ReaderReadUpToV2: 'read',
  TextLineDataset: 'read',
  TFRecordDataset: 'read',
  TFRecordDatasetV2: 'read',
  FixedLengthRecordDataset: 'read',
  FixedLengthRecordDatasetV2: 'read',
  CSVDataset: 'read',
  CSVDatasetV2: 'read',
  ExperimentalCSVDataset: 'read',
  LoadDataset: 'read',
  ExperimentalLMDBDataset: 'read',
  LMDBDataset: 'read',
  InitializeTableFromTextFile: 'read',
  InitializeTableFromTextFileV2: 'read',
  LoadAndRemapMatrix: 'read',
  DecodeProtoV2: 'read',
  SqlDataset: 'system',
  ExperimentalSqlDataset: 'system',
  Rpc: 'system',
  TryRpc: 'system',
  DebugIdentity: 'system',
  DebugNanCount: 'system',
  DebugNumericSummary: 'system',
  DebugNumericSummaryV2: 'system',
  _Send: 'system',
  _Recv: 'system',
  _HostSend: 'system',
  _HostRecv: 'system',
  Save: 'checkpoint',
  SaveV2: 'checkpoint',
  SaveSlices: 'checkpoint',
  Restore: 'checkpoint',
  RestoreV2: 'checkpoint',
  RestoreSlice: 'checkpoint',
  MergeV2Checkpoints: 'checkpoint',
  ShardedFilename: 'checkpoint',
  ShardedFilespec: 'checkpoint',
};
const CHECKPOINT_WRITES = new Set(['Save', 'SaveV2', 'SaveSlices', 'MergeV2Checkpoints']);

interface TfNode {
  name: string;
  op: string;
  inputs: string[];
  scope: string;
}
interface Scope {
  name: string;
  nodes: TfNode[];
  args: Set<string>;
}

export function detectSavedModel({ head, name }: DetectInput): boolean {
  if (head.length < 4 || head[0] !== 0x08) return looksLikeSavedModelAlt(head, name);
  return looksLikeSavedModel(head);
}

/** A SavedModel whose schema version is 0 omits field 1: it starts straight with meta_graphs (tag 0x12). */
function looksLikeSavedModelAlt(head: Uint8Array, name: string): boolean {
  return head[0] === 0x12 && head[2] !== undefined && /saved_model\.pb$/.test(name);
}

async function parseNodeDef(r: ProtoReader, f: ProtoField, depth: number, scope: string): Promise<TfNode> {
  const n: TfNode = { name: '', op: '', inputs: [], scope };
  await r.walk(f.start, f.end, depth, async (g) => {
    if (g.no === 1) n.name = await r.string(g, 1 << 16);
    else if (g.no === 2) n.op = await r.string(g, 4096);
    else if (g.no === 3 && n.inputs.length < 10_000) n.inputs.push(await r.string(g, 1 << 16));
  });
  return n;
}

async function parseFunction(r: ProtoReader, f: ProtoField, depth: number): Promise<Scope> {
  const scope: Scope = { name: '', nodes: [], args: new Set() };
  const nodeFields: ProtoField[] = [];
  await r.walk(f.start, f.end, depth, async (g) => {
    if (g.no === 1) {
      expectWire(g, WIRE.LEN, 'signature');
      await r.walk(g.start, g.end, depth + 1, async (h) => {
        if (h.no === 1) scope.name = await r.string(h, 1 << 16);
        else if (h.no === 2) {
          await r.walk(h.start, h.end, depth + 2, async (a) => {
            if (a.no === 1) scope.args.add(await r.string(a, 1 << 16));
          });
        }
      });
    } else if (g.no === 3) {
      expectWire(g, WIRE.LEN, 'node_def');
      nodeFields.push(g);
    }
  });
  for (const g of nodeFields) scope.nodes.push(await parseNodeDef(r, g, depth + 1, `function ${scope.name}`));
  return scope;
}

interface MetaGraph {
  tags: string[];
  tfVersion?: string;
  saverFilename?: string;
  scopes: Scope[];
}

async function parseSavedModel(r: ProtoReader): Promise<MetaGraph[]> {
  const metas: MetaGraph[] = [];
  await r.walk(0, r.size, 0, async (f) => {
    if (f.no !== 2) return;
    expectWire(f, WIRE.LEN, 'meta_graphs');
    const mg: MetaGraph = { tags: [], scopes: [] };
    await r.walk(f.start, f.end, 1, async (g) => {
      if (g.no === 1) {
        expectWire(g, WIRE.LEN, 'meta_info_def');
        await r.walk(g.start, g.end, 2, async (h) => {
          if (h.no === 4) mg.tags.push(await r.string(h, 4096));
          else if (h.no === 5) mg.tfVersion = await r.string(h, 4096);
        });
      } else if (g.no === 2) {
        expectWire(g, WIRE.LEN, 'graph_def');
        const main: Scope = { name: 'graph', nodes: [], args: new Set() };
        mg.scopes.push(main);
        await r.walk(g.start, g.end, 2, async (h) => {
          if (h.no === 1) {
            expectWire(h, WIRE.LEN, 'node');
            main.nodes.push(await parseNodeDef(r, h, 3, 'graph'));
          } else if (h.no === 2) {
            expectWire(h, WIRE.LEN, 'library');
            await r.walk(h.start, h.end, 3, async (lib) => {
              if (lib.no === 1) {
                expectWire(lib, WIRE.LEN, 'function');
                mg.scopes.push(await parseFunction(r, lib, 4));
              }
            });
          }
        });
      } else if (g.no === 3) {
        expectWire(g, WIRE.LEN, 'saver_def');
        await r.walk(g.start, g.end, 2, async (h) => {
          if (h.no === 1) mg.saverFilename = await r.string(h, 4096);
        });
      }
    });
    metas.push(mg);
  });
  if (metas.length === 0) throw new ProtoError('SavedModel has no meta graph');
  return metas;
}

/** Where a node's first input ultimately comes from (through Identity/StringJoin/ShardedFilename chains). */
function fileNameSource(
  scope: Scope,
  node: TfNode,
  saverFilename: string | undefined,
): 'loader' | 'constant' | 'computed' {
  const byName = new Map(scope.nodes.map((n) => [n.name, n]));
  let cur: string | undefined = node.inputs[0];
  for (let hops = 0; cur !== undefined && hops < 32; hops++) {
    const base = cur.replace(/^\^/, '').split(':')[0];
    if (scope.args.has(base)) return 'loader';
    if (saverFilename && base === saverFilename.split(':')[0]) return 'loader';
    const n = byName.get(base);
    if (!n) return 'computed';
    if (n.op === 'Placeholder' || n.op === 'PlaceholderWithDefault') return 'loader';
    if (n.op === 'Const') return 'constant';
    // Name plumbing of TF's savers: StringJoin(prefix, suffix), ShardedFilename, Pack of shard names.
    if (
      ['Identity', 'StringJoin', 'ShardedFilename', 'IdentityN', 'Pack', 'ExpandDims', 'Reshape'].includes(
        n.op,
      )
    )
      cur = n.inputs[0];
    else return 'computed';
  }
  return 'computed';
}

export async function scanSavedModel(
  source: ByteSource,
  ctx: Pick<ScanContext, 'displayPath'>,
): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  let metas: MetaGraph[];
  try {
    metas = await parseSavedModel(new ProtoReader(source));
  } catch (err) {
    if (!(err instanceof ProtoError)) throw err;
    findings.push(
      makeFinding(savedModelMalformed, `SavedModel cannot be parsed: ${err.message}`, {
        location,
        evidence: { problem: err.message },
      }),
    );
    return { format: 'tf-savedmodel', complete: false, findings };
  }
  const grouped = new Map<
    string,
    { rule: typeof savedModelPythonOp; op: string; scopes: Set<string>; nodes: string[]; note?: string }
  >();
  const note = (rule: typeof savedModelPythonOp, op: string, n: TfNode, extra?: string) => {
    const k = `${rule.id}|${op}|${extra ?? ''}`;
    if (!grouped.has(k)) grouped.set(k, { rule, op, scopes: new Set(), nodes: [], note: extra });
    const g = grouped.get(k);
    g?.scopes.add(n.scope);
    if (g && g.nodes.length < 5) g.nodes.push(n.name);
  };
  let nodes = 0;
  const checkpointIo: string[] = [];
  for (const mg of metas) {
    const functions = new Set(mg.scopes.map((s) => s.name));
    for (const scope of mg.scopes) {
      for (const n of scope.nodes) {
        nodes++;
        const cls = TF_OP_CLASSES[n.op];
        if (cls === 'python') note(savedModelPythonOp, n.op, n);
        else if (cls === 'write') note(savedModelFileWrite, n.op, n);
        else if (cls === 'read') note(savedModelFileRead, n.op, n);
        else if (cls === 'system') note(savedModelSystemOp, n.op, n);
        else if (cls === 'checkpoint') {
          if (n.op === 'ShardedFilename' || n.op === 'ShardedFilespec') continue;
          const src = fileNameSource(scope, n, mg.saverFilename);
          if (src === 'loader') {
            if (checkpointIo.length < 20) checkpointIo.push(`${n.op} in ${n.scope}`);
          } else {
            const rule = CHECKPOINT_WRITES.has(n.op) ? savedModelFileWrite : savedModelFileRead;
            note(
              rule,
              n.op,
              n,
              `its file name is ${src === 'constant' ? 'a constant baked into the graph' : 'computed inside the graph'}, not the loader's checkpoint path`,
            );
          }
        } else if (!SAFE_TF_OPS.has(n.op) && !functions.has(n.op)) note(savedModelUnknownOp, n.op, n);
      }
    }
  }
  for (const g of grouped.values()) {
    const what =
      g.rule === savedModelUnknownOp
        ? `op ${g.op} is not on the allowlist of known-safe TensorFlow ops`
        : `op ${g.op} ${g.rule === savedModelPythonOp ? 'runs Python' : g.rule === savedModelFileWrite ? 'writes files' : g.rule === savedModelFileRead ? 'reads files' : 'reaches outside the process'}${g.note ? `: ${g.note}` : ''}`;
    findings.push(
      makeFinding(g.rule, `${what} (in ${[...g.scopes].slice(0, 3).join(', ')})`, {
        location: { ...location, entry: [...g.scopes][0] },
        evidence: { op: g.op, nodes: g.nodes, scopes: [...g.scopes].slice(0, 10) },
      }),
    );
  }
  const details = {
    metaGraphs: metas.map((m) => ({
      tags: m.tags,
      tensorflowVersion: m.tfVersion,
      functions: m.scopes.length - 1,
    })),
    nodes,
    checkpointIo,
  };
  findings.push(
    makeFinding(savedModelSummary, `SavedModel with ${metas.length} meta graph(s) and ${nodes} ops`, {
      location,
      evidence: details,
    }),
  );
  return { format: 'tf-savedmodel', complete: true, findings, details };
}

export const savedModelFormat: FormatScanner = {
  id: 'tf-savedmodel',
  title: 'TensorFlow SavedModel',
  detect: detectSavedModel,
  scan: (source, ctx) => scanSavedModel(source, ctx),
};
