/**
 * Known triggers: the backdoor triggers an `antidote audit` report (findings `audit/trigger`, evidence
 * {pattern, kind: text|tabular}) or an `antidote gate` report (findings `gate/trigger`, evidence {trigger,
 * column, kind: token|value, target}) named. Reading is tolerant of extra fields but strict about form: a
 * file that is neither report is one line, exit 2. triggerPresent() is the one test used at fit time (how
 * often a trigger already occurs in trusted rows) and at run time (guard/known-trigger).
 */
import { AntidoteError, describeFsError, inputError } from '../core/errors.js';
import { parseJsonBounded } from '../core/json-depth.js';
import { LIMITS } from '../core/limits.js';
import { readRegularFile } from '../core/paths.js';
import type { InputBatch } from '../gate/models/types.js';
import { type Bin, parsePattern } from '../gate/probes.js';
import { tokenize } from '../gate/table.js';
import type { KnownTrigger } from './profile.js';

export type RawTrigger = Omit<KnownTrigger, 'trustedRate' | 'disabled'>;

async function readReport(path: string, flag: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    const text = (await readRegularFile(path, LIMITS.files.maxAuditReportBytes, flag)).toString('utf8');
    doc = parseJsonBounded(text);
  } catch (err) {
    if (err instanceof AntidoteError) throw err;
    if ((err as { code?: string }).code) throw describeFsError(path, err);
    throw inputError(
      `${flag} ${path} is not valid JSON`,
      `give the report.json of \`antidote ${flag.slice(2)}\``,
    );
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { findings?: unknown }).findings))
    throw inputError(
      `${flag} ${path} is not an antidote ${flag.slice(2)} report (no findings list)`,
      `give the report.json written by \`antidote ${flag.slice(2)} --out-dir\``,
    );
  return doc as Record<string, unknown>;
}

const norm = (s: string) => tokenize(s).join(' ');

/** Triggers named by the findings of an audit report (report.json). */
export async function triggersFromAuditReport(
  path: string,
  columns: Array<{ name: string; text: boolean }>,
): Promise<RawTrigger[]> {
  const doc = await readReport(path, '--audit');
  const textCols = columns.filter((c) => c.text).map((c) => c.name);
  const tabCols = columns.filter((c) => !c.text).map((c) => c.name);
  const out: RawTrigger[] = [];
  for (const f of doc.findings as Array<Record<string, unknown>>) {
    if (f?.rule !== 'audit/trigger') continue;
    const ev = f.evidence as Record<string, unknown> | undefined;
    if (!ev || typeof ev.pattern !== 'string') continue;
    const target = typeof ev.label === 'string' ? ev.label : undefined;
    if (ev.kind === 'tabular') {
      const sets = parsePattern(ev.pattern, tabCols);
      if (sets)
        out.push({
          column: sets[0].column,
          kind: 'value',
          value: sets[0].value,
          ...(sets[0].bin ? { bin: sets[0].bin } : {}),
          ...(sets.length > 1 ? { also: sets.slice(1) } : {}),
          origin: 'audit',
          ...(target ? { target } : {}),
        });
    } else {
      const loc = f.location as Record<string, unknown> | undefined;
      const col = typeof loc?.column === 'string' && textCols.includes(loc.column) ? [loc.column] : textCols;
      const v = norm(ev.pattern);
      if (v)
        for (const c of col)
          out.push({ column: c, kind: 'token', value: v, origin: 'audit', ...(target ? { target } : {}) });
    }
  }
  return dedupe(out);
}

/** Triggers the gate's probes confirmed (findings `gate/trigger`). */
export async function triggersFromGateReport(
  path: string,
  columns: Array<{ name: string; text: boolean }>,
): Promise<RawTrigger[]> {
  const doc = await readReport(path, '--gate');
  const names = new Set(columns.map((c) => c.name));
  const out: RawTrigger[] = [];
  for (const f of doc.findings as Array<Record<string, unknown>>) {
    if (f?.rule !== 'gate/trigger') continue;
    const ev = f.evidence as Record<string, unknown> | undefined;
    if (!ev || typeof ev.trigger !== 'string' || typeof ev.column !== 'string' || !names.has(ev.column))
      continue;
    const target = typeof ev.target === 'string' ? ev.target : undefined;
    const kind = ev.kind === 'value' ? 'value' : 'token';
    const value = kind === 'token' ? norm(ev.trigger) : ev.trigger.trim();
    if (!value) continue;
    const also = Array.isArray(ev.also)
      ? (ev.also as Array<Record<string, unknown>>)
          .filter((a) => typeof a?.column === 'string' && typeof a.value === 'string')
          .map((a) => ({ column: a.column as string, value: a.value as string }))
      : [];
    out.push({
      column: ev.column,
      kind,
      value,
      ...(also.length ? { also } : {}),
      origin: 'gate',
      ...(target ? { target } : {}),
    });
  }
  return dedupe(out);
}

function dedupe(xs: RawTrigger[]): RawTrigger[] {
  const seen = new Set<string>();
  return xs.filter((t) => {
    const key = JSON.stringify([t.column, t.kind, t.value, t.bin ?? null, t.also ?? []]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Does row i hold the value (or, for a numeric bin, a value in it)? */
function valueEquals(batch: InputBatch, column: string, i: number, value: string, bin?: Bin): boolean {
  const col = batch.columns.get(column);
  if (!col) return false;
  if (col.kind === 'number') {
    const v = col.values[i];
    if (Number.isNaN(v)) return false;
    if (bin) return v >= bin.lo && (bin.hi === undefined || v < bin.hi);
    const want = Number(value);
    return value.trim() !== '' && Number.isFinite(want) && v === want;
  }
  return col.values[i].trim() === value;
}

/** Is the trigger present in row i? Tokens and phrases match whole words, in order. */
export function triggerPresent(
  t: Pick<RawTrigger, 'column' | 'kind' | 'value' | 'bin' | 'also'>,
  batch: InputBatch,
  i: number,
  tokens?: string[],
): boolean {
  if (t.kind === 'value') {
    if (!valueEquals(batch, t.column, i, t.value, t.bin)) return false;
    return (t.also ?? []).every((a) => valueEquals(batch, a.column, i, a.value, a.bin));
  }
  const col = batch.columns.get(t.column);
  if (!col || col.kind !== 'string') return false;
  const toks = tokens ?? tokenize(col.values[i]);
  const want = t.value.split(' ');
  outer: for (let s = 0; s + want.length <= toks.length; s++) {
    for (let j = 0; j < want.length; j++) if (toks[s + j] !== want[j]) continue outer;
    return true;
  }
  return false;
}
