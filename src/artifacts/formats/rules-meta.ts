/**
 * Rule metadata of the non-pickle format scanners (issue 5): safetensors, GGUF, ONNX, Keras (.keras and
 * legacy .h5), TensorFlow SavedModel, TorchScript code, PEFT adapters and model repositories.
 *
 * The rule catalogue (src/artifacts/rules.ts) includes every entry of `formatRules`.
 * This file imports nothing heavy, so the catalogue can load it for SARIF without loading any scanner.
 */
import { ATLAS } from '../../core/atlas.js';
import type { RuleMeta } from '../../core/rule.js';

const rule = (
  id: string,
  title: string,
  severity: RuleMeta['severity'],
  atlas: string,
  rationale: string,
): RuleMeta => ({
  id,
  title,
  severity,
  atlas,
  rationale,
});

// ---- safetensors ---------------------------------------------------------------------------------------------
export const safetensorsMalformed = rule(
  'safetensors/malformed',
  'safetensors file is malformed',
  'high',
  ATLAS.unsafeArtifacts,
  'A safetensors file is an 8-byte header length, a JSON header and a byte buffer. Loaders differ on duplicate keys, overlapping or out-of-bounds offsets, trailing bytes and unknown dtypes; a file that is not exactly well-formed can be read differently by two tools (one sees the weights a reviewer checked, the other a different set) or crash a parser. It blocks until fixed.',
);
export const safetensorsMetadata = rule(
  'safetensors/metadata',
  'safetensors metadata',
  'info',
  ATLAS.supplyChainModel,
  'Reports the tensor count, dtypes and the free-form `__metadata__` strings of a well-formed safetensors file.',
);

// ---- GGUF ----------------------------------------------------------------------------------------------------
export const ggufMalformed = rule(
  'gguf/malformed',
  'GGUF file is malformed',
  'high',
  ATLAS.unsafeArtifacts,
  'GGUF readers (llama.cpp and its bindings) have had heap overflows from unchecked counts, string lengths, tensor dimensions and offsets. A header, metadata value or tensor info that is out of bounds, oversized, misaligned or of an unknown type blocks.',
);
export const ggufChatTemplate = rule(
  'gguf/chat-template-injection',
  'Chat template can execute code',
  'critical',
  ATLAS.unsafeArtifacts,
  'Chat templates are Jinja2 programs rendered by the loader (llama-cpp-python rendered them unsandboxed, CVE-2024-34359). Reaching `__class__`, `__mro__`, `__subclasses__`, `__globals__`, `__builtins__`, `__import__`, `os`, `subprocess`, `eval`/`exec`, or building such names dynamically, is how a template escapes to run code.',
);
export const ggufMetadata = rule(
  'gguf/metadata',
  'GGUF metadata',
  'info',
  ATLAS.supplyChainModel,
  'Reports the GGUF version, architecture, tensor count and selected metadata of a well-formed file.',
);

// ---- ONNX ----------------------------------------------------------------------------------------------------
export const onnxMalformed = rule(
  'onnx/malformed',
  'ONNX model is malformed',
  'high',
  ATLAS.unsafeArtifacts,
  'The ONNX protobuf could not be fully parsed within bounds (truncated, wrong wire type, nesting or size limit). A model that cannot be analysed completely blocks.',
);
export const onnxExternalDataPath = rule(
  'onnx/external-data-path',
  'ONNX external data points outside the model folder',
  'critical',
  ATLAS.unsafeArtifacts,
  'Tensors may keep their bytes in external files named by `location`. An absolute path, a `..` segment or a symlink resolving outside the model folder makes the loader read (and in older runtimes memory-map) arbitrary host files: CVE-2022-25882, CVE-2024-27318 and later path traversals.',
);
export const onnxExternalDataMissing = rule(
  'onnx/external-data-missing',
  'ONNX external data file is missing or too short',
  'high',
  ATLAS.supplyChainModel,
  'An external data file named by the model does not exist next to it, or the offset/length it names is outside that file; the model cannot be verified or loaded as shipped.',
);
export const onnxCustomDomain = rule(
  'onnx/custom-op-domain',
  'ONNX node uses a non-standard operator domain',
  'high',
  ATLAS.unsafeArtifacts,
  "Operators outside the ONNX standard domains (and outside ONNX Runtime's built-in contrib domains and the model's own functions) are custom ops: running the model needs a native library registered for them, which is code outside the model file.",
);
export const onnxStructure = rule(
  'onnx/structure',
  'ONNX graph structure',
  'info',
  ATLAS.supplyChainModel,
  'Reports the producer, opsets, metadata properties, node and initializer counts, local functions and nested subgraphs (If/Loop/Scan bodies) of the model; the nested graphs are checked like the main graph.',
);

