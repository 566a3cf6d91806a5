/**
 * The dashboard in a real browser (playwright-core driving Debian's chromium): a reviewer signs in with a
 * token and works through ten rows of a real audit's review queue with the keyboard; the decisions are in
 * the store and in `antidote serve export-trusted`. The models page of ten real gate runs over successive
 * versions shows the poisoned version's shift in the region its gate named. Screenshots go to a temporary folder,
 * or to docs/screenshots with ANTIDOTE_SCREENSHOTS=1 (so a test run never changes the repository).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeAudit, makeDriftAudit, makeGateSeries, TRIGGER } from './fixtures.js';
import { CHROMIUM, HAVE_CHROMIUM, serviceNote } from './services.js';

const enabled = serviceNote('chromium (/usr/bin/chromium)', HAVE_CHROMIUM);
// Made only when the suite runs: a skipped file runs no hook that would remove them.
const SHOTS = process.env.ANTIDOTE_SCREENSHOTS
  ? join(ROOT, 'docs', 'screenshots')
  : enabled
    ? tempDir('antidote-screenshots-')
    : '';

describe.skipIf(!enabled)('dashboard in chromium', () => {
  const work = enabled ? tempDir('antidote-ui-') : '';
  const data = join(work, 'data');
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let page: Page;
  let reviewer = '';
  let admin = '';

  function stopServer(): Promise<void> {
    return new Promise((resolve) => {
      if (!server || server.exitCode !== null) return resolve();
      server.once('exit', () => resolve());
      server.kill('SIGTERM');
    });
  }

  beforeAll(async () => {
    reviewer = runCli([
      'serve',
      'token',
      'create',
      '--role',
      'reviewer',
      '--name',
      'alice',
      '--data',
      data,
    ]).stdout.trim();
    admin = runCli([
      'serve',
      'token',
      'create',
      '--role',
      'admin',
      '--name',
      'pipeline',
      '--data',
      data,
    ]).stdout.trim();
    expect(reviewer).toMatch(/^adt_/);
    server = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', data, '--quiet-log'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
    // Real runs, posted by the commands themselves.
    makeAudit(join(work, 'audit'), { url, token: admin });
    makeGateSeries(join(work, 'gate'), 11, 7, { url, token: admin });
    makeDriftAudit(join(work, 'drift'), { url, token: admin });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    mkdirSync(SHOTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stopServer();
  });

  const api = async (path: string) =>
    (await (
      await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${reviewer}` } })
    ).json()) as Record<
      string,
      // biome-ignore lint/suspicious/noExplicitAny: API responses, read field by field
      any
    >;

  it('a reviewer signs in and works through ten rows with the keyboard', async () => {
    await page.goto(url);
    await page.getByTestId('token').fill(reviewer);
    await page.getByTestId('signin').click();
    await page.waitForSelector('text=Runs (');
    await page.screenshot({ path: join(SHOTS, 'runs.png'), fullPage: false });
    const { runs } = await api('/api/runs?kind=audit');
    expect(runs).toHaveLength(2);
    const runId = runs.find((r: { batch: string }) => r.batch === 'incoming.tsv').id as string;
    await page.goto(`${url}/#/review/${runId}`);
    await page.waitForSelector('[data-testid=review-card] [data-testid=row-text]');
    const expected = new Map<string, { decision: string; corrected?: string }>();
    const contradicted: number[] = [];
    for (let k = 0; k < 10; k++) {
      const head = (await page.locator('[data-testid=review-card] .muted').first().textContent()) ?? '';
      const rowId = /id (\S+)/.exec(head)?.[1] as string;
      const text = (await page.getByTestId('row-text').textContent()) ?? '';
      const hasTrigger = new RegExp(`\\b${TRIGGER}\\b`).test(text);
      if (hasTrigger)
        expect(await page.locator('[data-testid=row-text] mark').first().textContent()).toBe(TRIGGER);
      // The evidence: the five nearest trusted rows, those with another label than the row's marked.
      const nb = page.locator('[data-testid=review-card] [data-testid=neighbours]');
      expect(await nb.locator('tr').count()).toBe(6);
      const heading = (await nb.locator('h2').textContent()) ?? '';
      const against = Number(/: (\d) of 5 carry another label/.exec(heading)?.[1]);
      expect(await nb.locator('tr.contradicts').count()).toBe(against);
      if (hasTrigger) contradicted.push(against);
      // Rows with the trigger are confirmed (the third with its label flipped), except every fourth row, which
      // this reviewer clears; rows without it are cleared.
      const key = !hasTrigger || k % 4 === 3 ? 'c' : k === 2 ? 'f' : 'p';
      await page.keyboard.press(key);
      // Runs in the page (a string predicate would need eval, which the dashboard's CSP forbids).
      await page.waitForFunction(
        (id: string) =>
          (
            globalThis as unknown as {
              document: { querySelector(s: string): { textContent: string | null } | null };
            }
          ).document
            .querySelector('[data-testid=status]')
            ?.textContent?.includes(`row ${id} `),
        rowId,
      );
      expected.set(rowId, {
        decision: key === 'c' ? 'clear' : 'confirm',
        corrected: key === 'f' ? 'flip' : undefined,
      });
    }
    expect(expected.size).toBe(10);
    // Planted rows (negative reviews relabelled positive, with the trigger) sit among trusted negatives: most of
    // their neighbours carry another label (all 29 planted rows: 63%, against 38% for the queue's other rows;
    // the first ten's share moves with the queue's order).
    expect(contradicted.length).toBeGreaterThanOrEqual(5);
    expect(contradicted.reduce((a, b) => a + b, 0) / (5 * contradicted.length)).toBeGreaterThan(0.5);
    await page.keyboard.press('k');
    await page.waitForSelector('[data-testid=verdict] .pill');
    expect(await page.getByTestId('verdict').textContent()).toMatch(/by alice at/);
    expect(await page.getByTestId('precision-value').textContent()).toMatch(/%/);
    await page.screenshot({ path: join(SHOTS, 'review.png'), fullPage: true });

    // The row whose text holds <script> shows it as text: no element made, no script run.
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    let found = false;
    for (let k = 0; k < 120 && !found; k++) {
      found = ((await page.getByTestId('row-text').textContent()) ?? '').includes(
        '<script>alert(1)</script>',
      );
      if (!found) await page.keyboard.press('j');
    }
    expect(found).toBe(true);
    expect(await page.locator('[data-testid=review-card] script').count()).toBe(0);
    expect(dialogs).toBe(0);

    // In the store: ten decisions by alice, as made.
    const q = await api(`/api/runs/${runId}/queue`);
    const decided = q.rows.filter((r: { verdict: unknown }) => r.verdict);
    expect(decided).toHaveLength(10);
    for (const r of decided) {
      expect(r.verdict.reviewer).toBe('alice');
      expect(r.verdict.decision).toBe(expected.get(r.rowId)?.decision);
    }
    const cleared = decided.filter((r: { verdict: { decision: string } }) => r.verdict.decision === 'clear');
    const corrected = decided.filter(
      (r: { verdict: { correctedLabel: string | null } }) => r.verdict.correctedLabel,
    );
    expect(corrected).toHaveLength(1);
    expect(cleared.length).toBeGreaterThanOrEqual(2);

    // The data page: rates, recurring triggers, and drift by window against the trusted baseline.
    await page.goto(`${url}/#/data`);
    await page.waitForSelector('text=Recurring triggers');
    expect(await page.locator('main table', { hasText: 'trigger' }).first().textContent()).toContain(TRIGGER);
    await page.waitForSelector('[data-testid=chart-drift-labels] svg');
    const windows = page.locator('[data-testid=drift-windows] tr');
    expect(await windows.count()).toBe(9);
    // The label share creeps from the trusted 20% to about 50%: the late windows are shaded, the first is not.
    expect(await windows.nth(1).getAttribute('class')).toBe('');
    expect(await windows.nth(8).getAttribute('class')).toBe('flag');
    expect(await windows.nth(8).textContent()).toMatch(/1: \d+\.\d% \(19\.9%\)/);
    expect(await page.getByTestId('chart-drift-labels').textContent()).toContain('trusted share');
    await page.screenshot({ path: join(SHOTS, 'data.png'), fullPage: true });
    await page.goto(`${url}/#/run/${runId}`);
    await page.waitForSelector('[data-testid=report-frame]');
    const frame = page.frameLocator('[data-testid=report-frame]');
    await frame.locator('h1').first().waitFor();
    expect(await frame.locator('body').textContent()).toContain('incoming rows');
    await page.screenshot({ path: join(SHOTS, 'run-report.png'), fullPage: false });

    // export-trusted (the server stopped: the embedded store has one writer).
    await stopServer();
    const out = join(work, 'additions.jsonl');
    const ex = runCli(['serve', 'export-trusted', '--data', data, '--out', out, '--run', runId]);
    expect(ex.code, ex.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(cleared.length + corrected.length);
    for (const r of cleared) expect(lines).toContainEqual(r.fields);
    for (const r of corrected) expect(lines).toContainEqual({ ...r.fields, label: r.verdict.correctedLabel });
    server = spawn(
      process.execPath,
      [CLI, 'serve', '--port', new URL(url).port, '--data', data, '--quiet-log'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
  }, 180_000);

  it("shows a neighbour's text as text, never as markup", async () => {
    const payload = {
      kind: 'audit',
      batch: 'hostile-neighbour',
      report: JSON.parse(readFileSync(join(work, 'audit', 'audit', 'report.json'), 'utf8')),
      rows: [
        {
          id: 'x1',
          decision: 'quarantined',
          score: 0.9,
          reasons: ['planted'],
          review: 'priority',
          fields: { sentence: 'a row', label: '1' },
          neighbours: [
            { id: 't1', label: '0', text: '<img src=x onerror="alert(3)"><b>bold</b>', distance: 0.1 },
          ],
        },
      ],
    };
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await page.goto(`${url}/#/review/${id}`);
    await page.waitForSelector('[data-testid=neighbours] tr.contradicts');
    const cell = page.locator('[data-testid=neighbours] tr.contradicts td').nth(1);
    expect(await cell.textContent()).toBe('<img src=x onerror="alert(3)"><b>bold</b>');
    expect(await page.locator('[data-testid=neighbours] img, [data-testid=neighbours] b').count()).toBe(0);
    expect(dialogs).toBe(0);
  }, 60_000);

  it('the models page shows the poisoned version shifting in its region', async () => {
    await page.goto(`${url}/#/models`);
    await page.waitForSelector('[data-testid=chart-ridges] svg');
    const rows = page.locator('main table tr');
    expect(await rows.count()).toBe(11);
    const poisoned = page.locator('main table tr', { hasText: 'sentiment-v07.csv' });
    expect(await poisoned.getAttribute('class')).toBe('flag');
    const cells = (await poisoned.locator('td').allTextContents()).map((c) => c.trim());
    expect(cells[2]).toBe('block');
    expect(cells[5]).toBe('segment = C');
    expect(Number(cells[6])).toBeGreaterThan(0.1);
    expect(cells[7]).toMatch(/^\+/);
    // Against the baseline, v07 moved most of all versions.
    const m = await api('/api/models/sentiment');
    const vs = m.lineage.versions as Array<{ label: string; vsBaseline: { overall: number } }>;
    const top = vs.reduce((a, b) => (b.vsBaseline.overall > a.vsBaseline.overall ? b : a));
    expect(top.label).toBe('sentiment-v07.csv');
    expect(await page.getByTestId('chart-regions').textContent()).toContain('sentiment-v07.csv: segment = C');
    await page.screenshot({ path: join(SHOTS, 'models.png'), fullPage: true });
  }, 120_000);
});
