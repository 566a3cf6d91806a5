/**
 * The history store: one interface over the embedded DuckDB file and PostgreSQL. It records runs with their
 * findings, model versions with the gate decisions and output distributions that concern them, audit row
 * outcomes, review decisions and API tokens (only their SHA-256), and answers the dashboard's questions.
 */
import { randomUUID } from 'node:crypto';
import { type Db, openDb, type SqlValue } from './db.js';
import type { Ingest } from './ingest.js';
import { migrate } from './migrations.js';
import type { Neighbour, Role } from './schema.js';

export interface RunSummary {
  id: string;
  kind: string;
  createdAt: string;
  receivedAt: string;
  verdict: string;
  title: string;
  batch: string | null;
  model: string | null;
  summary: Record<string, unknown>;
}

export interface RunDetail extends RunSummary {
  toolVersion: string | null;
  inputs: Array<{ name: string; digest: string }>;
  report: Record<string, unknown>;
  postedBy: string | null;
}

export interface QueueRow {
  rowId: string;
  decision: string;
  score: number | null;
  reasons: string[];
  review: string;
  label: string | null;
  source: string | null;
  labeler: string | null;
  fields: Record<string, string>;
  /** The nearest trusted rows the audit found for this row, with their labels (may be empty). */
  neighbours: Neighbour[];
  verdict: null | {
    decision: string;
    correctedLabel: string | null;
    note: string | null;
    reviewer: string;
    at: string;
  };
}

export interface ReviewRecord {
  runId: string;
  rowId: string;
  decision: 'confirm' | 'clear';
  correctedLabel?: string;
  note?: string;
  reviewer: string;
}

export interface TokenInfo {
  id: string;
  role: Role;
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

/** A token's public id: the first 12 hex digits of its SHA-256 (what `token list` shows and `revoke` takes). */
export const TOKEN_ID = /^[0-9a-f]{12}$/;
export const tokenId = (hash: string): string => hash.slice(0, 12);

type Row = Record<string, unknown>;

interface PendingRun {
  ing: Ingest;
  postedBy: string;
  resolve: (v: { id: string; created: boolean }) => void;
  reject: (err: unknown) => void;
}
/** At most this many runs, or this many rows (past the first run), per group commit. */
const GROUP_RUNS = 16;
const GROUP_ROWS = 100_000;
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown, fallback: T): T => {
  if (typeof v !== 'string') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
};

function summaryOf(r: Row): RunSummary {
  return {
    id: String(r.id),
    kind: String(r.kind),
    createdAt: String(r.created_at),
    receivedAt: String(r.received_at),
    verdict: String(r.verdict),
    title: String(r.title),
    batch: s(r.batch),
    model: s(r.model),
    summary: json(r.summary, {}),
  };
}

/** Wilson score interval of a proportion (95%). */
export function wilson(k: number, n: number): { estimate: number; low: number; high: number } | null {
  if (n <= 0) return null;
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { estimate: p, low: Math.max(0, c - h), high: Math.min(1, c + h) };
}

export class Store {
  private constructor(readonly db: Db) {}

  static async open(opts: { dataDir: string; url?: string }): Promise<Store> {
    const db = await openDb(opts);
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return new Store(db);
  }

