/**
 * TorchScript `code/` files: the serialised TorchScript source that torch.jit.load compiles and runs.
 * Called by the TorchScript format module with the text of each code file. The source is the subset of
 * Python that the TorchScript serializer prints: operators appear as `torch.<op>(...)` (aten),
 * `ops.<namespace>.<op>(...)` / `torch.ops.<namespace>.<op>` (registered operators, custom ones included),
 * `torch.classes.<ns>.<Class>` (TorchBind classes from native libraries) and `__torch__.*` (the model's own
 * classes). Each file is reported with what it calls; operators that touch files or the system and
 * namespaces outside PyTorch's own are findings.
 */
import type { Finding } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { torchscriptCode, torchscriptCustomOp, torchscriptIoOp } from './rules-meta.js';

/** Operator namespaces shipped inside libtorch itself. */
export const KNOWN_TORCH_NAMESPACES = new Set([
  'aten',
  'prim',
  'quantized',
  '_quantized',
  'quantized_decomposed',
  'prepacked',
  '_caffe2',
  'profiler',
  'cuda',
  'mkldnn',
  'mkldnn_prepacked',
  'xnnpack',
  'onednn',
  'fbgemm',
  'sparse',
  'inductor',
  'higher_order',
  'c10d_functional',
  '_c10d_functional',
  'rngprims',
]);

/** Operators (namespace::name) and torch.* functions that read or write files or reach the system. */
export const IO_OPS = new Set([
  'aten::save',
  'aten::from_file',
  'aten::_load_from_file',
  'aten::load',
  'prim::Load',
  'prim::Store',
  'c10d::send',
  'c10d::recv',
]);
const IO_TORCH_FUNCTIONS = new Set([
  'save',
  'from_file',
  'load',
  'hub',
  'jit.load',
  'jit.save',
  'ops.load_library',
  'classes.load_library',
]);
const PYTHON_ESCAPES =
  /\b(open|eval|exec|compile|__import__|globals|importlib|subprocess|os\.system|os\.popen)\s*\(|\bos\.(system|popen|remove|unlink|environ)\b/g;

function stripStrings(text: string): string {
  return text.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
}

export function analyzeTorchScriptCode(files: { name: string; text: string }[]): Finding[] {
  const findings: Finding[] = [];
  for (const file of files) {
    const code = stripStrings(file.text);
    const lines = file.text.split('\n').length;
    const torchFns = new Set<string>();
    const ops = new Set<string>();
    const classes = new Set<string>();
    const io = new Set<string>();
    const custom = new Set<string>();
    const lineOf = (idx: number) => code.slice(0, idx).split('\n').length;
    let firstIoLine: number | undefined;
    let firstCustomLine: number | undefined;
    for (const m of code.matchAll(/(?<![\w.])(?:torch\.)?ops\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)/g)) {
      const q = `${m[1]}::${m[2]}`;
      ops.add(q);
      if (IO_OPS.has(q)) {
        io.add(q);
        firstIoLine ??= lineOf(m.index);
      } else if (!KNOWN_TORCH_NAMESPACES.has(m[1])) {
        custom.add(q);
        firstCustomLine ??= lineOf(m.index);
      }
    }
    for (const m of code.matchAll(/(?<![\w.])torch\.classes\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)/g)) {
      classes.add(`${m[1]}.${m[2]}`);
      custom.add(`torch.classes.${m[1]}.${m[2]}`);
      firstCustomLine ??= lineOf(m.index);
    }
    for (const m of code.matchAll(/(?<![\w.])torch\.((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*)\s*\(/g)) {
      const fn = m[1];
      if (fn.startsWith('ops.') || fn.startsWith('classes.')) {
        if (IO_TORCH_FUNCTIONS.has(fn)) {
          io.add(`torch.${fn}`);
          firstIoLine ??= lineOf(m.index);
        }
        continue;
      }
      torchFns.add(fn);
      if (IO_TORCH_FUNCTIONS.has(fn) || IO_TORCH_FUNCTIONS.has(fn.split('.')[0])) {
        io.add(`torch.${fn} (aten::${fn.split('.').pop()})`);
        firstIoLine ??= lineOf(m.index);
      }
    }
    for (const m of code.matchAll(PYTHON_ESCAPES)) {
      io.add(m[0].replace(/\s*\($/, '('));
      firstIoLine ??= lineOf(m.index);
    }
    const calls = [...torchFns]
      .map((f) => `torch.${f}`)
      .concat([...ops])
      .sort();
    findings.push(
      makeFinding(
        torchscriptCode,
        `TorchScript code ${file.name} (${lines} lines) calls ${calls.length} distinct operators`,
        {
          location: { entry: file.name },
          evidence: { file: file.name, lines, calls: calls.slice(0, 200), classes: [...classes] },
        },
      ),
    );
    if (io.size) {
      findings.push(
        makeFinding(
          torchscriptIoOp,
          `TorchScript code ${file.name} calls ${[...io].join(', ')}, which touch files or the system`,
          {
            location: { entry: file.name, line: firstIoLine },
            evidence: { file: file.name, calls: [...io] },
          },
        ),
      );
    }
    if (custom.size) {
      findings.push(
        makeFinding(
          torchscriptCustomOp,
          `TorchScript code ${file.name} calls custom operators ${[...custom].slice(0, 10).join(', ')} from outside PyTorch`,
          {
            location: { entry: file.name, line: firstCustomLine },
            evidence: { file: file.name, operators: [...custom].slice(0, 50) },
          },
        ),
      );
    }
  }
  return findings;
}
