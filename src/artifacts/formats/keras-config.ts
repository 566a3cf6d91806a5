/**
 * Inspection of a Keras model config (the `config.json` of a `.keras` archive, or the `model_config` /
 * `training_config` attribute of a legacy `.h5`). Keras deserialises every `{class_name, config, module,
 * registered_name}` object by importing `module` and calling the class or function it names, so the
 * config is code by reference. Reported:
 *   - Lambda layers, with their marshalled bytecode (base64) and the names visible in it;
 *   - `module` outside Keras (CVE-2025-1550: module path injection reaches any importable callable);
 *   - dangerous callables inside Keras named by a config (CVE-2025-8747 `keras.utils.get_file`,
 *     CVE-2025-9906 `keras.config.enable_unsafe_deserialization`, loaders of further files such as
 *     TFSMLayer / load_model), and layers whose config names a file or URL to read (lookup vocabularies);
 *   - custom and registered objects outside Keras (`registered_name` with a package, `module` of a user
 *     package) that run user code when loaded.
 */
import type { Finding, Location } from '../../core/finding.js';
import { makeFinding } from '../../core/rule.js';
import { kerasCustomObject, kerasLambda, kerasModuleOutside, kerasUnsafeCallable } from './rules-meta.js';
import type { JsonValue } from './strict-json.js';

/** Packages whose modules Keras' own deserialiser accepts. */
const KERAS_PACKAGES = [
  'keras',
  'keras_hub',
  'keras_nlp',
  'keras_cv',
  'tf_keras',
  'tensorflow.keras',
  'tensorflow.python.keras',
];
/** Callables and classes inside Keras that are safe_mode bypasses or load further files. */
const DANGEROUS_KERAS_NAMES = new Set([
  'get_file',
  'enable_unsafe_deserialization',
  'load_model',
  'load_weights',
  'func_load',
  'TFSMLayer',
  'load',
  'deserialize_keras_object',
  'save_model',
  'export',
  'exec',
  'eval',
  'system',
  'popen',
]);
const FILE_READING_LAYERS: Record<string, string[]> = {
  StringLookup: ['vocabulary'],
  IntegerLookup: ['vocabulary'],
  TextVectorization: ['vocabulary'],
  IndexLookup: ['vocabulary'],
  Hashing: [],
  TFSMLayer: ['filepath'],
};

function inKeras(module: string): boolean {
  return KERAS_PACKAGES.some((p) => module === p || module.startsWith(`${p}.`));
}

/**
 * Strings in marshalled Python bytecode (names, constants): marshal stores each as a type byte (z/Z short
 * ASCII with a 1-byte length; a/A/u/s/t with a 4-byte length; bit 7 may flag a reference) and its bytes.
 * They show a reviewer what the code touches (e.g. `__import__`, `os`, `system`) without running it.
 */
export function bytecodeStrings(b64: string): string[] {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Set<string>();
  const printable = (from: number, len: number) => {
    if (len < 1 || from + len > bytes.length) return undefined;
    for (let k = from; k < from + len; k++) if (bytes[k] < 0x20 || bytes[k] > 0x7e) return undefined;
    return bytes.toString('latin1', from, from + len);
  };
  for (let i = 0; i < bytes.length && out.size < 60; i++) {
    const t = String.fromCharCode(bytes[i] & 0x7f);
    let str: string | undefined;
    if ((t === 'z' || t === 'Z') && i + 1 < bytes.length) {
      str = printable(i + 2, bytes[i + 1]);
      if (str !== undefined) i += 1 + bytes[i + 1];
    } else if ('aAust'.includes(t) && i + 5 <= bytes.length) {
      const len = bytes.readUInt32LE(i + 1);
      if (len < 4096) {
        str = printable(i + 5, len);
        if (str !== undefined) i += 4 + len;
      }
    }
    if (str !== undefined && str.length >= 2) out.add(str.slice(0, 120));
  }
  return [...out];
}

