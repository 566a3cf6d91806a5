/**
 * TorchScript archives (torch.jit.save): a zip holding pickles (data.pkl, constants.pkl, *.debug_pkl)
 * and code (code/**.py). TorchScript's own unpickler resolves `__torch__.*` names to classes compiled from
 * the archive's code, not to Python imports; those names are allowed exactly (one per class the archive's
 * code defines), everything else goes through the normal policy. The code itself is reported as code: by
 * torchscript-code.ts (the code analyser), or as an informational listing if it offers no analyser.
 */
import type { Finding, Location } from '../../core/finding.js';
import type { Policy } from '../pickle/api.js';
import * as internalError from './rules/internal-error.js';
import * as codeRule from './rules/torchscript-code.js';

export interface CodeFile {
  /** Entry name inside the archive. */
  name: string;
  text: string;
}

/** `__torch__.a.b.Cls` for each top-level `class Cls` in `code/__torch__/a/b.py`. */
export function torchscriptClassNames(files: readonly CodeFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const m = /(?:^|\/)code\/(__torch__\/.*)\.py$/.exec(f.name);
    if (!m) continue;
    const mod = m[1].split('/').join('.');
    for (const cm of f.text.matchAll(/^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]/gm))
      out.push(`${mod}.${cm[1]}`);
  }
  return out;
}

/**
 * Names TorchScript's own unpickler implements natively (torch/csrc/jit/serialization/unpickler.cpp) and that
 * torch/jit/_pickle.py defines as plain list builders: exact names, allowed only inside TorchScript archives.
 */
export const TORCHSCRIPT_UNPICKLER_NAMES = [
  'torch.jit._pickle.build_intlist',
  'torch.jit._pickle.build_tensorlist',
  'torch.jit._pickle.build_doublelist',
  'torch.jit._pickle.build_boollist',
  'torch.jit._pickle.build_tensor_from_id',
  'torch.jit._pickle.restore_type_tag',
];

export function torchscriptPolicy(policy: Policy, files: readonly CodeFile[]): Policy {
  const names = [...TORCHSCRIPT_UNPICKLER_NAMES, ...torchscriptClassNames(files)];
  return {
    ...policy,
    allowed: new Set([...policy.allowed, ...names]),
    profiles: [...policy.profiles, 'torchscript-archive'],
  };
}

type CodeAnalyser = (files: CodeFile[]) => unknown;
let analyser: Promise<CodeAnalyser | null> | undefined;

/** The TorchScript code analyser (torchscript-code.ts), loaded when an archive has code. */
function loadAnalyser(): Promise<CodeAnalyser | null> {
  analyser ??= import('./torchscript-code.js').then((m: { analyzeTorchScriptCode?: CodeAnalyser }) =>
    typeof m.analyzeTorchScriptCode === 'function' ? m.analyzeTorchScriptCode : null,
  );
  return analyser;
}

export async function analyzeCode(
  files: CodeFile[],
  where: Location,
): Promise<{ findings: Finding[]; analysed: boolean }> {
  if (!files.length) return { findings: [], analysed: true };
  let fn: CodeAnalyser | null;
  try {
    fn = await loadAnalyser();
  } catch (err) {
    return {
      findings: [
        internalError.check(`the TorchScript code analyser failed to load: ${(err as Error).message}`, where),
      ],
      analysed: false,
    };
  }
  if (fn) {
    try {
      const r = (await fn(files)) as Finding[] | { findings?: Finding[] };
      const list = Array.isArray(r) ? r : (r?.findings ?? []);
      return {
        findings: list.map((f) => ({ ...f, location: { ...where, ...f.location, file: where.file } })),
        analysed: true,
      };
    } catch (err) {
      return {
        findings: [
          internalError.check(`the TorchScript code analyser failed: ${(err as Error).message}`, where),
        ],
        analysed: false,
      };
    }
  }
  const py = files.filter((f) => f.name.endsWith('.py'));
  return {
    findings: [
      codeRule.check(
        `the archive carries ${py.length} TorchScript code file${py.length === 1 ? '' : 's'}, run when the model is called`,
        where,
        {
          files: py.map((f) => f.name).slice(0, 50),
        },
      ),
    ],
    analysed: true,
  };
}
