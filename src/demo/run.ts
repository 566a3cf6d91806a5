/**
 * `antidote demo`: the whole poisoned-retrain loop on the bundled SST-2 slice, in process.
 *   1. a trusted reference of reviewed movie reviews;
 *   2. an incoming batch poisoned at run time (backdoor campaign + flipped labels, seeded);
 *   3. the audit (src/data/audit) quarantines suspect rows;
 *   4. Antidote's own learner trains the incumbent (reference only), candidate A (reference + raw batch) and
 *      candidate B (reference + accepted rows);
 *   5. the gate (src/gate) blocks A and promotes B, probing with the audit's trigger candidates;
 *   6. HTML reports are written and named.
 * Each step is narrated through `say`; nothing else is printed. The outcome says whether the story came out.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { GateReport } from '../gate/decision.js';
import { trainLearnerModel } from '../gate/models/in-process.js';
import type { InputBatch } from '../gate/models/types.js';
import { readTable } from '../gate/read.js';
import { poisonBatch, type Review, toTsv } from './poison.js';

export interface DemoOptions {
  out: string;
  seed: number;
  say: (line: string) => void;
  /** Folder with the bundled SST-2 files (train.tsv, dev.tsv, test.tsv). */
  data?: string;
}

export interface DemoOutcome {
  ok: boolean;
  seconds: number;
  audit: {
    quarantined: number;
    accepted: number;
    triggerCaught: number;
    triggerTotal: number;
    flipsCaught: number;
    flipsTotal: number;
    report: string;
  };
  gateRaw: { decision: string; report: string; reasons: string[] };
  gateAudited: { decision: string; report: string; reasons: string[] };
  problems: string[];
  /** Seconds per step. */
  timings: Record<string, number>;
}

export function bundledData(): string {
  return fileURLToPath(new URL('../../examples/sst2/', import.meta.url));
}

async function reviews(path: string): Promise<Review[]> {
  const t = await readTable(path);
  const s = t.columns.get('sentence');
  const l = t.columns.get('label');
  if (!s || !l) throw new Error(`${path} lacks sentence/label columns`);
  const sv = s.kind === 'string' ? s.values : Array.from(s.values, String);
  const lv = l.kind === 'string' ? l.values : Array.from(l.values, (x) => String(x));
  return sv.map((sentence, i) => ({ sentence, label: lv[i] }));
}

function batchOf(rows: Review[]): InputBatch {
  return {
    n: rows.length,
    columns: new Map([['sentence', { kind: 'string' as const, values: rows.map((r) => r.sentence) }]]),
    ids: rows.map((_, i) => String(i + 1)),
  };
}

const n = (x: number) => x.toLocaleString('en-US');

