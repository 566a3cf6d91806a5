/**
 * Keras v3 `.keras` archives: a zip with `metadata.json`, `config.json` and `model.weights.h5` (plus
 * optional `assets/`). The config is inspected with keras-config.ts (Lambda code, modules outside Keras,
 * safe_mode bypass patterns, custom objects); every other member (the weights HDF5, assets) is scanned
 * with full detection through the orchestrator, so HDF5 external/virtual datasets and pickles hidden in
 * assets are caught by their own modules. Uses the scanner's security-minded zip reader.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import { makeFinding } from '../../core/rule.js';
import { MemorySource, sliceSource } from '../containers/sync-source.js';
import { openZip, readEntry, type ZipEntry } from '../containers/zip.js';
import type { ByteSource } from '../source.js';
import { inspectKerasConfig } from './keras-config.js';
import { kerasMalformed, kerasSummary } from './rules-meta.js';
import { isJsonObject, type JsonValue, jsonSafe, parseStrictJson } from './strict-json.js';
import type { DetectInput, FormatResult, FormatScanner, ScanContext } from './types.js';

const KERAS_MEMBERS = ['metadata.json', 'config.json', 'model.weights.h5', 'model.weights.npz'];

/** A zip whose first local header names one of the Keras archive members. */
export function detectKeras({ head }: DetectInput): boolean {
  if (head.length < 30 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 3 || head[3] !== 4)
    return false;
  const nameLen = head[26] | (head[27] << 8);
  const name = Buffer.from(head.subarray(30, 30 + nameLen)).toString('utf8');
  return KERAS_MEMBERS.includes(name);
}

export async function scanKeras(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const location: Location = { file: ctx.displayPath };
  const findings: Finding[] = [];
  let complete = true;
  const bad = (msg: string, entry?: string) => {
    complete = false;
    findings.push(
      makeFinding(kerasMalformed, msg, {
        location: entry ? { ...location, entry } : location,
        evidence: { problem: msg },
      }),
    );
  };
  const zip = await openZip(source);
  if (zip.fatal) {
    bad(`Keras archive cannot be read: ${zip.fatal}`);
    return { format: 'keras', complete: false, findings };
  }
  for (const issue of zip.issues) {
    if (
      ['duplicate-name', 'header-mismatch', 'unsafe-path', 'overlap', 'malformed', 'limit'].includes(
        issue.kind,
      )
    ) {
      bad(`Keras archive: ${issue.message}`, issue.entry);
    }
  }
  const byName = new Map<string, ZipEntry>();
  for (const e of zip.entries) byName.set(e.name, e);
  const readJson = async (name: string): Promise<JsonValue | undefined> => {
    const e = byName.get(name);
    if (!e) return undefined;
    try {
      const { bytes } = await readEntry(zip, e, LIMITS.headers.maxJsonConfig);
      // Keras reads it with Python's json (integers of any size); reports get big ones as decimal strings.
      return jsonSafe(parseStrictJson(bytes, { bigIntegers: 'keep' }));
    } catch (err) {
      bad(`${name} cannot be read as strict JSON: ${(err as Error).message}`, name);
      return undefined;
    }
  };
  const config = await readJson('config.json');
  const metadata = await readJson('metadata.json');
  if (!byName.has('config.json')) bad('Keras archive has no config.json');
  if (config !== undefined)
    findings.push(...inspectKerasConfig(config, { ...location, entry: 'config.json' }, 'config.json'));
  // Everything else goes through full detection (weights HDF5, assets, anything smuggled in).
  for (const e of zip.entries) {
    if (e.name === 'config.json' || e.name === 'metadata.json' || e.name.endsWith('/')) continue;
    let member: ByteSource;
    try {
      if (e.method === 0 && e.dataOffset >= 0 && !e.encryptedFlag) {
        member = sliceSource(`${source.name}!${e.name}`, source, e.dataOffset, e.compressedSize);
      } else {
        const { bytes } = await readEntry(zip, e);
        member = new MemorySource(`${source.name}!${e.name}`, bytes);
      }
    } catch (err) {
      bad(`member ${e.name} cannot be read: ${(err as Error).message}`, e.name);
      continue;
    }
    const r = await ctx.scanNested(member, { ...location, entry: e.name });
    if (!r.complete) complete = false;
    findings.push(...r.findings);
  }
  const meta = isJsonObject(metadata) ? metadata : {};
  const cfg = isJsonObject(config) ? config : {};
  const details = {
    kerasVersion: typeof meta.keras_version === 'string' ? meta.keras_version : undefined,
    dateSaved: typeof meta.date_saved === 'string' ? meta.date_saved : undefined,
    modelClass: typeof cfg.class_name === 'string' ? cfg.class_name : undefined,
    members: zip.entries.map((e) => e.name).slice(0, 100),
  };
  findings.push(
    makeFinding(
      kerasSummary,
      `Keras ${details.kerasVersion ?? '(unknown version)'} model ${details.modelClass ?? ''}`.trim(),
      { location, evidence: details },
    ),
  );
  return { format: 'keras', complete, findings, details };
}

export const kerasFormat: FormatScanner = {
  id: 'keras',
  title: 'Keras v3 (.keras)',
  detect: detectKeras,
  scan: scanKeras,
};
