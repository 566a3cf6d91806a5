/**
 * Every file of the picklescan corpus (test/fixtures/corpora/picklescan) gets the verdict its README names. The
 * expected verdict comes from the README's own words (its name rules are parsed here), never from a
 * list of answers; where a file blocks, the reason must be of the right class.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../src/artifacts/containers/sync-source.js';
import { openZip, readEntry } from '../../src/artifacts/containers/zip.js';
import { parseNpyHeader } from '../../src/artifacts/formats/numpy.js';
import { loadScanPolicy } from '../../src/artifacts/formats/pickle-stream.js';
import { scanPaths } from '../../src/artifacts/scan.js';
import type { Finding } from '../../src/core/finding.js';
import type { FileResult } from '../../src/report/types.js';
import { CORPUS, FIXTURES } from '../helpers/cli.js';

const README = readFileSync(join(FIXTURES, 'corpora', 'README.md'), 'utf8').replace(/\s+/g, ' ');

/** Backticked tokens of the README between two phrases. */
function ticks(from: RegExp, to: RegExp): string[] {
  const a = README.search(from);
  const rest = README.slice(a);
  const b = rest.search(to);
  expect(a, `README phrase ${from}`).toBeGreaterThanOrEqual(0);
  return [...rest.slice(0, b < 0 ? undefined : b).matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

const blockPrefixes = ticks(/whose name starts with/, /or names a gadget/);
const gadgets = ticks(/names a gadget/, /is blocked/);
const passPrefixes = ticks(/is blocked;/, /pass;/).map((t) => t.replace(/\*$/, ''));
const unanalysableWords = (/cannot be fully analysed \(([^)]*)\)/.exec(README)?.[1] ?? '')
  .split(',')
  .map((w) => w.trim().split(/[-\s]/)[0].toLowerCase())
  .filter(Boolean);

type Expect = { verdict: 'pass' | 'block'; why: string } | { verdict: 'objects'; why: string } | undefined;

async function isObjectNumpy(path: string): Promise<boolean> {
  const b = readFileSync(path);
  const hasObject = (bytes: Uint8Array) => {
    try {
      return parseNpyHeader(bytes).hasObject;
    } catch {
      return false;
    }
  };
  if (b[0] === 0x93) return hasObject(b);
  const z = await openZip(new MemorySource(path, b));
  for (const e of z.entries) if (hasObject((await readEntry(z, e)).bytes)) return true;
  return false;
}

async function expected(name: string, path: string): Promise<Expect> {
  const lower = name.toLowerCase();
  if (unanalysableWords.some((w) => lower.includes(w))) return { verdict: 'block', why: 'unanalysable' };
  if (blockPrefixes.some((p) => name.startsWith(p)))
    return { verdict: 'block', why: `prefix ${name.match(/^[A-Za-z]+-?/)?.[0]}` };
  if (gadgets.some((g) => name.includes(g))) return { verdict: 'block', why: 'gadget' };
  if (/\.np[yz]$/.test(name) && (await isObjectNumpy(path)))
    return { verdict: 'objects', why: 'object-dtype numpy' };
  if (passPrefixes.some((p) => name.startsWith(p))) return { verdict: 'pass', why: 'benign' };
  return undefined;
}

const UNANALYSABLE = new Set([
  'scan/unanalysable',
  'scan/incomplete',
  'scan/limit-exceeded',
  'pickle/malformed',
  'pickle/limit',
  'zip/malformed',
  'tar/malformed',
  'numpy/malformed-header',
  'numpy/size-mismatch',
]);
const blocking = (r: FileResult) =>
  r.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
const isUnsafeCode = (f: Finding) => f.rule.startsWith('pickle/') && !UNANALYSABLE.has(f.rule);
const WRAPPERS = new Set(['7z', 'rar', 'xz', 'bzip2', 'zstd', 'lz4', 'lzma', 'unknown']);

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

describe('picklescan corpus', async () => {
  const files = listFiles(CORPUS).sort();
  const report = await scanPaths([CORPUS], { failOn: 'high', allow: [] });
  const byPath = new Map(report.results.map((r) => [r.path, r]));
  const policy = await loadScanPolicy(undefined, []);

  it('the README rules were read', () => {
    expect(blockPrefixes).toEqual(expect.arrayContaining(['malicious', 'bad', 'GHSA-']));
    expect(gadgets.length).toBeGreaterThanOrEqual(5);
    expect(passPrefixes).toEqual(expect.arrayContaining(['benign', 'int_array']));
    expect(unanalysableWords.length).toBeGreaterThanOrEqual(2);
    expect(files.length).toBeGreaterThan(90);
  });

  const unnamed: string[] = [];
  for (const path of files) {
    const name = path.split('/').pop() as string;
    const exp = await expected(name, path);
    const rel = relative(CORPUS, path);
    if (!exp) {
      unnamed.push(rel);
      continue;
    }
    it(`${rel}: ${exp.verdict} (${exp.why})`, () => {
      const r = byPath.get(path);
      expect(r, rel).toBeDefined();
      if (!r) return;
      const rules = blocking(r).map((f) => f.rule);
      expect(rules, 'no internal errors').not.toContain('scan/internal-error');
      if (exp.verdict === 'objects') {
        // Pass exactly when every global its pickles import is allowlisted.
        const globals = (r.details?.globals as string[] | undefined) ?? [];
        const allAllowed = globals.every((g) => policy.allowed.has(g));
        expect(r.details?.complete, 'the object pickles were fully parsed').toBe(true);
        expect(r.verdict, `globals ${globals.join(', ')}`).toBe(allAllowed ? 'pass' : 'block');
        return;
      }
      expect(r.verdict, `${rel} findings: ${rules.join(', ')}`).toBe(exp.verdict);
      if (exp.verdict !== 'block') return;
      if (exp.why === 'unanalysable' || WRAPPERS.has(r.format)) {
        expect(
          rules.some((x) => UNANALYSABLE.has(x)),
          `${rel} blocked as unanalysable, got ${rules}`,
        ).toBe(true);
      } else {
        expect(blocking(r).some(isUnsafeCode), `${rel} blocked for what it runs, got ${rules}`).toBe(true);
      }
    });
  }

  it('reports the files the README does not name', () => {
    for (const rel of unnamed) {
      const r = byPath.get(join(CORPUS, rel));
      console.log(
        `corpus file not named by the README rules: ${rel} -> ${r?.verdict} (${r?.format}; ${
          r
            ? blocking(r)
                .map((f) => f.rule)
                .join(', ')
            : ''
        })`,
      );
      expect(r?.findings.map((f) => f.rule)).not.toContain('scan/internal-error');
    }
  });
});
