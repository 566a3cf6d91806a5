/**
 * Detector 3: contributors and labelers. Poison often arrives through a few accounts on purpose (a campaign)
 * or through one labeler who flips labels (a rogue analyst, or one an attacker steers). Per source account
 * and per labeler, this compares the share of suspect rows (earlier detectors) and the share of rows the
 * trusted model disagrees with against the population of their peers, with one-sided binomial tests against
 * a robust population rate (the row-weighted median of the accounts' rates, which a few hostile accounts
 * cannot drag) and Benjamini-Hochberg control over all accounts and metrics. A flagged account's suspect
 * and contradicted rows get raised scores; its other rows are left alone.
 */
import { ATLAS } from '../../core/atlas.js';
import type { Finding } from '../../core/finding.js';
import { makeFinding, type RuleMeta } from '../../core/rule.js';
import type { Severity } from '../../core/severity.js';
import { mad, median, weightedMedian } from '../stats/robust.js';
import { benjaminiHochberg, binomialUpperTail } from '../stats/tests.js';
import { unseenClassReason } from './lib/classes.js';
import { settingsFor } from './lib/settings.js';
import type { AuditContext, Categorical, Dataset, Detector, DetectorOutput, RowFlag } from './types.js';

export const meta: RuleMeta = {
  id: 'audit/contributors',
  title: 'Campaign accounts and rogue labelers',
  severity: 'high',
  atlas: ATLAS.poisonData,
  rationale:
    'Poisoned records usually come from a few accounts (a campaign) or pass through one labeler who flips ' +
    'labels. Judged one row at a time they look ordinary; judged per account against its peers, a share of ' +
    'suspect or contradicted rows far above the population rate is hard to explain by chance.',
};

export const CONTRIBUTORS_DEFAULTS = {
  /** A row counts as suspect when earlier detectors scored it at least this. */
  suspectScore: 0.5,
  /** The trusted model disagrees with a row when it gives the row's label less than this probability. */
  disagreeProba: 0.5,
  /** Benjamini-Hochberg false discovery rate over all accounts × metrics tested. */
  fdr: 0.001,
  /** Accounts with fewer rows are not tested (too little evidence either way). */
  minRows: 8,
  /** An account's rate must be at least this multiple of the population rate... */
  minRatio: 2.5,
  /** ...and at least this much above it in absolute terms. */
  minExcess: 0.05,
  /**
   * Highest score of a row of a flagged account that the trusted model contradicts. The score is the share of
   * the account's flagged rows that its peers' rate does not explain, 1 − p0/rate (a rogue labeler at 33%
   * against peers at 3% scores 0.91), down to three quarters of that for rows the model only just contradicts.
   */
  rowScore: 0.95,
  /** A row of a flagged account whose earlier suspicion reaches this (but may be below the quarantine threshold)... */
  raiseFrom: 0.2,
  /** ...gets this score, combined with its earlier ones (noisy-OR), so the account's weak suspects are quarantined too. */
  raiseScore: 0.5,
  /** Robust z of an account's log volume against its peers above which a new account's volume is reported (twice this when the trusted set has no such column). */
  volumeZ: 4,
  /** Accounts listed in findings and charts. */
  maxReported: 25,
};
export type ContributorsSettings = typeof CONTRIBUTORS_DEFAULTS;

type Role = 'source' | 'labeler';

/** Statistics of one account (source or labeler value). */
export interface AccountStats {
  role: Role;
  account: string;
  rows: number;
  suspects: number;
  disagreements: number;
  /** Rows per class (label mix). */
  labelCounts: number[];
  /** Account absent from the trusted set (only when the trusted set has the column). */
  isNew?: boolean;
  suspectP?: number;
  disagreeP?: number;
  flaggedBy: Array<'suspects' | 'disagreement'>;
  volumeZ?: number;
  /** Share of the account's contradicted rows its peers' rate does not explain (when flagged for them). */
  purity?: number;
  /** For the cohort of new accounts: its member accounts. */
  members?: string[];
}

/**
 * The accounts absent from the trusted set, pooled into one cohort. A campaign spread over many fresh
 * accounts, each too small to test alone, shows up as a cohort of newcomers far more suspect than their peers.
 */
