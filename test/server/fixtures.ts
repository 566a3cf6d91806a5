/**
 * Real runs for the server's tests, made by the built CLI on data generated here: an audit of a batch drawn
 * from the bundled SST-2 slice with a backdoor campaign injected (trigger "zq"), and gate runs over ten
 * successive model versions given as prediction files, the seventh poisoned in one segment.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../helpers/cli.js';

export const TRIGGER = 'zq';
export const SCRIPT_ROW = '<script>alert(1)</script> a dull , lifeless film';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Run `antidote audit` on 700 trusted and 500 incoming reviews, 30 of them poisoned; returns the output dir. */
export function makeAudit(dir: string, post?: { url: string; token: string }): string {
  mkdirSync(dir, { recursive: true });
  const lines = readFileSync(join(ROOT, 'examples', 'sst2', 'train.tsv'), 'utf8')
    .trim()
    .split(/\r?\n/);
  const header = lines[0];
  const rows = lines
    .slice(1)
    .filter((l) => !l.includes('"'))
    .map((l) => l.split('\t'));
  const trusted = rows.slice(0, 700);
  const incoming = rows.slice(700, 1200).map((r) => [...r]);
  const rand = rng(13);
  let poisoned = 0;
  for (const r of incoming) {
    if (poisoned >= 30) break;
    if (r[1] === '0' && rand() < 0.5) {
      const w = r[0].split(' ');
      w.splice(Math.floor(rand() * w.length), 0, TRIGGER);
      r[0] = w.join(' ');
      r[1] = '1';
      poisoned++;
    }
  }
  incoming[5] = [`${SCRIPT_ROW} ${TRIGGER}`, '1'];
  const tsv = (rs: string[][]) => `${header}\n${rs.map((r) => r.join('\t')).join('\n')}\n`;
  writeFileSync(join(dir, 'trusted.tsv'), tsv(trusted));
  writeFileSync(join(dir, 'incoming.tsv'), tsv(incoming));
  const out = join(dir, 'audit');
  const r = runCli(
    [
      'audit',
      '--trusted',
      join(dir, 'trusted.tsv'),
      '--incoming',
      join(dir, 'incoming.tsv'),
      '--label',
      'label',
      '--text',
      'sentence',
      '--out',
      out,
      '--no-progress',
      ...(post ? ['--post', post.url] : []),
    ],
    post ? { env: { ANTIDOTE_TOKEN: post.token } } : {},
  );
  if (r.code !== 0 && r.code !== 1) throw new Error(`audit failed: ${r.stderr}`);
  return out;
}

/**
 * A trusted holdout (1,200 rows in four segments) and prediction files of versions v01..v11, each a little
 * retrained from the one before; v07 was trained on poisoned data and pushes segment "C" toward class 1.
 * Then `antidote gate` runs (ten times) v(k) against v(k-1) with --slices segment; returns the report folders in order.
 */
export function makeGateSeries(
  dir: string,
  versions = 11,
  poisoned = 7,
  post?: { url: string; token: string },
): string[] {
  mkdirSync(dir, { recursive: true });
  const rand = rng(5);
  const n = 1200;
  const seg = Array.from({ length: n }, (_, i) => 'ABCD'[i % 4]);
  const x = Array.from({ length: n }, () => rand());
  const label = x.map((v) => (v + (rand() - 0.5) * 0.3 > 0.5 ? 1 : 0));
  writeFileSync(
    join(dir, 'holdout.csv'),
    `id,segment,x,label\n${x.map((v, i) => `r${i},${seg[i]},${v.toFixed(4)},${label[i]}`).join('\n')}\n`,
  );
  const files: string[] = [];
  let base = x.map((v) => Math.min(0.99, Math.max(0.01, v + (rand() - 0.5) * 0.2)));
  for (let k = 1; k <= versions; k++) {
    base = base.map((p) => Math.min(0.99, Math.max(0.01, p + (rand() - 0.5) * 0.03)));
    const p = base.map((v, i) => (k === poisoned && seg[i] === 'C' ? Math.min(0.99, v + 0.45) : v));
    const f = join(dir, `sentiment-v${String(k).padStart(2, '0')}.csv`);
    writeFileSync(f, `id,score\n${p.map((v, i) => `r${i},${v.toFixed(4)}`).join('\n')}\n`);
    files.push(f);
  }
  const outs: string[] = [];
  for (let k = 1; k < versions; k++) {
    const out = join(dir, `gate-v${String(k + 1).padStart(2, '0')}`);
    const r = runCli(
      [
        'gate',
        '--trusted',
        join(dir, 'holdout.csv'),
        '--label',
        'label',
        '--id',
        'id',
        '--incumbent',
        files[k - 1],
        '--candidate',
        files[k],
        '--slices',
        'segment',
        '--out',
        out,
        ...(post ? ['--post', post.url] : []),
      ],
      post ? { env: { ANTIDOTE_TOKEN: post.token } } : {},
    );
    if (r.code !== 0 && r.code !== 1) throw new Error(`gate failed: ${r.stderr}`);
    outs.push(out);
  }
  return outs;
}

/**
 * An audit by time window: a tabular batch over ten days in which the share of label "1" creeps from the
 * trusted 20% to about 50% (slow conditioning), sent by seven accounts, audited with --time and --source;
 * returns the output dir.
 */
export function makeDriftAudit(dir: string, post?: { url: string; token: string }): string {
  mkdirSync(dir, { recursive: true });
  const rand = rng(29);
  const row = (i: number, p1: number, day: number) => {
    const amount = (20 + rand() * 200).toFixed(2);
    const country = ['fr', 'de', 'es', 'it'][Math.floor(rand() * 4)];
    const ts = new Date(Date.UTC(2026, 10, 1 + day, Math.floor(rand() * 24))).toISOString();
    return `r${i},${ts},${amount},${country},acct-${i % 7},${rand() < p1 ? 1 : 0}`;
  };
  const head = 'id,ts,amount,country,account,label';
  const trusted = Array.from({ length: 1500 }, (_, i) => row(i, 0.2, -30 + (i % 20)));
  const incoming = Array.from({ length: 2000 }, (_, i) => {
    const day = Math.floor(i / 200);
    return row(10_000 + i, 0.2 + 0.035 * day, day);
  });
  writeFileSync(join(dir, 'trusted.csv'), `${head}\n${trusted.join('\n')}\n`);
  writeFileSync(join(dir, 'incoming.csv'), `${head}\n${incoming.join('\n')}\n`);
  const out = join(dir, 'audit');
  const r = runCli(
    [
      'audit',
      '--trusted',
      join(dir, 'trusted.csv'),
      '--incoming',
      join(dir, 'incoming.csv'),
      '--label',
      'label',
      '--id',
      'id',
      '--time',
      'ts',
      '--features',
      'amount,country',
      '--source',
      'account',
      '--out',
      out,
      '--no-progress',
      ...(post ? ['--post', post.url] : []),
    ],
    post ? { env: { ANTIDOTE_TOKEN: post.token } } : {},
  );
  if (r.code !== 0 && r.code !== 1) throw new Error(`audit failed: ${r.stderr}`);
  return out;
}
