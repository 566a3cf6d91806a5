import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PickleResult } from '../../../src/artifacts/pickle/api.js';
import { analyzePickle, defaultPolicy } from '../../../src/artifacts/pickle/api.js';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'pickle');
export const policy = defaultPolicy();

export function analyze(
  bytes: Uint8Array,
  opts: Partial<Parameters<typeof analyzePickle>[1]> = {},
): PickleResult {
  return analyzePickle(bytes, { policy, location: { file: 'test.pkl' }, ...opts });
}

export function fixture(...path: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, ...path)));
}

export function blocks(r: { findings: { severity: string }[] }): boolean {
  return r.findings.some((f) => f.severity === 'high' || f.severity === 'critical');
}

export function rules(r: { findings: { rule: string }[] }): string[] {
  return [...new Set(r.findings.map((f) => f.rule))].sort();
}
