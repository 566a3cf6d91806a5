/**
 * The format registry. The orchestrator asks each format's `detect` in this order and hands the file to
 * the first that claims it. Structure first, pickle last:
 *   - formats with a magic number or a self-consistent structure (zip and the zips with a narrower signature
 *     before it, npy, torch legacy, tar, safetensors, GGUF, HDF5, protobufs, MessagePack, SentencePiece,
 *     tiktoken, PEFT configs): a file whose bytes satisfy one of these is that format, even when its first
 *     bytes also happen to be pickle opcodes (a Flax fixmap, a safetensors header length);
 *   - joblib (a pickle with inline arrays, or a compressed one), then `pickle`, which claims a genuine pickle
 *     whatever its name and a merely well-formed prefix only under a name loaders unpickle (detect.ts);
 *   - `unknown` is last and claims everything.
 * The orchestrator still checks every non-pickle result for a genuine pickle start (a polyglot).
 * Adding a format = one module + one line here.
 */

import { adapterConfigFormat } from './adapters.js';
import { ggufFormat } from './gguf.js';
import { joblibFormat } from './joblib.js';
import { kerasFormat } from './keras.js';
import { hdf5Format } from './keras-h5.js';
import { msgpackFormat } from './msgpack.js';
import { npyFormat } from './numpy.js';
import { onnxFormat } from './onnx.js';
import { pickleFormat } from './pickle.js';
import { legacyFormat } from './pytorch-legacy.js';
import { zipFormat } from './pytorch-zip.js';
import { safetensorsFormat } from './safetensors.js';
import { savedModelFormat } from './savedmodel.js';
import { sentencePieceFormat } from './sentencepiece.js';
import { tarFormat } from './tar.js';
import { tiktokenFormat } from './tiktoken.js';
import type { FormatScanner } from './types.js';
import { unknownFormat } from './unknown.js';

export const FORMATS: FormatScanner[] = [
  kerasFormat,
  zipFormat,
  npyFormat,
  legacyFormat,
  tarFormat,
  safetensorsFormat,
  ggufFormat,
  hdf5Format,
  savedModelFormat,
  onnxFormat,
  sentencePieceFormat,
  msgpackFormat,
  tiktokenFormat,
  adapterConfigFormat,
  joblibFormat,
  pickleFormat,
  unknownFormat,
];