function isObj(v: JsonValue | undefined): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function inspectKerasConfig(doc: JsonValue, location: Location, source: string): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const once = (key: string, f: () => Finding) => {
    if (!seen.has(key) && findings.length < 500) {
      seen.add(key);
      findings.push(f());
    }
  };
  const walk = (v: JsonValue, path: string, depth: number): void => {
    if (depth > 200) return;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`, depth + 1);
      return;
    }
    if (!isObj(v)) return;
    const cls = typeof v.class_name === 'string' ? v.class_name : undefined;
    const module = typeof v.module === 'string' ? v.module : undefined;
    const registered = typeof v.registered_name === 'string' ? v.registered_name : undefined;
    const cfg = v.config;
    const layerName = isObj(cfg) && typeof cfg.name === 'string' ? cfg.name : path;
    if (cls === 'Lambda' || cls === '__lambda__') {
      const fn = isObj(cfg) ? cfg.function : undefined;
      let code: string | undefined;
      if (cls === '__lambda__' && isObj(cfg) && typeof cfg.code === 'string') code = cfg.code;
      else if (isObj(fn) && isObj(fn.config) && typeof fn.config.code === 'string') code = fn.config.code;
      else if (Array.isArray(fn) && typeof fn[0] === 'string') code = fn[0];
      else if (typeof fn === 'string') code = fn;
      if (cls === 'Lambda' || !seen.has(`lambda:${path.replace(/\.config\.function$/, '')}`)) {
        once(`lambda:${path}`, () =>
          makeFinding(
            kerasLambda,
            `Lambda layer ${layerName} in ${source} carries Python code that Keras runs when loading`,
            {
              location: { ...location, tensor: layerName },
              evidence: {
                layer: layerName,
                path,
                code: code ? (code.length > 2048 ? `${code.slice(0, 2048)}…` : code) : undefined,
                codeBytes: code?.length,
                names: code ? bytecodeStrings(code) : undefined,
                functionType: isObj(cfg) ? cfg.function_type : undefined,
              },
            },
          ),
        );
        if (cls === 'Lambda') seen.add(`lambda:${path}.config.function`);
      }
    }
    if (module !== undefined && !inKeras(module)) {
      once(`module:${module}:${cls}`, () =>
        makeFinding(
          kerasModuleOutside,
          `${source} makes Keras import ${module}${cls ? `.${cls}` : ''}, outside Keras (${path})`,
          {
            location,
            evidence: { module, className: cls, registeredName: registered, path },
          },
        ),
      );
    }
    const fnName =
      typeof cfg === 'string' && (cls === 'function' || cls === '__function__') ? cfg : undefined;
    for (const name of [cls, fnName, registered?.split('>').pop()]) {
      if (
        name &&
        DANGEROUS_KERAS_NAMES.has(name) &&
        (module === undefined || inKeras(module) || name === 'TFSMLayer')
      ) {
        once(`danger:${module}:${name}`, () =>
          makeFinding(
            kerasUnsafeCallable,
            `${source} names ${module ? `${module}.` : ''}${name}, a Keras safe_mode bypass (${path})`,
            {
              location,
              evidence: { name, module, path },
            },
          ),
        );
      }
    }
    if (cls && FILE_READING_LAYERS[cls] && isObj(cfg)) {
      for (const field of FILE_READING_LAYERS[cls]) {
        const val = cfg[field];
        if (typeof val === 'string' && val.length > 0) {
          once(`file:${path}`, () =>
            makeFinding(
              kerasUnsafeCallable,
              `${cls} layer ${layerName} reads ${JSON.stringify(val.slice(0, 200))} (${field}) when loaded`,
              {
                location,
                evidence: { className: cls, field, value: val.slice(0, 500), path },
              },
            ),
          );
        }
      }
    }
    if (registered?.includes('>')) {
      const pkg = registered.split('>')[0];
      if (
        !inKeras(pkg.toLowerCase()) &&
        !['keras', 'keras_hub', 'keras_nlp', 'keras_cv'].includes(pkg.toLowerCase())
      ) {
        once(`registered:${registered}`, () =>
          makeFinding(
            kerasCustomObject,
            `${source} needs the custom object ${registered} (registered outside Keras); loading runs its code`,
            {
              location,
              evidence: { registeredName: registered, className: cls, module, path },
            },
          ),
        );
      }
    }
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, depth + 1);
  };
  walk(doc, '$', 0);
  return findings;
}
