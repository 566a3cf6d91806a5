/**
 * List the operator domains an ONNX model uses, by walking its protobuf (ModelProto.opset_import, every
 * NodeProto.domain including subgraphs and local functions) and whether any tensor points at external data.
 * Hand-written because onnxruntime exposes none of this and the gate must refuse custom-op models before a
 * session is created; it reads only the few fields it needs and skips everything else by wire type.
 */
import { ModelError } from './types.js';

export const STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml']);

interface Found {
  domains: Set<string>;
  externalData: boolean;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ModelError('ONNX model is truncated (varint)');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (!(b & 0x80)) return result;
      mul *= 128;
    }
    throw new ModelError('ONNX model has a malformed varint');
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 5) this.pos += 4;
    else if (wire === 2) this.pos += this.varint();
    else throw new ModelError(`ONNX model uses protobuf wire type ${wire}, which is not valid here`);
    if (this.pos > this.end) throw new ModelError('ONNX model is truncated');
  }
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new ModelError('ONNX model is truncated');
    return [start, this.pos];
  }
}

const text = new TextDecoder();

/** Iterate length-delimited fields of a message region, calling `on(field, start, end)`. */
function walk(
  buf: Uint8Array,
  start: number,
  end: number,
  on: (field: number, s: number, e: number) => void,
): void {
  const r = new Reader(buf, end);
  r.pos = start;
  while (r.pos < end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 2) {
      const [s, e] = r.bytes();
      on(field, s, e);
    } else if (wire === 0 && field === 14) {
      // TensorProto.data_location = EXTERNAL (1)
      if (r.varint() === 1) on(-14, 0, 0);
    } else r.skip(wire);
  }
}

function graph(buf: Uint8Array, s: number, e: number, found: Found, depth: number): void {
  if (depth > 64) throw new ModelError('ONNX model nests subgraphs too deeply');
  walk(buf, s, e, (f, a, b) => {
    if (f === 1)
      node(buf, a, b, found, depth); // GraphProto.node
    else if (f === 5 || f === 15) tensor(buf, a, b, found); // initializer, sparse_initializer
  });
}

function tensor(buf: Uint8Array, s: number, e: number, found: Found): void {
  walk(buf, s, e, (f) => {
    if (f === -14) found.externalData = true;
  });
}

function node(buf: Uint8Array, s: number, e: number, found: Found, depth: number): void {
  let domain = '';
  walk(buf, s, e, (f, a, b) => {
    if (f === 7)
      domain = text.decode(buf.subarray(a, b)); // NodeProto.domain
    else if (f === 5) attribute(buf, a, b, found, depth); // NodeProto.attribute
  });
  found.domains.add(domain);
}

function attribute(buf: Uint8Array, s: number, e: number, found: Found, depth: number): void {
  walk(buf, s, e, (f, a, b) => {
    if (f === 6 || f === 11)
      graph(buf, a, b, found, depth + 1); // g, graphs
    else if (f === 5 || f === 10) tensor(buf, a, b, found); // t, tensors
  });
}

export function onnxDomains(buf: Uint8Array): Found {
  const found: Found = { domains: new Set(), externalData: false };
  walk(buf, 0, buf.length, (f, a, b) => {
    if (f === 7)
      graph(buf, a, b, found, 0); // ModelProto.graph
    else if (f === 8) {
      // ModelProto.opset_import: OperatorSetIdProto.domain = 1
      let d = '';
      walk(buf, a, b, (g, x, y) => {
        if (g === 1) d = text.decode(buf.subarray(x, y));
      });
      found.domains.add(d);
    } else if (f === 25) {
      // ModelProto.functions: FunctionProto.node = 7, FunctionProto.domain = 10
      walk(buf, a, b, (g, x, y) => {
        if (g === 7) node(buf, x, y, found, 1);
        else if (g === 10) found.domains.add(text.decode(buf.subarray(x, y)));
      });
    }
  });
  return found;
}
