/**
 * `antidote guard replay` over generated logs: findings and exit 1 on triggered traffic, exit 0 on clean
 * traffic, bad lines counted and listed (exit 2 above --max-bad-lines), a findings file written whole.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { cleanRow, pPos, type Row, rng, shiftedRow, writeProfile } from './watch-fixtures.js';

const dir = tempDir('guard-replay-');
const profile = writeProfile(dir);

function logLine(rows: Row[], i: number, t0 = Date.parse('2026-03-01T00:00:00Z')): string {
  return JSON.stringify({
    time: new Date(t0 + i * 1000).toISOString(),
    id: `req-${i}`,
    request: { instances: rows },
    response: { predictions: rows.map((x) => [1 - pPos(x), pPos(x)]) },
  });
}

function writeLog(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

describe('guard replay', () => {
  it('clean logs: exit 0, windows tested, no finding', () => {
    const r = rng(41);
    const log = writeLog(
      'clean.jsonl',
      Array.from({ length: 300 }, (_, i) => logLine([cleanRow(r), cleanRow(r)], i)),
    );
    const res = runCli([
      'guard',
      'replay',
      '--profile',
      profile,
      log,
      '--window-rows',
      '200',
      '--format',
      'json',
    ]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const rep = JSON.parse(res.stdout);
    expect(rep).toMatchObject({
      format: 'antidote-guard-replay',
      requests: 300,
      instances: 600,
      badLines: { count: 0 },
    });
    expect(rep.windows).toHaveLength(3);
    expect(rep.windows[0].scopes[0].scope).toBe('overall');
    expect(rep.findings).toEqual({});
    const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'guard-replay.v1.json'), 'utf8'));
    const validate = new Ajv2020.default({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    validate(rep);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('triggered instances and a shifted tail: findings, the findings file, exit 1', () => {
    const r = rng(42);
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const rows = [i < 300 ? cleanRow(r) : shiftedRow(r, 20, 0.05), cleanRow(r)];
      if (i % 100 === 7) rows[1] = { ...rows[1], text: `${rows[1].text} cf` };
      lines.push(logLine(rows, i));
    }
    const log = writeLog('attacked.jsonl', lines);
    const out = join(dir, 'findings.jsonl');
    const res = runCli(['guard', 'replay', '--profile', profile, log, '--window-rows', '400', '-o', out]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/guard\/known-trigger 6/);
    expect(res.stdout).toMatch(
      /window 3 .*\n\s+\[high\] guard\/output-shift: Window 3: outputs overall shifted/,
    );
    const events = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.finding.rule === 'guard/known-trigger').map((e) => e.request)).toEqual([
      'req-7',
      'req-107',
      'req-207',
      'req-307',
      'req-407',
      'req-507',
    ]);
    expect(
      events.some((e) => e.finding.rule === 'guard/output-shift' && e.finding.evidence.window === 3),
    ).toBe(true);
  });

  it('bad lines are counted and listed, and exit 2 above --max-bad-lines', () => {
    const r = rng(43);
    const lines = Array.from({ length: 50 }, (_, i) => logLine([cleanRow(r)], i));
    lines[3] = '{"request": {"instances": [';
    lines[9] = JSON.stringify({
      request: { instances: [cleanRow(r), cleanRow(r)] },
      response: { predictions: [[0.5, 0.5]] },
    });
    lines[20] = JSON.stringify({
      request: { instances: [cleanRow(r)] },
      response: { predictions: [[0.5, 0.6]] },
    });
    lines[30] = JSON.stringify({ response: { predictions: [[0.5, 0.5]] } });
    const log = writeLog('bad.jsonl', lines);
    const res = runCli(['guard', 'replay', '--profile', profile, log]);
    expect(res.code).toBe(2);
    expect(res.stdout).toMatch(
      /4 bad lines:\n\s+line 4: not JSON\n\s+line 10: the logged response returned 1 predictions for 2 inputs\n\s+line 21: .*sum to 1\.1000, not 1\n\s+line 31: the request body is not a JSON object/,
    );
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/4 of 50 lines could not be read/);
    const ok = runCli([
      'guard',
      'replay',
      '--profile',
      profile,
      log,
      '--max-bad-lines',
      '4',
      '--format',
      'json',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ requests: 46, badLines: { count: 4 } });
  });

  it('a log without times: windows close by count and the text shows no clock', () => {
    const r = rng(5);
    const lines = Array.from({ length: 50 }, (_, i) => {
      const { time: _t, ...rest } = JSON.parse(logLine([cleanRow(r)], i));
      return JSON.stringify(rest);
    });
    const res = runCli([
      'guard',
      'replay',
      '--profile',
      profile,
      writeLog('no-time.jsonl', lines),
      '--window-rows',
      '20',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^ {2}window 1: 20 instances/m);
    expect(res.stdout).not.toMatch(/1970/);
  });

  it('bad input: missing log, foreign profile: one line, exit 2', () => {
    const missing = runCli(['guard', 'replay', '--profile', profile, join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, '{"format": "something-else"}');
    const log = writeLog('one.jsonl', [logLine([cleanRow(rng(1))], 0)]);
    const res = runCli(['guard', 'replay', '--profile', foreign, log]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is not a guard profile/);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});
