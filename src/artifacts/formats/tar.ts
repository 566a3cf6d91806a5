/**
 * Tar archives. The old tar form of PyTorch's legacy format (members `sys_info`, `pickle`, `storages`,
 * `tensors`) is read the way torch.load reads it: `sys_info` and `pickle` are pickle streams; `storages`
 * and `tensors` interleave small pickles with raw records whose sizes the pickles give. Any other tar has
 * each regular member scanned as a file of its own.
 */
import type { Finding, Location } from '../../core/finding.js';
import { LIMITS } from '../../core/limits.js';
import * as tarMalformed from '../containers/rules/tar-malformed.js';
import { readAt, sliceSource } from '../containers/sync-source.js';
import { readTar, type TarMember } from '../containers/tar.js';
import { isTar } from '../detect.js';
import type { ByteSource } from '../source.js';
import { scanPicklesAt } from './pickle-window.js';
import * as limit from './rules/limit-exceeded.js';
import * as legacyStorage from './rules/torch-legacy-storage.js';
import * as unanalysable from './rules/unanalysable.js';
import type { FormatResult, FormatScanner, ScanContext } from './types.js';

const ELEMENT_SIZE: Record<string, number> = {
  DoubleStorage: 8,
  FloatStorage: 4,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
  ComplexFloatStorage: 8,
  ComplexDoubleStorage: 16,
  QUInt8Storage: 1,
  QInt8Storage: 1,
  QInt32Storage: 4,
  QUInt4x2Storage: 1,
  QUInt2x4Storage: 1,
};

interface Acc {
  findings: Finding[];
  complete: boolean;
  pickles: number;
  globals: Set<string>;
}

function asCount(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (v && typeof v === 'object' && 'value' in v) return asCount((v as { value: unknown }).value);
  return undefined;
}

const i64 = (b: Uint8Array, o: number) => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Number(dv.getBigInt64(o, true));
};

async function onePickle(src: ByteSource, off: number, ctx: ScanContext, where: Location, acc: Acc) {
  const s = await scanPicklesAt(src, off, {
    policy: ctx.policy,
    location: where,
    count: 1,
    depth: ctx.depth,
  });
  acc.findings.push(...s.findings);
  acc.pickles += s.pickles.length;
  for (const g of s.globals) acc.globals.add(g);
  if (!s.complete) acc.complete = false;
  return s;
}

/** Walk `storages` or `tensors` of a legacy tar, as torch.load's legacy_load does. */
async function walkRecords(
  src: ByteSource,
  kind: 'storages' | 'tensors',
  ctx: ScanContext,
  where: Location,
  acc: Acc,
) {
  const fail = (msg: string) => {
    acc.complete = false;
    acc.findings.push(legacyStorage.check(msg, where));
  };
  const first = await onePickle(src, 0, ctx, where, acc);
  if (!first.complete) return;
  const n = asCount(first.pickles[0]?.value);
  if (n === undefined) return fail(`the ${kind} count pickle does not hold a count`);
  if (n > LIMITS.archive.maxEntries) return fail(`${n} ${kind} is over the limit`);
  let off = first.end;
  for (let i = 0; i < n; i++) {
    const s = await onePickle(src, off, ctx, where, acc);
    if (!s.complete) return;
    off = s.end;
    if (kind === 'storages') {
      const types = s.globals.map((g) => g.split('.').pop() ?? '');
      const size = types.map((t) => ELEMENT_SIZE[t]).find((x) => x !== undefined);
      if (size === undefined) return fail(`storage ${i} has no known storage type`);
      const hdr = await readAt(src, off, 8);
      if (hdr.length < 8) return fail(`storage ${i} runs past the end of the member`);
      const numel = i64(hdr, 0);
      off += 8 + numel * size;
    } else {
      const hdr = await readAt(src, off, 8);
      if (hdr.length < 8) return fail(`tensor ${i} runs past the end of the member`);
      const ndim = new DataView(hdr.buffer, hdr.byteOffset).getInt32(0, true);
      if (ndim < 0 || ndim > 64) return fail(`tensor ${i} has ${ndim} dimensions`);
      off += 8 + 16 * ndim + 8;
    }
    if (off > src.size || off < 0) return fail(`${kind} record ${i} runs past the end of the member`);
  }
  if (off !== src.size) fail(`${src.size - off} bytes of the ${kind} member are not accounted for`);
}