// ---- Keras ---------------------------------------------------------------------------------------------------
export const kerasLambda = rule(
  'keras/lambda-layer',
  'Keras Lambda layer carries Python code',
  'critical',
  ATLAS.unsafeArtifacts,
  'A Lambda layer stores marshalled Python bytecode that Keras runs when the model is loaded (with safe_mode off, or always for legacy .h5 files: CVE-2024-3660, CVE-2025-9905).',
);
export const kerasModuleOutside = rule(
  'keras/module-outside-keras',
  'Keras config imports a module outside Keras',
  'critical',
  ATLAS.unsafeArtifacts,
  'Keras deserialisation imports the `module` named in the config and calls the named class or function with config arguments. A module outside Keras bypassed safe_mode (CVE-2025-1550): any importable callable can be reached.',
);
export const kerasUnsafeCallable = rule(
  'keras/unsafe-callable',
  'Keras config references a dangerous Keras callable',
  'critical',
  ATLAS.unsafeArtifacts,
  'Some callables inside Keras itself are safe_mode bypasses when named in a config: `keras.utils.get_file` downloads/writes files (CVE-2025-8747), `keras.config.enable_unsafe_deserialization` turns safe mode off for the rest of the load (CVE-2025-9906), and loaders reached from a config load further files.',
);
export const kerasCustomObject = rule(
  'keras/custom-object',
  'Keras config needs a custom or registered object',
  'high',
  ATLAS.unsafeArtifacts,
  'A layer, function or object registered outside Keras (`registered_name` with a package, or a class Keras does not ship) runs user code when the model is loaded: whoever loads it must import that code.',
);
export const kerasMalformed = rule(
  'keras/malformed',
  'Keras model cannot be analysed',
  'high',
  ATLAS.unsafeArtifacts,
  'The Keras archive or HDF5 file, its config JSON or its structure could not be fully read within bounds; fail closed.',
);
export const h5ExternalStorage = rule(
  'keras/h5-external-dataset',
  'HDF5 dataset stores its data in an external file',
  'critical',
  ATLAS.unsafeArtifacts,
  "HDF5 external storage makes the library read a dataset's bytes from another file named in the HDF5 file (an absolute path can point at any host file, e.g. /etc/passwd or a private key), so loading the weights reads that file into the model.",
);
export const h5VirtualDataset = rule(
  'keras/h5-virtual-dataset',
  'HDF5 virtual dataset or external link reads another file',
  'high',
  ATLAS.unsafeArtifacts,
  'Virtual datasets and external links make the HDF5 library open other files named inside this one when the data is read.',
);
export const kerasSummary = rule(
  'keras/summary',
  'Keras model summary',
  'info',
  ATLAS.supplyChainModel,
  'Reports the Keras version, model class and layer counts of a Keras model.',
);

// ---- TensorFlow SavedModel -------------------------------------------------------------------------------------
export const savedModelPythonOp = rule(
  'savedmodel/python-op',
  'SavedModel graph runs Python',
  'critical',
  ATLAS.unsafeArtifacts,
  'PyFunc, PyFuncStateless and EagerPyFunc call a Python function of the loading process by token; a graph that contains them is not self-contained and executes Python.',
);
export const savedModelFileWrite = rule(
  'savedmodel/file-write-op',
  'SavedModel graph writes files',
  'critical',
  ATLAS.unsafeArtifacts,
  'Ops such as WriteFile, Save/SaveV2 to a constant path, or summary/dataset writers write to the host file system when the graph runs.',
);
export const savedModelFileRead = rule(
  'savedmodel/file-read-op',
  'SavedModel graph reads files',
  'high',
  ATLAS.unsafeArtifacts,
  "Ops such as ReadFile, MatchingFiles, ImmutableConst, readers and file datasets read host files when the graph runs (exfiltration through model outputs). Checkpoint restore driven by the loader's own filename input is reported as info.",
);
export const savedModelSystemOp = rule(
  'savedmodel/system-op',
  'SavedModel graph reaches the network or the system',
  'high',
  ATLAS.unsafeArtifacts,
  'RPC ops, debug ops with URLs, SQL/LMDB datasets and similar reach outside the process.',
);
export const savedModelUnknownOp = rule(
  'savedmodel/unknown-op',
  'SavedModel graph uses an op outside the allowlist',
  'high',
  ATLAS.unsafeArtifacts,
  "Allowlist first: an op that is neither a known-safe TensorFlow op nor a function of the model's library is unreviewed (a custom op needs a native library).",
);
export const savedModelMalformed = rule(
  'savedmodel/malformed',
  'SavedModel cannot be analysed',
  'high',
  ATLAS.unsafeArtifacts,
  'The saved_model.pb protobuf could not be fully parsed within bounds; fail closed.',
);
export const savedModelSummary = rule(
  'savedmodel/summary',
  'SavedModel summary',
  'info',
  ATLAS.supplyChainModel,
  'Reports meta graphs, tags, op counts and checkpoint I/O of a SavedModel.',
);