  get dialect(): string {
    return this.db.dialect;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- tokens -------------------------------------------------------------------------------------------

  async addToken(hash: string, role: Role, name: string): Promise<void> {
    await this.db.run('INSERT INTO tokens (hash, role, name, created_at) VALUES ($1, $2, $3, $4)', [
      hash,
      role,
      name,
      new Date().toISOString(),
    ]);
  }

  /** The role and name of a token that exists and is not revoked. */
  async tokenByHash(hash: string): Promise<{ role: Role; name: string } | undefined> {
    const rows = await this.db.all<Row>(
      'SELECT role, name FROM tokens WHERE hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    return rows[0] ? { role: rows[0].role as Role, name: String(rows[0].name) } : undefined;
  }

  /** Every token, oldest first, by its public id (the first 12 hex digits of its hash: the token cannot be recovered from it). */
  async listTokens(): Promise<TokenInfo[]> {
    const rows = await this.db.all<Row>(
      'SELECT hash, role, name, created_at, revoked_at FROM tokens ORDER BY created_at, hash',
    );
    return rows.map((r) => ({
      id: tokenId(String(r.hash)),
      role: r.role as Role,
      name: String(r.name),
      createdAt: String(r.created_at),
      revokedAt: s(r.revoked_at),
    }));
  }

  /** Revoke the token with this id: 'revoked', 'already' (revoked before) or 'unknown'. */
  async revokeToken(id: string): Promise<'revoked' | 'already' | 'unknown'> {
    if (!TOKEN_ID.test(id)) return 'unknown';
    return this.db.tx(async (t) => {
      const rows = await t.all<Row>('SELECT hash, revoked_at FROM tokens WHERE substr(hash, 1, 12) = $1', [
        id,
      ]);
      if (!rows.length) return 'unknown';
      if (rows.every((r) => r.revoked_at !== null && r.revoked_at !== undefined)) return 'already';
      await t.run('UPDATE tokens SET revoked_at = $1 WHERE substr(hash, 1, 12) = $2 AND revoked_at IS NULL', [
        new Date().toISOString(),
        id,
      ]);
      return 'revoked';
    });
  }

  // ---- runs ---------------------------------------------------------------------------------------------

  /**
   * Record a run and everything derived from it in one transaction; a run already stored is not repeated.
   * Runs posted while a transaction is open wait and are then written together, in one transaction (group
   * commit): under a hundred concurrent posts the commit, not the rows, was the embedded store's bottleneck.
   * When such a group fails, each of its runs is retried alone, so one bad run never takes others with it.
   */
  addRun(ing: Ingest, postedBy: string): Promise<{ id: string; created: boolean }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ing, postedBy, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private pending: PendingRun[] = [];
  private flushing = false;

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        let rows = 0;
        let take = 0;
        while (take < this.pending.length && take < GROUP_RUNS && (take === 0 || rows < GROUP_ROWS))
          rows += this.pending[take++].ing.rows.length;
        const group = this.pending.splice(0, take);
        try {
          const out = await this.db.tx(async (t) => {
            const results: Array<{ id: string; created: boolean }> = [];
            for (const p of group) results.push(await this.insertRun(t, p.ing, p.postedBy));
            return results;
          });
          for (const [i, p] of group.entries()) p.resolve(out[i]);
        } catch (err) {
          if (group.length === 1) group[0].reject(err);
          else
            for (const p of group)
              await this.db.tx((t) => this.insertRun(t, p.ing, p.postedBy)).then(p.resolve, p.reject);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async insertRun(t: Db, ing: Ingest, postedBy: string): Promise<{ id: string; created: boolean }> {
    const r = ing.run;
    const seen = await t.all('SELECT id FROM runs WHERE id = $1', [r.id]);
    if (seen.length) return { id: r.id, created: false };
    const now = new Date().toISOString();
    await t.run(
      `INSERT INTO runs (id, kind, created_at, received_at, tool_version, verdict, title, batch, model, inputs, summary, report, posted_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        r.id,
        r.kind,
        r.createdAt,
        now,
        r.toolVersion,
        r.verdict,
        r.title,
        r.batch,
        r.model,
        JSON.stringify(r.inputs),
        JSON.stringify(r.summary),
        JSON.stringify(r.report),
        postedBy,
      ],
    );
    await t.insertMany(
      'findings',
      [
        ['run_id', 'text'],
        ['idx', 'int'],
        ['rule', 'text'],
        ['severity', 'text'],
        ['message', 'text'],
        ['location', 'text'],
        ['evidence', 'text'],
      ],
      ing.findings.map((f) => [r.id, f.idx, f.rule, f.severity, f.message, f.location, f.evidence]),
    );
    await t.insertMany(
      'drift_windows',
      [
        ['run_id', 'text'],
        ['idx', 'int'],
        ['start_at', 'text'],
        ['end_at', 'text'],
        ['label_rates', 'text'],
        ['trusted_rates', 'text'],
        ['max_psi', 'double'],
        ['psi_feature', 'text'],
      ],
      ing.drift.map((w) => [
        r.id,
        w.idx,
        w.start,
        w.end,
        JSON.stringify(w.labelRates),
        JSON.stringify(w.trustedRates),
        w.maxPsi,
        w.psiFeature,
      ]),
    );
    const g = ing.gate;
    if (g) {
      const conflictFree = async (sql: string, params: SqlValue[]) => {
        await t.run(`${sql} ON CONFLICT DO NOTHING`, params);
      };
      await conflictFree('INSERT INTO models (name, created_at) VALUES ($1, $2)', [g.model, r.createdAt]);
      for (const v of [g.incumbent, g.candidate])
        await conflictFree(
          'INSERT INTO model_versions (digest, model, label, first_seen) VALUES ($1, $2, $3, $4)',
          [v.digest, g.model, v.label, r.createdAt],
        );
      await t.run(
        `INSERT INTO gate_decisions (run_id, model, incumbent, candidate, decision, created_at, psi, ks, region, reasons)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          r.id,
          g.model,
          g.incumbent.digest,
          g.candidate.digest,
          g.decision,
          r.createdAt,
          g.psi,
          g.ks,
          g.region,
          JSON.stringify(g.reasons),
        ],
      );
      await t.insertMany(
        'distributions',
        [
          ['run_id', 'text'],
          ['digest', 'text'],
          ['role', 'text'],
          ['scope', 'text'],
          ['slice', 'text'],
          ['rows_n', 'int'],
          ['counts', 'text'],
        ],
        g.distributions.map((d) => [
          r.id,
          d.digest,
          d.role,
          d.scope,
          d.slice,
          d.rows,
          JSON.stringify(d.counts),
        ]),
      );
    }
    if (ing.rows.length) {
      const { label, source, labeler } = ing.roles;
      const pick = (f: Record<string, string> | undefined, col?: string) =>
        col && f && col in f ? f[col] : null;
      // Rows per source and labeler, counted here once so that the data page never scans row_outcomes.
      const counts = new Map<string, [string, string, number, number]>();
      for (const o of ing.rows)
        for (const [role, col] of [
          ['source', source],
          ['labeler', labeler],
        ] as const) {
          const who = pick(o.fields, col);
          if (who === null) continue;
          const key = `${role}\0${who}`;
          let c = counts.get(key);
          if (!c) {
            c = [role, who, 0, 0];
            counts.set(key, c);
          }
          c[2]++;
          if (o.decision === 'quarantined') c[3]++;
        }
      await t.insertMany(
        'run_contributors',
        [
          ['run_id', 'text'],
          ['role', 'text'],
          ['who', 'text'],
          ['rows_n', 'int'],
          ['quarantined', 'int'],
        ],
        [...counts.values()].map(([role, who, n, q]) => [r.id, role, who, n, q]),
      );
      await t.insertMany(
        'row_outcomes',
        [
          ['run_id', 'text'],
          ['row_id', 'text'],
          ['decision', 'text'],
          ['score', 'double'],
          ['reasons', 'text'],
          ['review', 'text'],
          ['label', 'text'],
          ['source', 'text'],
          ['labeler', 'text'],
          ['fields', 'text'],
          ['neighbours', 'text'],
        ],
        {
          length: ing.rows.length,
          fill: (i: number, out: SqlValue[]) => {
            const o = ing.rows[i];
            out[0] = r.id;
            out[1] = o.id;
            out[2] = o.decision;
            out[3] = o.score ?? null;
            out[4] = o.reasons.length ? JSON.stringify(o.reasons) : '[]';
            out[5] = o.review ?? null;
            out[6] = pick(o.fields, label);
            out[7] = pick(o.fields, source);
            out[8] = pick(o.fields, labeler);
            out[9] = JSON.stringify(o.fields ?? {});
            out[10] = o.neighbours?.length ? JSON.stringify(o.neighbours) : null;
          },
        },
      );
    }
    return { id: r.id, created: true };
  }

  async listRuns(opts: { kind?: string; limit: number; offset: number }): Promise<{
    total: number;
    runs: RunSummary[];
  }> {
    const where = opts.kind ? 'WHERE kind = $1' : '';
    const params: SqlValue[] = opts.kind ? [opts.kind] : [];
    const total = await this.db.all<Row>(`SELECT COUNT(*) AS n FROM runs ${where}`, params);
    const rows = await this.db.all<Row>(
      `SELECT id, kind, created_at, received_at, verdict, title, batch, model, summary FROM runs ${where}
       ORDER BY created_at DESC, id LIMIT ${Math.trunc(opts.limit)} OFFSET ${Math.trunc(opts.offset)}`,
      params,
    );
    return { total: Number(total[0]?.n ?? 0), runs: rows.map(summaryOf) };
  }

  async getRun(id: string): Promise<RunDetail | undefined> {
    const rows = await this.db.all<Row>('SELECT * FROM runs WHERE id = $1', [id]);
    const r = rows[0];
    if (!r) return undefined;
    return {
      ...summaryOf(r),
      toolVersion: s(r.tool_version),
      inputs: json(r.inputs, []),
      report: json(r.report, {}),
      postedBy: s(r.posted_by),
    };
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of ['runs', 'findings', 'row_outcomes', 'reviews', 'model_versions', 'tokens']) {
      const r = await this.db.all<Row>(`SELECT COUNT(*) AS n FROM ${t}`);
      out[t] = Number(r[0]?.n ?? 0);
    }
    return out;
  }

