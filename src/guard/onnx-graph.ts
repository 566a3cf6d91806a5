/**
 * Expose intermediate tensors of an ONNX model as extra graph outputs, in memory, without touching anything
 * else: the ModelProto is copied byte for byte except its graph field, whose GraphProto gets one more `output`
 * (ValueInfoProto) per exposed tensor (its value_info entry copied when the graph has one, so the type and
 * shape are the exporter's). Protobuf lets repeated fields be appended anywhere in a message, so the nodes,
 * initializers and existing outputs are unchanged; the caller still verifies the original output is.
 * Hand-written for the same reason as src/gate/models/onnx-ops.ts (onnxruntime cannot edit a graph); it reads
 * only the fields it needs with that module's bounded protobuf walk.
 */
import { ModelError } from '../gate/models/types.js';

interface Span {
  start: number;
  end: number;
}

function varint(buf: Uint8Array, pos: { p: number }, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos.p >= end) throw new ModelError('ONNX model is truncated (varint)');
    const b = buf[pos.p++];
    result += (b & 0x7f) * mul;
    if (!(b & 0x80)) return result;
    mul *= 128;
  }
  throw new ModelError('ONNX model has a malformed varint');
}

/** Each field of a message region: field number, wire type, value span (for wire type 2) and whole span. */
function* fields(
  buf: Uint8Array,
  start: number,
  end: number,
): Generator<{ field: number; wire: number; value: Span; whole: Span }> {
  const pos = { p: start };
  while (pos.p < end) {
    const s = pos.p;
    const key = varint(buf, pos, end);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: Span = { start: pos.p, end: pos.p };
    if (wire === 0) varint(buf, pos, end);
    else if (wire === 1) pos.p += 8;
    else if (wire === 5) pos.p += 4;
    else if (wire === 2) {
      const len = varint(buf, pos, end);
      value = { start: pos.p, end: pos.p + len };
      pos.p += len;
    } else throw new ModelError(`ONNX model uses protobuf wire type ${wire}, which is not valid here`);
    if (pos.p > end) throw new ModelError('ONNX model is truncated');
    yield { field, wire, value, whole: { start: s, end: pos.p } };
  }
}

const dec = new TextDecoder();
const str = (buf: Uint8Array, s: Span) => dec.decode(buf.subarray(s.start, s.end));

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface GraphInfo {
  nodes: GraphNode[];
  inputs: string[];
  outputs: string[];
  initializers: Set<string>;
  /** value_info entries by tensor name (raw ValueInfoProto bytes). */
  valueInfo: Map<string, Uint8Array>;
  /** Where the graph field sits in the ModelProto. */
  graph: { whole: Span; value: Span };
}

function nameOfValueInfo(buf: Uint8Array, s: Span): string {
  for (const f of fields(buf, s.start, s.end)) if (f.field === 1 && f.wire === 2) return str(buf, f.value);
  return '';
}

/** Read the main graph's nodes, inputs, outputs, initializers and value_info. */
export function readGraph(buf: Uint8Array): GraphInfo {
  let graph: { whole: Span; value: Span } | undefined;
  for (const f of fields(buf, 0, buf.length))
    if (f.field === 7 && f.wire === 2) graph = { whole: f.whole, value: f.value };
  if (!graph) throw new ModelError('ONNX model has no graph');
  const info: GraphInfo = {
    nodes: [],
    inputs: [],
    outputs: [],
    initializers: new Set(),
    valueInfo: new Map(),
    graph,
  };
  for (const f of fields(buf, graph.value.start, graph.value.end)) {
    if (f.wire !== 2) continue;
    if (f.field === 1) {
      const node: GraphNode = { op: '', inputs: [], outputs: [] };
      for (const g of fields(buf, f.value.start, f.value.end)) {
        if (g.wire !== 2) continue;
        if (g.field === 1) node.inputs.push(str(buf, g.value));
        else if (g.field === 2) node.outputs.push(str(buf, g.value));
        else if (g.field === 4) node.op = str(buf, g.value);
      }
      info.nodes.push(node);
    } else if (f.field === 5) {
      for (const g of fields(buf, f.value.start, f.value.end))
        if (g.field === 8 && g.wire === 2) info.initializers.add(str(buf, g.value)); // TensorProto.name
    } else if (f.field === 11) info.inputs.push(nameOfValueInfo(buf, f.value));
    else if (f.field === 12) info.outputs.push(nameOfValueInfo(buf, f.value));
    else if (f.field === 13)
      info.valueInfo.set(nameOfValueInfo(buf, f.value), buf.slice(f.value.start, f.value.end));
  }
  return info;
}

/** Tensors a node of the main graph produces (the names --layer accepts). */
export function layerNames(g: GraphInfo): string[] {
  return g.nodes.flatMap((n) => n.outputs).filter((x) => x !== '');
}

/**
 * The default layer: the data input of the last Gemm or MatMul whose weight is an initializer (the
 * representation the final classifier reads), or undefined when the graph has none.
 */
export function defaultLayer(g: GraphInfo): string | undefined {
  const produced = new Set(layerNames(g));
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (
      (n.op === 'Gemm' || n.op === 'MatMul') &&
      n.inputs.length >= 2 &&
      g.initializers.has(n.inputs[1]) &&
      produced.has(n.inputs[0])
    )
      return n.inputs[0];
  }
  return undefined;
}

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const head = [...encodeVarint(field * 8 + 2), ...encodeVarint(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** A copy of the model whose graph also outputs `names` (each must be a tensor some node produces). */
export function withExtraOutputs(buf: Uint8Array, names: string[]): Uint8Array {
  const g = readGraph(buf);
  const enc = new TextEncoder();
  const extra: Uint8Array[] = [];
  for (const name of names) {
    if (g.outputs.includes(name)) continue;
    // ValueInfoProto: the exporter's entry (name, type, shape) when there is one, else the name alone.
    const vi = g.valueInfo.get(name) ?? lengthDelimited(1, enc.encode(name));
    extra.push(lengthDelimited(12, vi));
  }
  const oldGraph = buf.subarray(g.graph.value.start, g.graph.value.end);
  const extraLen = extra.reduce((a, e) => a + e.length, 0);
  const newGraph = new Uint8Array(oldGraph.length + extraLen);
  newGraph.set(oldGraph, 0);
  let o = oldGraph.length;
  for (const e of extra) {
    newGraph.set(e, o);
    o += e.length;
  }
  const field = lengthDelimited(7, newGraph);
  const out = new Uint8Array(buf.length - (g.graph.whole.end - g.graph.whole.start) + field.length);
  out.set(buf.subarray(0, g.graph.whole.start), 0);
  out.set(field, g.graph.whole.start);
  out.set(buf.subarray(g.graph.whole.end), g.graph.whole.start + field.length);
  return out;
}