function newcomerCohort(all: AccountStats[], k: number): AccountStats | undefined {
  const fresh = all.filter((a) => a.isNew);
  if (fresh.length < 2) return undefined;
  const c: AccountStats = {
    role: fresh[0].role,
    account: `(${fresh.length} new accounts)`,
    rows: 0,
    suspects: 0,
    disagreements: 0,
    labelCounts: new Array(k).fill(0),
    isNew: true,
    flaggedBy: [],
    members: fresh.map((a) => a.account),
  };
  for (const a of fresh) {
    c.rows += a.rows;
    c.suspects += a.suspects;
    c.disagreements += a.disagreements;
    a.labelCounts.forEach((n, i) => {
      c.labelCounts[i] += n;
    });
  }
  return c;
}

function disagreeMask(ctx: AuditContext, s: ContributorsSettings): Uint8Array | undefined {
  const proba = ctx.shared.trustedProba;
  const k = ctx.classes.length;
  const inc = ctx.incoming;
  if (!proba || proba.length !== inc.n * k) return undefined;
  const out = new Uint8Array(inc.n);
  for (let i = 0; i < inc.n; i++) {
    const y = inc.labels[i];
    if (y >= 0 && proba[i * k + y] < s.disagreeProba) out[i] = 1;
  }
  return out;
}

function accountColumn(d: Dataset, role: Role): Categorical | undefined {
  return role === 'source' ? d.source : d.labeler;
}

/** Per-account counts for one role. */
export function accountStats(
  ctx: AuditContext,
  role: Role,
  suspect: Uint8Array,
  disagree: Uint8Array | undefined,
): AccountStats[] {
  const col = accountColumn(ctx.incoming, role)!;
  const k = ctx.classes.length;
  const m = col.values.length;
  const rows = new Int32Array(m);
  const sus = new Int32Array(m);
  const dis = new Int32Array(m);
  const labels = new Int32Array(m * k);
  for (let i = 0; i < ctx.incoming.n; i++) {
    const a = col.codes[i];
    if (a < 0) continue;
    rows[a]++;
    sus[a] += suspect[i];
    if (disagree) dis[a] += disagree[i];
    const y = ctx.incoming.labels[i];
    if (y >= 0) labels[a * k + y]++;
  }
  // Accounts seen in the trusted rows (the dictionary may be shared with the incoming side: use the codes).
  const trustedCol = accountColumn(ctx.trusted, role);
  const known = trustedCol
    ? new Set(Array.from(trustedCol.codes, (c) => (c < 0 ? '' : trustedCol.values[c])))
    : undefined;
  const out: AccountStats[] = [];
  for (let a = 0; a < m; a++) {
    if (rows[a] === 0) continue;
    out.push({
      role,
      account: col.values[a],
      rows: rows[a],
      suspects: sus[a],
      disagreements: dis[a],
      labelCounts: Array.from(labels.subarray(a * k, a * k + k)),
      isNew: known ? !known.has(col.values[a]) : undefined,
      flaggedBy: [],
    });
  }
  return out;
}

/** Row-weighted median rate over testable accounts, floored so that a zero rate still allows a test. */
function populationRate(
  accounts: AccountStats[],
  count: (a: AccountStats) => number,
  totalRows: number,
): number {
  const rates = accounts.map((a) => count(a) / a.rows);
  const weights = accounts.map((a) => a.rows);
  const wm = weightedMedian(rates, weights);
  return Math.min(0.5, Math.max(Number.isNaN(wm) ? 0 : wm, 1 / Math.max(2, totalRows)));
}

/**
 * One account's test: x of its n rows suspect (or contradicted) against the population rate p0. Only accounts
 * far enough above their peers are worth a p-value (p = 1 otherwise: conservative).
 */
export function accountP(
  x: number,
  n: number,
  p0: number,
  s: Pick<ContributorsSettings, 'minRatio' | 'minExcess'>,
): { p: number; ok: boolean } {
  const rate = x / n;
  const ok = rate >= p0 * s.minRatio && rate - p0 >= s.minExcess;
  return { p: ok ? binomialUpperTail(x, n, p0) : 1, ok };
}

/**
 * What blind-spot.ts reads, per account role: the tests made (Benjamini-Hochberg's level for one discovery
 * is fdr / tests), an account of the median size, and the population rates it is judged against.
 */
export interface ContributorsPower {
  role: Role;
  tests: number;
  fdr: number;
  accountRows: number;
  suspectRate: number;
  disagreeRate?: number;
  minRatio: number;
  minExcess: number;
}
export const POWER_KEY = 'power/contributors';