  // ---- models -------------------------------------------------------------------------------------------

  async listModels(): Promise<Array<{ name: string; runs: number; versions: number; lastAt: string }>> {
    const rows = await this.db.all<Row>(
      `SELECT model AS name, COUNT(*) AS runs, COUNT(DISTINCT candidate) AS versions, MAX(created_at) AS last_at
       FROM gate_decisions GROUP BY model ORDER BY MAX(created_at) DESC`,
    );
    return rows.map((r) => ({
      name: String(r.name),
      runs: Number(r.runs),
      versions: Number(r.versions),
      lastAt: String(r.last_at),
    }));
  }

  async modelHistory(name: string) {
    const m = await this.db.all<Row>('SELECT name, baseline FROM models WHERE name = $1', [name]);
    if (!m.length) return undefined;
    const gates = await this.db.all<Row>(
      `SELECT g.run_id, g.incumbent, g.candidate, g.decision, g.created_at, g.psi, g.ks, g.region, g.reasons,
              vi.label AS incumbent_label, vc.label AS candidate_label
       FROM gate_decisions g
       LEFT JOIN model_versions vi ON vi.digest = g.incumbent
       LEFT JOIN model_versions vc ON vc.digest = g.candidate
       WHERE g.model = $1 ORDER BY g.created_at, g.run_id`,
      [name],
    );
    const dists = await this.db.all<Row>(
      `SELECT d.run_id, d.digest, d.role, d.scope, d.slice, d.rows_n, d.counts
       FROM distributions d JOIN gate_decisions g ON g.run_id = d.run_id WHERE g.model = $1`,
      [name],
    );
    return {
      name,
      baseline: s(m[0].baseline),
      gates: gates.map((g) => ({
        runId: String(g.run_id),
        createdAt: String(g.created_at),
        incumbent: String(g.incumbent),
        incumbentLabel: s(g.incumbent_label),
        candidate: String(g.candidate),
        candidateLabel: s(g.candidate_label),
        decision: String(g.decision),
        psi: g.psi === null ? null : Number(g.psi),
        ks: g.ks === null ? null : Number(g.ks),
        region: s(g.region),
        reasons: json<string[]>(g.reasons, []),
      })),
      distributions: dists.map((d) => ({
        runId: String(d.run_id),
        digest: String(d.digest),
        role: String(d.role),
        scope: String(d.scope),
        slice: String(d.slice),
        rows: Number(d.rows_n),
        counts: json<number[]>(d.counts, []),
      })),
    };
  }

