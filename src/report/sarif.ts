/**
 * SARIF 2.1.0 for GitHub code scanning. Each rule that fired is a reportingDescriptor (with help text and a
 * link to its family in the README); each finding at or above the chosen level a result with a
 * physicalLocation (the file, relative to the working directory, as GitHub expects). Every result is an alert
 * in code scanning, so by default only what blocks (the --fail-on level) is reported: a clean scan has none.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding } from '../core/finding.js';
import type { RuleMeta } from '../core/rule.js';
import { atLeast, type Severity } from '../core/severity.js';
import type { ScanReport } from './types.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub's security-severity score (0-10) drives its critical/high/medium/low labels. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.5',
};

/**
 * GitHub maps results to files by a URI relative to the repository root (the working directory of the
 * scan); a file outside it gets an absolute file:// URI, which SARIF requires to be a valid URI.
 */
function uriFor(path: string): string {
  const abs = resolve(path);
  const rel = relative(process.cwd(), abs);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return pathToFileURL(abs).href;
  return rel.split(sep).map(encodeURIComponent).join('/');
}

const README = 'https://github.com/antidote-ml/antidote/blob/main/README.md';

/** The README anchor of a rule's family (`pickle/unknown-global` -> `#rules-pickle`). */
export function ruleHelpUri(rule: string): string {
  return `${README}#rules-${rule
    .split('/')[0]
    .replace(/[^a-z0-9-]/gi, '')
    .toLowerCase()}`;
}

export function renderScanSarif(
  report: ScanReport,
  ruleCatalog: ReadonlyMap<string, RuleMeta> = new Map(),
  opts: { minSeverity?: Severity } = {},
): string {
  const min = opts.minSeverity ?? 'info';
  const ruleIndex = new Map<string, number>();
  const rules: unknown[] = [];
  const results: unknown[] = [];
  const ruleFor = (f: Finding): number => {
    let idx = ruleIndex.get(f.rule);
    if (idx !== undefined) return idx;
    const meta = ruleCatalog.get(f.rule);
    idx = rules.length;
    ruleIndex.set(f.rule, idx);
    rules.push({
      id: f.rule,
      name: f.rule.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) =>
        ch ? ch.toUpperCase() : '',
      ),
      shortDescription: { text: meta?.title ?? f.rule },
      fullDescription: { text: meta?.rationale ?? meta?.title ?? f.rule },
      help: {
        text: `${meta?.rationale ?? meta?.title ?? f.rule} See ${ruleHelpUri(f.rule)}`,
        markdown: `${meta?.rationale ?? meta?.title ?? f.rule}\n\n[Rule family in the README](${ruleHelpUri(f.rule)})`,
      },
      helpUri: ruleHelpUri(f.rule),
      defaultConfiguration: { level: LEVEL[meta?.severity ?? f.severity] },
      properties: {
        'security-severity': SECURITY_SEVERITY[meta?.severity ?? f.severity],
        tags: ['security', 'ml-supply-chain', ...(f.atlas ? [`mitre-atlas/${f.atlas}`] : [])],
      },
    });
    return idx;
  };
  for (const r of report.results) {
    for (const f of r.findings) {
      if (!atLeast(f.severity, min)) continue;
      const idx = ruleFor(f);
      const region: Record<string, number> = {};
      if (f.location?.line !== undefined) region.startLine = f.location.line;
      const physical: Record<string, unknown> = {
        artifactLocation: { uri: uriFor(f.location?.file ?? r.path) },
      };
      // GitHub requires a region with startLine; binary artifacts have none, so point at line 1.
      physical.region = region.startLine ? region : { startLine: 1 };
      results.push({
        ruleId: f.rule,
        ruleIndex: idx,
        level: LEVEL[f.severity],
        message: { text: f.message },
        locations: [{ physicalLocation: physical }],
        partialFingerprints: {
          antidoteFinding: `${f.rule}:${f.location?.entry ?? ''}:${f.location?.offset ?? ''}:${f.message}`,
        },
        properties: {
          severity: f.severity,
          ...(f.atlas ? { atlas: f.atlas } : {}),
          ...(f.location ? { location: f.location } : {}),
          ...(f.evidence ? { evidence: f.evidence } : {}),
          verdict: r.verdict,
          format: r.format,
        },
      });
    }
  }
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'antidote',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: 'https://github.com/antidote-ml/antidote',
            rules,
          },
        },
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