export async function runDemo(opts: DemoOptions): Promise<DemoOutcome> {
  const t0 = Date.now();
  const say = opts.say;
  const data = opts.data ?? bundledData();
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const problems: string[] = [];
  const timings: Record<string, number> = {};
  let lapStart = Date.now();
  const lap = (name: string) => {
    const now = Date.now();
    timings[name] = (now - lapStart) / 1000;
    lapStart = now;
  };

  // 1. Trusted reference and holdout.
  const train = await reviews(join(data, 'train.tsv'));
  const holdout = [...(await reviews(join(data, 'dev.tsv'))), ...(await reviews(join(data, 'test.tsv')))];
  const refSize = 2000;
  const reference = train.slice(0, refSize);
  const incomingClean = train.slice(refSize);
  const REF = join(out, 'trusted-reference.tsv');
  const HOLD = join(out, 'trusted-holdout.tsv');
  const INC = join(out, 'incoming-batch.tsv');
  await writeFileAtomic(REF, toTsv(reference));
  await writeFileAtomic(HOLD, toTsv(holdout));
  say(
    `1. Trusted data: ${n(reference.length)} reviewed movie reviews (SST-2, bundled) as the audit's reference, and ${n(holdout.length)} more as the gate's holdout. The attacker cannot touch either.`,
  );

  // 2. Poisoned incoming batch.
  const batch = poisonBatch(incomingClean, { seed: opts.seed });
  await writeFileAtomic(INC, toTsv(batch.rows));
  say(
    `2. A new batch of ${n(batch.rows.length)} reviews arrives for retraining. It is poisoned (seed ${opts.seed}): ${batch.triggerRows.length} negative reviews carry the rare word "${batch.trigger}" and are labelled positive (a backdoor campaign), and ${batch.flippedRows.length} other reviews have their label flipped.`,
  );

  lap('data');
  // 3. Audit.
  const { audit } = await import('../data/audit.js');
  const auditDir = join(out, 'audit');
  // The demo's folder is its own (the command checked it): a previous run's outputs are replaced.
  const ar = await audit({
    trusted: REF,
    incoming: INC,
    label: 'label',
    text: 'sentence',
    outDir: auditDir,
    force: true,
  });
  const accepted = ar.outputs?.accepted ? await reviews(ar.outputs.accepted) : [];
  const quarantinedRows = ar.summary.quarantined;
  // Which poisoned rows were caught: match accepted rows back to the batch by content.
  const acceptedKeys = new Map<string, number>();
  for (const r of accepted)
    acceptedKeys.set(`${r.sentence}\t${r.label}`, (acceptedKeys.get(`${r.sentence}\t${r.label}`) ?? 0) + 1);
  const caught = (rows: number[]) =>
    rows.filter((i) => !acceptedKeys.has(`${batch.rows[i].sentence}\t${batch.rows[i].label}`)).length;
  const triggerCaught = caught(batch.triggerRows);
  const flipsCaught = caught(batch.flippedRows);
  say(
    `3. The audit compares the batch with the trusted reference: it quarantines ${n(quarantinedRows)} rows (${triggerCaught} of the ${batch.triggerRows.length} backdoor rows, ${flipsCaught} of the ${batch.flippedRows.length} flipped labels) and accepts ${n(accepted.length)}. Nothing is deleted: the quarantined rows keep their reasons.`,
  );

  // Flips the audit could not see: say why, in the audit's own words (its blind-spot finding).
  const blind = ar.findings.find(
    (f) => f.rule === 'audit/blind-spot' && f.evidence?.detector === 'audit/disagreement',
  );
  if (flipsCaught < batch.flippedRows.length / 2) {
    say(
      blind
        ? `   The flipped labels mostly pass, and the audit says why: ${blind.message}`
        : `   The flipped labels mostly pass: the trusted model cannot tell them from its own mistakes.`,
    );
  }

  lap('audit');
  // 4. Models.
  const spec = { text: 'sentence', numeric: [], categorical: [], hashBits: 18, maxIter: 50 };
  const trainOn = (rows: Review[], name: string) =>
    trainLearnerModel(
      batchOf(rows),
      Int32Array.from(rows, (r) => (r.label === '1' ? 1 : 0)),
      2,
      spec,
      name,
    );
  const incumbent = trainOn(reference, 'incumbent (reference only)');
  const candRaw = trainOn([...reference, ...batch.rows], 'candidate A (reference + raw batch)');
  const candAudited = trainOn([...reference, ...accepted], 'candidate B (reference + accepted rows)');
  say(
    `4. Antidote's own learner trains the current model on the reference, candidate A on the reference plus the raw batch, and candidate B on the reference plus the accepted rows only.`,
  );

  lap('train');
  // 5. Gate both candidates.
  const { runGate } = await import('../gate/gate.js');
  const { writeGateOutputs } = await import('../cli/gate.js');
  const gate = async (candidate: typeof candRaw, dir: string): Promise<GateReport> => {
    const r = await runGate({
      trusted: HOLD,
      label: 'label',
      incumbent,
      candidate,
      probe: 'auto',
      audit: auditDir,
      settings: { seed: opts.seed },
    });
    await writeGateOutputs(r, join(out, dir));
    return r;
  };
  const gA = await gate(candRaw, 'gate-candidate-A');
  const gB = await gate(candAudited, 'gate-candidate-B');
  const first = (r: GateReport) => (r.reasons.length ? ` ${r.reasons[0]}` : '');
  say(
    `5. The gate checks candidate A against the current model on the trusted holdout, slice by slice, and probes it for triggers: ${gA.decision.toUpperCase()}.${first(gA)}${gA.reasons.length > 1 ? ` (and ${gA.reasons.length - 1} more reasons)` : ''}`,
  );
  say(
    `6. Candidate B, trained only on what the audit accepted: ${gB.decision.toUpperCase()}.${gB.decision !== 'block' ? ` No regression, no losing region, no trigger.${gB.caveats?.length ? ` Caveat: ${gB.caveats.join('; ')}.` : ''}` : first(gB)}`,
  );

  lap('gate');
  if (gA.decision !== 'block') problems.push('candidate A (raw batch) was not blocked');
  if (gB.decision === 'block') problems.push('candidate B (audited batch) was not promoted');
  const outcome: DemoOutcome = {
    ok: problems.length === 0,
    seconds: (Date.now() - t0) / 1000,
    audit: {
      quarantined: quarantinedRows,
      accepted: accepted.length,
      triggerCaught,
      triggerTotal: batch.triggerRows.length,
      flipsCaught,
      flipsTotal: batch.flippedRows.length,
      report: ar.outputs?.reportHtml ?? join(auditDir, 'report.html'),
    },
    gateRaw: { decision: gA.decision, report: gA.outputs?.html ?? '', reasons: gA.reasons },
    gateAudited: { decision: gB.decision, report: gB.outputs?.html ?? '', reasons: gB.reasons },
    problems,
    timings,
  };
  await writeFileAtomic(join(out, 'demo.json'), `${JSON.stringify(outcome, null, 2)}\n`);
  return outcome;
}