  /** Pin the version every other is compared with on the models page. */
  async setBaseline(name: string, digest: string): Promise<boolean> {
    const v = await this.db.all('SELECT digest FROM model_versions WHERE digest = $1 AND model = $2', [
      digest,
      name,
    ]);
    if (!v.length) return false;
    await this.db.run('UPDATE models SET baseline = $1 WHERE name = $2', [digest, name]);
    return true;
  }

  /** Changes whenever a run or a review is recorded: the key of what the data page caches. */
  async version(): Promise<string> {
    const r = await this.db.all<Row>(
      'SELECT (SELECT COUNT(*) FROM runs) AS runs, (SELECT COUNT(*) FROM reviews) AS reviews',
    );
    return `${r[0]?.runs}:${r[0]?.reviews}`;
  }

  // ---- data ---------------------------------------------------------------------------------------------

  async dataOverview() {
    const batches = await this.db.all<Row>(
      `SELECT id, batch, created_at, summary FROM runs WHERE kind = 'audit' ORDER BY created_at, id LIMIT 2000`,
    );
    const reviewed = await this.db.all<Row>(
      `SELECT run_id, decision, COUNT(DISTINCT row_id) AS n FROM reviews GROUP BY run_id, decision`,
    );
    const rev = new Map<string, { confirm: number; clear: number }>();
    for (const r of reviewed) {
      const e = rev.get(String(r.run_id)) ?? { confirm: 0, clear: 0 };
      e[r.decision === 'confirm' ? 'confirm' : 'clear'] += Number(r.n);
      rev.set(String(r.run_id), e);
    }
    const group = async (role: 'source' | 'labeler') =>
      (
        await this.db.all<Row>(
          `SELECT g.who, r.batch AS batch, r.created_at AS created_at, g.rows_n, g.quarantined
           FROM run_contributors g JOIN runs r ON r.id = g.run_id
           WHERE g.role = $1 ORDER BY r.created_at, g.who LIMIT 20000`,
          [role],
        )
      ).map((r) => ({
        who: String(r.who),
        batch: s(r.batch),
        createdAt: String(r.created_at),
        rows: Number(r.rows_n),
        quarantined: Number(r.quarantined),
      }));
    const triggerRows = await this.db.all<Row>(
      `SELECT f.run_id, f.evidence, f.message, r.batch, r.created_at FROM findings f JOIN runs r ON r.id = f.run_id
       WHERE f.rule = 'audit/trigger' ORDER BY r.created_at LIMIT 5000`,
    );
    const triggers = new Map<string, { pattern: string; batches: string[]; rows: number }>();
    for (const t of triggerRows) {
      const ev = json<Record<string, unknown>>(t.evidence, {});
      const pattern = String(ev.pattern ?? '?');
      const e = triggers.get(pattern) ?? { pattern, batches: [], rows: 0 };
      e.batches.push(String(t.batch ?? t.run_id));
      e.rows += Number(ev.incomingRows ?? 0);
      triggers.set(pattern, e);
    }
    const drift = await this.db.all<Row>(
      `SELECT f.run_id, f.message, f.evidence, f.severity, r.batch, r.created_at FROM findings f JOIN runs r ON r.id = f.run_id
       WHERE f.rule = 'audit/drift' ORDER BY r.created_at LIMIT 2000`,
    );
    const windows = await this.db.all<Row>(
      `SELECT w.run_id, r.batch, w.idx, w.start_at, w.end_at, w.label_rates, w.trusted_rates, w.max_psi, w.psi_feature
       FROM drift_windows w JOIN runs r ON r.id = w.run_id
       ORDER BY r.created_at, w.run_id, w.idx LIMIT 5000`,
    );
    return {
      driftWindows: windows.map((w) => ({
        runId: String(w.run_id),
        batch: s(w.batch),
        window: Number(w.idx),
        start: s(w.start_at),
        end: s(w.end_at),
        labelRates: json<Record<string, number | null>>(w.label_rates, {}),
        trustedRates: json<Record<string, number | null>>(w.trusted_rates, {}),
        maxPsi: w.max_psi === null ? null : Number(w.max_psi),
        psiFeature: s(w.psi_feature),
      })),
      batches: batches.map((b) => {
        const sum = json<Record<string, unknown>>(b.summary, {});
        const e = rev.get(String(b.id)) ?? { confirm: 0, clear: 0 };
        return {
          runId: String(b.id),
          batch: s(b.batch),
          createdAt: String(b.created_at),
          incoming: Number(sum.incoming ?? 0),
          quarantined: Number(sum.quarantined ?? 0),
          review: Number(sum.review ?? 0),
          confirmed: e.confirm,
          cleared: e.clear,
        };
      }),
      sources: await group('source'),
      labelers: await group('labeler'),
      triggers: [...triggers.values()].sort((a, b) => b.batches.length - a.batches.length || b.rows - a.rows),
      drift: drift.map((d) => ({
        runId: String(d.run_id),
        batch: s(d.batch),
        createdAt: String(d.created_at),
        severity: String(d.severity),
        message: String(d.message),
        evidence: json<Record<string, unknown>>(d.evidence, {}),
      })),
    };
  }

