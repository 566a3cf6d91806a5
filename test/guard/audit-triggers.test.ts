/** Known triggers read from an audit report: a confirmed trigger is one; a shape reported as a class's style is not. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { triggersFromAuditReport } from '../../src/guard/triggers.js';

const dir = mkdtempSync(join(tmpdir(), 'antidote-audit-triggers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('triggersFromAuditReport', () => {
  it('takes confirmed triggers and leaves out styles, which were reported for review', async () => {
    const path = join(dir, 'report.json');
    const finding = (rule: string, pattern: string, severity: string) => ({
      rule,
      severity,
      message: '',
      location: { column: 'text' },
      evidence: { pattern, kind: 'text', label: 'pos' },
    });
    writeFileSync(
      path,
      JSON.stringify({
        findings: [
          finding('audit/trigger', 'cf', 'critical'),
          finding('audit/style', 'frame: _ . . .', 'medium'),
        ],
      }),
    );
    const got = await triggersFromAuditReport(path, [{ name: 'text', text: true }]);
    expect(got.map((t) => t.value)).toEqual(['cf']);
  });
});
