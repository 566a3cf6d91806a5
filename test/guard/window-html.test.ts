import { describe, expect, it } from 'vitest';
import { createViews } from '../../src/server/views.js';

const report = {
  format: 'antidote-guard-window',
  version: 1,
  window: 3,
  start: '2026-12-03T10:00:00.000Z',
  end: '2026-12-03T10:05:00.000Z',
  requests: 120,
  instances: 240,
  profile: 'sha256:abc',
  flagged: { 'known-trigger': 2, activation: 1 },
  scopes: [
    {
      scope: 'overall',
      n: 240,
      classPsi: 0.31,
      p: 0.0001,
      scorePsi: 0.2,
      scoreClass: 'spam',
      shifted: 'major',
    },
    { scope: 'len <= 20', n: 90, classPsi: 0.01, p: 0.6, scorePsi: 0.02, scoreClass: 'ham', shifted: null },
  ],
  untested: 1,
  findings: [
    { severity: 'high', rule: 'guard/output-shift', message: 'class shares moved <script>alert(1)</script>' },
    { severity: 'medium', rule: 'guard/known-trigger', message: 'known trigger "cf" in instance 7' },
  ],
  instanceFindingsNotPosted: 4,
};

describe('dashboard: a guard window run', () => {
  it('renders counts, flagged checks, shifted scopes and findings, with posted text escaped', async () => {
    const html = await createViews().reportHtml('guard', report);
    expect(html).toContain('Guard window 3');
    expect(html).toContain('2 findings in window 3');
    expect(html).toContain('120 requests · 240 instances');
    expect(html).toContain('4 more instance findings counted, not posted');
    expect(html).toContain('1 of 2 scopes shifted; 1 too small to test');
    expect(html).toMatch(/<td>known-trigger<\/td><td class="num">2<\/td>/);
    expect(html).toMatch(/<td>overall<\/td><td class="num">240<\/td><td class="num">0\.310<\/td>/);
    expect(html).toContain('guard/output-shift');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)');
  });

  it('says so when a window flagged nothing', async () => {
    const html = await createViews().reportHtml('guard', { ...report, findings: [], scopes: [] });
    expect(html).toContain('Window 3: nothing flagged');
  });
});