  // ---- review -------------------------------------------------------------------------------------------

  async reviewQueue(runId: string): Promise<QueueRow[]> {
    const rows = await this.db.all<Row>(
      `SELECT row_id, decision, score, reasons, review, label, source, labeler, fields, neighbours FROM row_outcomes
       WHERE run_id = $1 AND review IS NOT NULL`,
      [runId],
    );
    const latest = await this.latestReviews(runId);
    const order = (r: Row) => (r.review === 'priority' ? 0 : 1);
    rows.sort(
      (a, b) =>
        order(a) - order(b) ||
        Number(b.score) - Number(a.score) ||
        String(a.row_id).localeCompare(String(b.row_id)),
    );
    return rows.map((r) => ({
      rowId: String(r.row_id),
      decision: String(r.decision),
      score: r.score === null ? null : Number(r.score),
      reasons: json<string[]>(r.reasons, []),
      review: String(r.review),
      label: s(r.label),
      source: s(r.source),
      labeler: s(r.labeler),
      fields: json<Record<string, string>>(r.fields, {}),
      neighbours: json<Neighbour[]>(r.neighbours, []),
      verdict: latest.get(String(r.row_id)) ?? null,
    }));
  }

  private async latestReviews(runId: string) {
    const rows = await this.db.all<Row>(
      'SELECT row_id, decision, corrected_label, note, reviewer, created_at, id FROM reviews WHERE run_id = $1 ORDER BY created_at, id',
      [runId],
    );
    const out = new Map<string, NonNullable<QueueRow['verdict']>>();
    for (const r of rows)
      out.set(String(r.row_id), {
        decision: String(r.decision),
        correctedLabel: s(r.corrected_label),
        note: s(r.note),
        reviewer: String(r.reviewer),
        at: String(r.created_at),
      });
    return out;
  }