// ---- TorchScript code ----------------------------------------------------------------------------------------
export const torchscriptCode = rule(
  'torchscript/code',
  'TorchScript archive contains code',
  'info',
  ATLAS.unsafeArtifacts,
  'A TorchScript archive carries TorchScript source in code/ that torch.jit.load compiles and runs (torch.load hands such archives to torch.jit.load, even with weights_only=True: CVE-2025-32434). Each file is reported with the operator namespaces it calls.',
);
export const torchscriptIoOp = rule(
  'torchscript/io-op',
  'TorchScript code touches files or the system',
  'critical',
  ATLAS.unsafeArtifacts,
  'Operators such as aten::save, aten::from_file, prim::Print to files or torch.ops I/O builtins read or write host files when the scripted module runs.',
);
export const torchscriptCustomOp = rule(
  'torchscript/custom-op',
  'TorchScript code calls a custom operator namespace',
  'high',
  ATLAS.unsafeArtifacts,
  'Calls to torch.ops.<namespace> outside aten/prim/quantized and known PyTorch namespaces need a native library loaded by the user; the model depends on unreviewed code.',
);

// ---- repositories and adapters -------------------------------------------------------------------------------
export const repoRemoteCode = rule(
  'repo/remote-code',
  'Model repository makes the loader run its Python code',
  'high',
  ATLAS.supplyChainModel,
  '`auto_map` in config.json / tokenizer_config.json names Python classes that transformers imports and runs when loading with trust_remote_code=True (possibly from another repository). That code is not analysed: review it before trusting.',
);
export const repoPythonFile = rule(
  'repo/python-file',
  'Model repository contains Python files',
  'medium',
  ATLAS.supplyChainModel,
  'Python files in a model repository are code a loader or a user may run; they are listed for review.',
);
export const repoSummary = rule(
  'repo/summary',
  'Model repository summary',
  'info',
  ATLAS.supplyChainModel,
  'A folder downloaded from a model hub: its files by format and verdict, configs, adapters and code.',
);
export const repoChatTemplate = rule(
  'repo/chat-template-injection',
  'Tokenizer chat template can execute code',
  'critical',
  ATLAS.unsafeArtifacts,
  'The chat template in tokenizer_config.json is a Jinja2 program; patterns that reach Python internals or builtins are template injection.',
);
export const repoMissingReference = rule(
  'repo/missing-reference',
  'A file the loader reads is missing',
  'high',
  ATLAS.supplyChainModel,
  'Index files (`model.safetensors.index.json`, `pytorch_model.bin.index.json`) list the shards a loader opens, an OpenVINO `.xml` reads its tensors from the `.bin` beside it, and diffusers opens one folder per `model_index.json` component. A listed file that is not in the folder means the scan did not see what the loader will read (it may come from elsewhere, or the download is incomplete).',
);
export const repoEscapingReference = rule(
  'repo/escaping-reference',
  'A reference leads outside the repository',
  'critical',
  ATLAS.supplyChainModel,
  'A shard name in an index file that is absolute, climbs with "..", or is a URL makes the loader open a file outside the repository: a path-traversal read of a host file, or a shard the scan never saw.',
);
export const repoShardFormat = rule(
  'repo/shard-format',
  'A shard is not in the format its index says',
  'high',
  ATLAS.supplyChainModel,
  'A shard listed in `model.safetensors.index.json` is opened with the safetensors reader, one in `pytorch_model.bin.index.json` with torch.load. A listed shard in another format is a substitution (a pickle where safetensors was promised) or a broken download.',
);
export const adapterPeft = rule(
  'adapter/peft',
  'PEFT adapter',
  'info',
  ATLAS.supplyChainModel,
  'A PEFT/LoRA adapter changes a base model: its base model, type, rank and target modules are reported so the pairing can be reviewed; its weights are scanned like any other file.',
);
export const adapterMalformed = rule(
  'adapter/malformed',
  'PEFT adapter config is malformed',
  'high',
  ATLAS.supplyChainModel,
  'adapter_config.json could not be read as strict JSON, or names fields of the wrong type.',
);
export const adapterUnusual = rule(
  'adapter/unusual',
  'PEFT adapter replaces whole modules or loads code',
  'medium',
  ATLAS.manipulateModel,
  '`modules_to_save` ships full copies of modules (not low-rank deltas) and `auto_mapping` names a custom class; both change the model more than an adapter usually does.',
);

export const formatRules: RuleMeta[] = [
  safetensorsMalformed,
  safetensorsMetadata,
  ggufMalformed,
  ggufChatTemplate,
  ggufMetadata,
  onnxMalformed,
  onnxExternalDataPath,
  onnxExternalDataMissing,
  onnxCustomDomain,
  onnxStructure,
  kerasLambda,
  kerasModuleOutside,
  kerasUnsafeCallable,
  kerasCustomObject,
  kerasMalformed,
  h5ExternalStorage,
  h5VirtualDataset,
  kerasSummary,
  savedModelPythonOp,
  savedModelFileWrite,
  savedModelFileRead,
  savedModelSystemOp,
  savedModelUnknownOp,
  savedModelMalformed,
  savedModelSummary,
  torchscriptCode,
  torchscriptIoOp,
  torchscriptCustomOp,
  repoRemoteCode,
  repoPythonFile,
  repoSummary,
  repoChatTemplate,
  repoMissingReference,
  repoEscapingReference,
  repoShardFormat,
  adapterPeft,
  adapterMalformed,
  adapterUnusual,
];
