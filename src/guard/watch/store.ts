/**
 * Windows that survive a restart. The state folder holds
 *   window.json         the open window (index, opening time, the profile it counts against), replaced atomically
 *   journal-<i>.jsonl   one line per answered request of window i: its instance records and flagged checks,
 *                       appended with a synchronous write before the answer leaves, so a guard killed at any
 *                       moment (SIGKILL included) has every answered request in the kernel's hands
 *   windows.jsonl       one line per closed window: its report (statistics and findings)
 *   learned.json        the triggers guard/learned-trigger has confirmed, replaced atomically when one is added
 * Closing a window writes its report first, then the next window.json, then opens the next journal and removes
 * the old one; a crash between any two steps is recognised at start-up and finished, never counted twice.
 */
import {
  appendFileSync,
  close,
  closeSync,
  constants,
  createReadStream,
  existsSync,
  fsync,
  fsyncSync,
  mkdirSync,
  open,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { openExclusive, tempNameFor } from '../../core/atomic-write.js';
import { AntidoteError, describeFsError } from '../../core/errors.js';
import type { Learned } from '../checks/learned-trigger.js';
import { KnownTriggerSchema } from '../profile.js';
import type { WindowReport } from './monitor.js';
import type { WatchProfile } from './types.js';
import { addRecords, emptyWindow, type InstanceRecord, validRecord, type WindowCounts } from './window.js';

export const STATE_FORMAT = 'antidote-guard-state';

const unit = z.number().min(0).max(1);
const LearnedFileSchema = z.strictObject({
  format: z.literal(STATE_FORMAT),
  profile: z.string(),
  learned: z
    .array(
      z.strictObject({
        trigger: KnownTriggerSchema,
        support: z.number().int().min(1),
        cls: z.number().int().min(0),
        modelWith: unit,
        referenceWith: unit,
        answered: z.literal(true).optional(),
      }),
    )
    .max(10_000),
});

interface WindowFile {
  format: typeof STATE_FORMAT;
  version: 1;
  profile: string;
  index: number;
  start: number;
}

export interface Recovery {
  window: WindowCounts;
  /** Requests and instances read back from the journal. */
  requests: number;
  instances: number;
  /** A last line cut off by a crash in the middle of its write (never answered, so nothing recorded is lost). */
  tornLines: number;
  /** The last closed window's report (its alarms hold until the open window closes). */
  lastReport?: WindowReport;
}

/**
 * Written to a temporary name and renamed. Synchronous, so no request is counted between the steps of a
 * rotation; flushed to the disk in the background (a killed process loses nothing either way: what was written
 * is in the kernel's hands; the flush guards against a power cut without stalling the requests in flight).
 */
function writeJsonAtomicSync(path: string, value: unknown): void {
  const tmp = tempNameFor(path);
  const fd = openExclusive(tmp);
  try {
    writeSync(fd, `${JSON.stringify(value)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  flushLater(path);
}

function flushLater(path: string): void {
  open(path, 'r', (err, fd) => {
    if (err) return;
    fsync(fd, () => close(fd, () => {}));
  });
}

export class WindowStore {
  private fd = -1;
  constructor(
    readonly dir: string,
    private readonly profile: WatchProfile,
    private readonly profileId: string,
  ) {}

  private journal(i: number): string {
    return join(this.dir, `journal-${i}.jsonl`);
  }

  /** Open the folder and rebuild the open window from its journal. */
  async open(now: number): Promise<Recovery> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw describeFsError(this.dir, err, 'write');
    }
    const wf = join(this.dir, 'window.json');
    let index = 1;
    let start = now;
    if (existsSync(wf)) {
      let doc: WindowFile;
      try {
        doc = JSON.parse(readFileSync(wf, 'utf8')) as WindowFile;
      } catch (err) {
        throw new AntidoteError('E_INPUT', `--state ${this.dir}: window.json is not readable JSON`, {
          hint: 'give an empty folder or the state folder of this guard',
          cause: err,
        });
      }
      if (doc?.format !== STATE_FORMAT || !Number.isInteger(doc.index) || !Number.isFinite(doc.start))
        throw new AntidoteError('E_INPUT', `--state ${this.dir}: window.json is not a guard state file`, {
          hint: 'give an empty folder or the state folder of this guard',
        });
      if (doc.profile !== this.profileId)
        throw new AntidoteError(
          'E_INPUT',
          `--state ${this.dir} holds windows counted against another profile`,
          {
            hint: 'give a new --state folder for a new profile (the old one is kept as it is)',
          },
        );
      index = doc.index;
      start = doc.start;
      if (this.closedIndices().has(index)) {
        // Crashed after writing the report and before opening the next window.
        rmSync(this.journal(index), { force: true });
        index++;
        start = now;
        writeJsonAtomicSync(wf, this.windowFile(index, start));
      }
    } else writeJsonAtomicSync(wf, this.windowFile(index, start));
    for (const name of readdirSync(this.dir)) {
      const m = /^journal-(\d+)\.jsonl$/.exec(name);
      if (m && Number(m[1]) < index) rmSync(join(this.dir, name), { force: true });
    }
    const w = emptyWindow(this.profile, index, start);
    const rec = await this.replayJournal(w);
    rec.lastReport = this.lastReport();
    this.fd = this.openJournal(index);
    return rec;
  }

  private windowFile(index: number, start: number): WindowFile {
    return { format: STATE_FORMAT, version: 1, profile: this.profileId, index, start };
  }

  private lastReport(): WindowReport | undefined {
    const p = join(this.dir, 'windows.jsonl');
    if (!existsSync(p)) return undefined;
    const lines = readFileSync(p, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const r = JSON.parse(lines[i]) as WindowReport;
        if (Array.isArray(r.findings)) return r;
      } catch {
        // a torn last line: the window before it is the last closed one
      }
    }
    return undefined;
  }

  private closedIndices(): Set<number> {
    const p = join(this.dir, 'windows.jsonl');
    const out = new Set<number>();
    if (!existsSync(p)) return out;
    for (const line of readFileSync(p, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const w = (JSON.parse(line) as { window?: unknown }).window;
        if (typeof w === 'number') out.add(w);
      } catch {
        // a torn last line: that window's report was not written, so it is closed again
      }
    }
    return out;
  }

  private openJournal(i: number): number {
    try {
      return openSync(
        this.journal(i),
        constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW,
        0o644,
      );
    } catch (err) {
      throw describeFsError(this.journal(i), err, 'write');
    }
  }

  private async replayJournal(w: WindowCounts): Promise<Recovery> {
    const out: Recovery = { window: w, requests: 0, instances: 0, tornLines: 0 };
    const path = this.journal(w.index);
    if (!existsSync(path)) return out;
    const k = this.profile.classes.length;
    const bins = this.profile.outputs.bins;
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    let lineNo = 0;
    let pendingBad: number | undefined;
    // Bytes of the journal up to the end of the last whole line, where a torn last line is cut off.
    let good = 0;
    for await (const line of lines) {
      lineNo++;
      if (pendingBad !== undefined && line) break;
      if (pendingBad === undefined) good += Buffer.byteLength(line) + 1;
      if (!line) continue;
      let entry: { t?: unknown; r?: unknown; f?: unknown };
      try {
        entry = JSON.parse(line);
      } catch {
        pendingBad = lineNo;
        good -= Buffer.byteLength(line) + 1;
        continue;
      }
      const recs = entry.r;
      if (!Array.isArray(recs) || !recs.every((r) => validRecord(r, k, bins, w.slices.length))) {
        pendingBad = lineNo;
        good -= Buffer.byteLength(line) + 1;
        continue;
      }
      addRecords(w, recs as InstanceRecord[], bins);
      w.requests++;
      if (typeof entry.t === 'number') w.last = Math.max(w.last, entry.t);
      if (entry.f && typeof entry.f === 'object')
        for (const [c, n] of Object.entries(entry.f as Record<string, unknown>))
          if (typeof n === 'number') w.flagged[c] = (w.flagged[c] ?? 0) + n;
      out.requests++;
      out.instances += recs.length;
    }
    if (pendingBad !== undefined) {
      // Only the last line can be torn (appends are whole lines); a bad line followed by good ones is damage.
      if (pendingBad !== lineNo)
        throw new AntidoteError('E_INPUT', `--state ${this.dir}: ${path} line ${pendingBad} is damaged`, {
          hint: 'move the state folder aside to start counting afresh',
        });
      // The torn line was never answered; cut it off so the next appends start on a line of their own.
      truncateSync(path, good);
      out.tornLines = 1;
    }
    return out;
  }

  /** Record one answered request: called before the answer is written. */
  append(t: number, recs: InstanceRecord[], flagged: Record<string, number> | undefined): void {
    const line = flagged ? JSON.stringify({ t, r: recs, f: flagged }) : JSON.stringify({ t, r: recs });
    writeSync(this.fd, `${line}\n`);
  }

  /** Close window `w` with its report and open window w + 1; returns the new empty window. */
  rotate(w: WindowCounts, report: WindowReport, now: number): WindowCounts {
    const reports = join(this.dir, 'windows.jsonl');
    appendFileSync(reports, `${JSON.stringify(report)}\n`);
    flushLater(reports);
    writeJsonAtomicSync(join(this.dir, 'window.json'), this.windowFile(w.index + 1, now));
    const old = this.fd;
    this.fd = this.openJournal(w.index + 1);
    closeSync(old);
    rmSync(this.journal(w.index), { force: true });
    return emptyWindow(this.profile, w.index + 1, now);
  }

  private learnedPath(): string {
    return join(this.dir, 'learned.json');
  }

  /** The triggers learned before a restart (none in a new folder); a damaged file is one line, exit 2. */
  loadLearned(classes: number): Learned[] {
    const path = this.learnedPath();
    if (!existsSync(path)) return [];
    const bad = (why: string) =>
      new AntidoteError('E_INPUT', `--state ${this.dir}: learned.json ${why}`, {
        hint: 'remove learned.json to start learning again (the windows are kept)',
      });
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      throw bad('is not readable JSON');
    }
    const parsed = LearnedFileSchema.safeParse(doc);
    if (!parsed.success) throw bad(`is not a list of learned triggers (${parsed.error.issues[0].message})`);
    if (parsed.data.profile !== this.profileId) throw bad('was learned against another profile');
    if (parsed.data.learned.some((l) => l.cls >= classes))
      throw bad('names a class the profile does not have');
    return parsed.data.learned;
  }

  saveLearned(learned: Learned[]): void {
    writeJsonAtomicSync(this.learnedPath(), { format: STATE_FORMAT, profile: this.profileId, learned });
  }

  close(): void {
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