  /** Record a decision on a row of the run's review sample; false when the row is not in that sample. */
  async addReview(rec: ReviewRecord): Promise<{ id: string; at: string } | undefined> {
    return this.db.tx(async (t) => {
      const row = await t.all(
        'SELECT row_id FROM row_outcomes WHERE run_id = $1 AND row_id = $2 AND review IS NOT NULL',
        [rec.runId, rec.rowId],
      );
      if (!row.length) return undefined;
      const id = randomUUID();
      const at = new Date().toISOString();
      await t.run(
        `INSERT INTO reviews (id, run_id, row_id, decision, corrected_label, note, reviewer, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          id,
          rec.runId,
          rec.rowId,
          rec.decision,
          rec.correctedLabel ?? null,
          rec.note ?? null,
          rec.reviewer,
          at,
        ],
      );
      return { id, at };
    });
  }

  /**
   * The quarantine's precision estimated from reviews: the share of reviewed quarantined rows confirmed as
   * poison, stratified by sample (priority rows are the highest scores, control rows a random draw from the
   * rest) and weighted by how many quarantined rows each stratum stands for. The control sample's accepted
   * rows give the rate of poison that got through.
   */
  async precision(runId: string, known: { queue?: QueueRow[]; summary?: Record<string, unknown> } = {}) {
    const queue = known.queue ?? (await this.reviewQueue(runId));
    const run = known.summary ? { summary: known.summary } : await this.getRun(runId);
    const quarantined = Number((run?.summary as Record<string, unknown> | undefined)?.quarantined ?? 0);
    const strata = { priority: { k: 0, n: 0, size: 0 }, control: { k: 0, n: 0, size: 0 } };
    let missK = 0;
    let missN = 0;
    for (const r of queue) {
      const st = strata[r.review === 'priority' ? 'priority' : 'control'];
      if (r.decision === 'quarantined') {
        st.size++;
        if (r.verdict) {
          st.n++;
          if (r.verdict.decision === 'confirm') st.k++;
        }
      } else if (r.review === 'control' && r.verdict) {
        missN++;
        if (r.verdict.decision === 'confirm') missK++;
      }
    }
    // Quarantined rows outside the priority sample are represented by the control stratum.
    const priorityWeight = quarantined ? Math.min(1, strata.priority.size / quarantined) : 1;
    const pe = strata.priority.n ? strata.priority.k / strata.priority.n : null;
    const ce = strata.control.n ? strata.control.k / strata.control.n : null;
    let estimate: number | null = null;
    if (pe !== null && ce !== null) estimate = priorityWeight * pe + (1 - priorityWeight) * ce;
    else estimate = pe ?? ce;
    const reviewedQ = strata.priority.n + strata.control.n;
    const confirmedQ = strata.priority.k + strata.control.k;
    return {
      quarantined,
      reviewed: queue.filter((r) => r.verdict).length,
      queue: queue.length,
      strata,
      precision: estimate,
      interval: wilson(confirmedQ, reviewedQ),
      missedInAccepted: wilson(missK, missN),
    };
  }

  /**
   * Rows for the trusted set: cleared rows as they were, confirmed rows with their corrected label. Rows
   * confirmed as poison without a correction are left out (they belong in no training set).
   */
  async exportTrusted(
    runId?: string,
  ): Promise<{ rows: Array<Record<string, string>>; label: string | null }[]> {
    const runs = runId
      ? [{ id: runId }]
      : await this.db.all<Row>(`SELECT DISTINCT run_id AS id FROM reviews ORDER BY run_id`);
    const out: { rows: Array<Record<string, string>>; label: string | null }[] = [];
    for (const r of runs) {
      const run = await this.getRun(String(r.id));
      if (!run) continue;
      const label = (run.report.roles as Record<string, unknown> | undefined)?.label;
      const labelCol = typeof label === 'string' ? label : null;
      const rows: Array<Record<string, string>> = [];
      for (const q of await this.reviewQueue(run.id)) {
        if (!q.verdict) continue;
        if (q.verdict.decision === 'clear') rows.push({ ...q.fields });
        else if (q.verdict.correctedLabel && labelCol)
          rows.push({ ...q.fields, [labelCol]: q.verdict.correctedLabel });
      }
      out.push({ rows, label: labelCol });
    }
    return out;
  }
}