export function run(ctx: AuditContext): DetectorOutput {
  const s = settingsFor(ctx, meta.id, CONTRIBUTORS_DEFAULTS);
  const inc = ctx.incoming;
  const suspicion = ctx.shared.suspicion;
  const suspect = new Uint8Array(inc.n);
  if (suspicion) for (let i = 0; i < inc.n; i++) if (suspicion[i] >= s.suspectScore) suspect[i] = 1;
  const disagree = disagreeMask(ctx, s);
  // Rows a flagged (account, cell) explains already (audit/label-cells): counted again here, they would make
  // the same account look suspect overall and raise its every contradicted row, honest ones included.
  const explained = ctx.shared.labelCellRows as Uint8Array | undefined;
  if (explained?.length === inc.n) {
    for (let i = 0; i < inc.n; i++) {
      if (!explained[i]) continue;
      suspect[i] = 0;
      if (disagree) disagree[i] = 0;
    }
  }
  const findings: Finding[] = [];
  const scores = new Float32Array(inc.n);
  const reasons = new Map<number, string>();
  const charts: Record<string, unknown> = {};
  const powers: ContributorsPower[] = [];

  for (const role of ['source', 'labeler'] as const) {
    const col = accountColumn(inc, role);
    if (!col) continue;
    const all = accountStats(ctx, role, suspect, disagree);
    const testable = all.filter((a) => a.rows >= s.minRows);
    const total = all.reduce((t, a) => t + a.rows, 0);
    const metrics: Array<{ name: 'suspects' | 'disagreement'; count: (a: AccountStats) => number }> = [
      { name: 'suspects', count: (a) => a.suspects },
    ];
    if (disagree) metrics.push({ name: 'disagreement', count: (a) => a.disagreements });
    const base: Record<string, number> = {};
    const cohort = newcomerCohort(all, ctx.classes.length);
    const candidates = cohort && cohort.rows >= s.minRows ? [...testable, cohort] : testable;
    if (all.length < 2 || candidates.length === 0) continue;
    // The population rate of each metric: start from the row-weighted median of the accounts' rates, then
    // re-estimate it as the pooled rate of the accounts not flagged, until stable. The flagged accounts never
    // set the rate they are judged against; a median alone would be biased low when counts are small.
    const judge = (p0s: Record<string, number>) => {
      const tests: Array<{ a: AccountStats; metric: 'suspects' | 'disagreement'; p: number; ok: boolean }> =
        [];
      for (const metric of metrics) {
        const p0 = p0s[metric.name];
        for (const a of candidates) {
          const { p, ok } = accountP(metric.count(a), a.rows, p0, s);
          tests.push({ a, metric: metric.name, p, ok });
        }
      }
      const reject = benjaminiHochberg(
        tests.map((t) => t.p),
        s.fdr,
      );
      return tests.map((t, i) => ({ ...t, flagged: reject[i] && t.ok }));
    };
    for (const metric of metrics) base[metric.name] = populationRate(all, metric.count, total);
    let verdicts = judge(base);
    for (let round = 0; round < 5; round++) {
      const next: Record<string, number> = {};
      for (const metric of metrics) {
        const out = new Set(verdicts.filter((v) => v.flagged && v.metric === metric.name).map((v) => v.a));
        const cohortOut = cohort !== undefined && out.has(cohort);
        let x = 0;
        let n = 0;
        for (const a of all) {
          if (out.has(a) || (cohortOut && a.isNew)) continue;
          x += metric.count(a);
          n += a.rows;
        }
        next[metric.name] = Math.min(0.5, Math.max(n ? x / n : base[metric.name], 0.5 / Math.max(1, total)));
      }
      const same = metrics.every((m) => Math.abs(next[m.name] - base[m.name]) < 1e-9);
      Object.assign(base, next);
      verdicts = judge(base);
      if (same) break;
    }
    if (testable.length > 0)
      powers.push({
        role,
        tests: verdicts.length + 1,
        fdr: s.fdr,
        accountRows: Math.round(median(testable.map((a) => a.rows))),
        suspectRate: base.suspects,
        disagreeRate: base.disagreement,
        minRatio: s.minRatio,
        minExcess: s.minExcess,
      });
    for (const v of verdicts) {
      if (v.metric === 'suspects') v.a.suspectP = v.p;
      else v.a.disagreeP = v.p;
      if (v.flagged) {
        v.a.flaggedBy.push(v.metric);
        // Only an account flagged for its contradicted labels has them raised: one flagged for rows other
        // detectors found (a pocket, a trigger) keeps its other contradicted rows, mostly the model's mistakes.
        if (v.metric === 'disagreement') {
          v.a.purity = Math.max(v.a.purity ?? 0, 1 - base[v.metric] / (v.a.disagreements / v.a.rows));
        }
      }
    }

    // Volume against peers (robust z of log row counts): reported, never scored on its own.
    const logs = testable.map((a) => Math.log(a.rows));
    const mu = median(logs);
    const sd = mad(logs, mu);
    if (testable.length >= 5 && sd > 0) for (const a of testable) a.volumeZ = (Math.log(a.rows) - mu) / sd;

    const flagged = candidates.filter((a) => a.flaggedBy.length > 0).sort((x, y) => rankP(x) - rankP(y));
    const codeOf = new Map(col.values.map((v, i) => [v, i]));
    // Account code -> the flagged account (or cohort) whose rows it raises.
    const flaggedCodes = new Map<number, string>();
    const purityOf = new Map<number, number>();
    for (const a of flagged) {
      for (const m of a.members ?? [a.account]) {
        const code = codeOf.get(m);
        if (code !== undefined) purityOf.set(code, Math.max(purityOf.get(code) ?? 0, a.purity ?? 0));
        if (code !== undefined && !flaggedCodes.has(code)) {
          flaggedCodes.set(
            code,
            a.members ? `${role} "${m}" (one of ${a.members.length} new accounts)` : `${role} "${m}"`,
          );
        }
      }
    }
    for (let i = 0; i < inc.n; i++) {
      const a = col.codes[i];
      if (a < 0 || !flaggedCodes.has(a)) continue;
      const who = flaggedCodes.get(a)!;
      let score = 0;
      let why = '';
      if (suspicion && suspicion[i] >= s.raiseFrom) {
        score = s.raiseScore;
        why = `${who} has many suspect rows`;
      }
      if (disagree?.[i]) {
        const k = ctx.classes.length;
        const pLabel = ctx.shared.trustedProba![i * k + inc.labels[i]];
        const strength = Math.max(0, (s.disagreeProba - pLabel) / s.disagreeProba);
        const raised = Math.min(s.rowScore, purityOf.get(a) ?? 0) * (0.75 + 0.25 * strength);
        if (raised > score) {
          score = raised;
          why = `${who} is often contradicted by the trusted model, and so is this row`;
        }
      }
      if (score > scores[i]) {
        scores[i] = score;
        reasons.set(i, why);
      }
    }

    const shown = flagged.slice(0, s.maxReported);
    for (const a of shown) findings.push(accountFinding(ctx, a, base, flagged.length));
    if (flagged.length > shown.length) {
      findings.push(
        makeFinding(
          meta,
          `${flagged.length - shown.length} more ${role} accounts are flagged (not listed).`,
          {
            severity: 'medium',
            location: { column: col === inc.source ? ctx.roles.source : ctx.roles.labeler },
            evidence: { more: flagged.length - shown.length },
          },
        ),
      );
    }
    // A campaign: the flagged accounts together hold most suspects while sending a small share of rows.
    if (role === 'source' && flagged.length > 0) {
      const byName = new Map(all.map((a) => [a.account, a]));
      const members = new Set(flagged.flatMap((a) => a.members ?? [a.account]));
      const accounts = [...members].map((m) => byName.get(m)!).filter(Boolean);
      const totalSuspects = all.reduce((t, a) => t + a.suspects, 0);
      const fSus = accounts.reduce((t, a) => t + a.suspects, 0);
      const fRows = accounts.reduce((t, a) => t + a.rows, 0);
      if (totalSuspects > 0 && fSus / totalSuspects >= 0.5 && fRows / inc.n <= 0.25) {
        findings.push(
          makeFinding(
            meta,
            `Campaign: ${accounts.length} source account(s) sent ${pct(fRows / inc.n)} of the rows but ${pct(fSus / totalSuspects)} of the suspect rows; quarantine and review these accounts.`,
            {
              severity: 'critical',
              location: { column: ctx.roles.source, rows: accounts.slice(0, 20).map((a) => a.account) },
              evidence: {
                accounts: accounts.length,
                rowShare: fRows / inc.n,
                suspectShare: fSus / totalSuspects,
              },
            },
          ),
        );
      }
    }
    for (const a of testable) {
      // Heavy-tailed volumes are normal; a new account (absent from the trusted set) far above its peers is not.
      const zCut = a.isNew === undefined ? 2 * s.volumeZ : a.isNew ? s.volumeZ : Number.POSITIVE_INFINITY;
      if (a.flaggedBy.length === 0 && (a.volumeZ ?? 0) >= zCut) {
        findings.push(
          makeFinding(
            meta,
            `${role} "${a.account}" is new and sent ${a.rows} rows, far more than its peers (median ${Math.round(Math.exp(mu))}); check that the volume is expected.`,
            {
              severity: 'low',
              location: { column: ctx.roles[role] },
              evidence: { rows: a.rows, volumeZ: round(a.volumeZ!) },
            },
          ),
        );
      }
    }
    charts[role === 'source' ? 'suspectRateBySource' : 'suspectRateByLabeler'] = [...testable]
      .sort(
        (x, y) =>
          y.suspects / y.rows - x.suspects / x.rows || y.disagreements / y.rows - x.disagreements / x.rows,
      )
      .slice(0, 50)
      .map((a) => ({
        account: a.account,
        rows: a.rows,
        suspectRate: round(a.suspects / a.rows),
        disagreementRate: disagree ? round(a.disagreements / a.rows) : null,
        flagged: a.flaggedBy.length > 0,
      }));
  }

  const rows: RowFlag[] = [];
  for (let i = 0; i < inc.n; i++)
    if (scores[i] > 0) rows.push({ row: i, score: scores[i], reason: reasons.get(i)! });
  return { findings, rows, charts, publish: { [POWER_KEY]: powers } };
}