export async function scanTar(source: ByteSource, ctx: ScanContext): Promise<FormatResult> {
  const where: Location = { file: ctx.displayPath };
  const tar = await readTar(source);
  const acc: Acc = { findings: [], complete: true, pickles: 0, globals: new Set() };
  if (tar.error) {
    acc.complete = false;
    acc.findings.push(tarMalformed.check(tar.error, where));
  }
  if (tar.trailing) {
    acc.findings.push(
      tarMalformed.check(`${tar.trailing} non-zero bytes follow the end of the tar archive`, where),
    );
  }
  const byName = new Map<string, TarMember>();
  for (const m of tar.members) {
    if (byName.has(m.name)) {
      acc.findings.push(tarMalformed.check(`two members are named "${m.name}"`, { ...where, entry: m.name }));
    }
    byName.set(m.name, m);
  }
  const isLegacy = byName.has('pickle') && byName.has('storages');
  const member = (m: TarMember) => sliceSource(m.name, source, m.dataOffset, m.size);
  if (isLegacy) {
    for (const name of ['sys_info', 'pickle']) {
      const m = byName.get(name);
      if (!m) continue;
      const s = await scanPicklesAt(member(m), 0, {
        policy: ctx.policy,
        location: { ...where, entry: name },
        depth: ctx.depth,
      });
      acc.findings.push(...s.findings);
      acc.pickles += s.pickles.length;
      for (const g of s.globals) acc.globals.add(g);
      if (!s.complete) acc.complete = false;
    }
    for (const name of ['storages', 'tensors'] as const) {
      const m = byName.get(name);
      if (m) await walkRecords(member(m), name, ctx, { ...where, entry: name }, acc);
    }
    const known = new Set(['sys_info', 'pickle', 'storages', 'tensors']);
    for (const m of tar.members) {
      if (!known.has(m.name))
        acc.findings.push(
          legacyStorage.check(`unexpected member "${m.name}" in a legacy checkpoint`, {
            ...where,
            entry: m.name,
          }),
        );
    }
  } else {
    if (ctx.depth + 1 > LIMITS.archive.maxArchiveDepth) {
      acc.complete = false;
      acc.findings.push(
        limit.check(`archives nest deeper than ${LIMITS.archive.maxArchiveDepth} levels`, where),
      );
    } else {
      for (const m of tar.members) {
        if (m.type !== '0' && m.type !== '7' && m.type !== '\0') {
          // Links and folders carry no data; any other member with data (GNU sparse, vendor types) is unread.
          if (m.size > 0) {
            acc.complete = false;
            acc.findings.push(
              unanalysable.check(
                `tar member "${m.name}" has type "${m.type}", which Antidote does not read`,
                { ...where, entry: m.name },
              ),
            );
          }
          continue;
        }
        const r = await ctx.scanNested(member(m), { entry: m.name });
        acc.findings.push(...r.findings);
        if (!r.complete) acc.complete = false;
        for (const g of (r.details?.globals as string[] | undefined) ?? []) acc.globals.add(g);
      }
    }
  }
  return {
    format: isLegacy ? 'pytorch-legacy-tar' : 'tar',
    findings: acc.findings,
    complete: acc.complete,
    details: {
      members: tar.members.length,
      pickles: acc.pickles,
      globals: [...acc.globals].sort(),
    },
  };
}

export const tarFormat: FormatScanner = {
  id: 'tar',
  title: 'tar archive (incl. the old tar form of PyTorch legacy checkpoints)',
  detect: ({ head }) => isTar(head),
  scan: scanTar,
};
