/**
 * The format registry. The orchestrator asks each format's `detect` in this order and hands the file to
 * the first that claims it. Order matters only where detections overlap:
 *   - formats that are zips with a narrower signature (e.g. Keras v3) go before `zip`;
 *   - joblib (a pickle with inline arrays, or a compressed one) goes before `pickle`;
 *   - `unknown` is last and claims everything.
 * Adding a format = one module + one line here.
 */

import { adapterConfigFormat } from './adapters.js';
import { ggufFormat } from './gguf.js';
import { joblibFormat } from './joblib.js';
import { kerasFormat } from './keras.js';
import { hdf5Format } from './keras-h5.js';
import { npyFormat } from './numpy.js';
import { onnxFormat } from './onnx.js';
import { pickleFormat } from './pickle.js';
import { legacyFormat } from './pytorch-legacy.js';
import { zipFormat } from './pytorch-zip.js';
import { safetensorsFormat } from './safetensors.js';
import { savedModelFormat } from './savedmodel.js';
import { tarFormat } from './tar.js';
import type { FormatScanner } from './types.js';
import { unknownFormat } from './unknown.js';

export const FORMATS: FormatScanner[] = [
  // -- zip-based formats with a narrower detect go here (before zipFormat) --
  kerasFormat,
  zipFormat,
  npyFormat,
  legacyFormat,
  tarFormat,
  // -- joblib goes here (before pickleFormat) --
  joblibFormat,
  pickleFormat,
  // -- other formats (safetensors, gguf, onnx, keras h5, savedmodel, ...) go here --
  safetensorsFormat,
  ggufFormat,
  hdf5Format,
  savedModelFormat,
  onnxFormat,
  adapterConfigFormat,
  unknownFormat,
];