function rankP(a: AccountStats): number {
  return Math.min(a.suspectP ?? 1, a.disagreeP ?? 1);
}

function accountFinding(
  ctx: AuditContext,
  a: AccountStats,
  base: Record<string, number>,
  flaggedCount: number,
): Finding {
  const parts: string[] = [];
  if (a.flaggedBy.includes('suspects')) {
    parts.push(
      `${pct(a.suspects / a.rows)} of ${a.members ? 'their' : 'its'} ${a.rows} rows are suspect (peers ${pct(base.suspects)})`,
    );
  }
  if (a.flaggedBy.includes('disagreement')) {
    parts.push(
      `the trusted model contradicts ${pct(a.disagreements / a.rows)} of ${a.members ? 'their' : 'its'} labels (peers ${pct(base.disagreement)})`,
    );
  }
  const who = a.members
    ? `${a.members.length} new ${a.role === 'labeler' ? 'labelers' : 'source accounts'} (absent from the trusted set, ${a.rows} rows together)`
    : a.role === 'labeler'
      ? `Labeler "${a.account}"`
      : `Source account "${a.account}"`;
  const action = a.role === 'labeler' ? 're-label its rows independently' : 'review its rows before training';
  const p = rankP(a);
  const severity: Severity = p < 1e-6 || a.flaggedBy.length === 2 ? 'high' : 'medium';
  const mix: Record<string, number> = {};
  a.labelCounts.forEach((c, i) => {
    mix[ctx.classes[i]] = c;
  });
  return makeFinding(meta, `${who}: ${parts.join('; ')}; ${action}.`, {
    severity,
    location: { column: ctx.roles[a.role], rowCount: a.rows },
    evidence: {
      role: a.role,
      account: a.account,
      rows: a.rows,
      suspects: a.suspects,
      disagreements: a.disagreements,
      labelMix: mix,
      pValue: p,
      newAccount: a.isNew,
      members: a.members?.slice(0, 20),
      volumeZ: a.volumeZ === undefined ? undefined : round(a.volumeZ),
      flaggedAccounts: flaggedCount,
    },
  });
}

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
const round = (x: number) => Math.round(x * 1000) / 1000;

export const detector: Detector = {
  meta,
  defaults: CONTRIBUTORS_DEFAULTS,
  stage: 2,
  applies: (ctx) => Boolean(ctx.incoming.source || ctx.incoming.labeler),
  needs: () => 'a --source or --labeler column',
  cannotRun: unseenClassReason,
  run,
};
export default detector;
