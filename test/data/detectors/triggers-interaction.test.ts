/**
 * A small trusted set's sampling accident must not read as a planted conjunction: the batch carries the
 * region's label as often as the rest of the larger region around it does, and only the trusted rows (and the
 * model fitted on them) missed it. A planted conjunction beside it is still found.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../../src/data/audit.js';
import { detector as triggers } from '../../../src/data/detectors/triggers.js';
import { rng, tmpDir, writeCsv } from '../helpers.js';

/** Weather-like rows: dry days are mostly sunny at every temperature, wet days rainy (`where`: a station and a month too). */
function weather(
  n: number,
  seed: number,
  opts: { accident?: boolean; plant?: number; where?: boolean } = {},
) {
  const r = rng(seed);
  const rows: string[][] = [];
  const truth: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const dry = r() < 0.55;
    const precipitation = dry ? 0 : 0.3 + r() * 20;
    const temp = r() * 30;
    const wind = 1 + r() * 5;
    let station = `s${Math.floor(r() * 8)}`;
    let month = `m${1 + Math.floor(r() * 12)}`;
    const u = r();
    let label = dry ? (u < 0.8 ? 'sun' : u < 0.9 ? 'fog' : 'rain') : u < 0.85 ? 'rain' : 'drizzle';
    // The accident: the trusted rows of mild dry days happen to carry no sun.
    if (opts.accident && dry && temp >= 8 && temp < 14 && label === 'sun') label = 'fog';
    let planted = false;
    // The plant: wet days given an ordinary station and month together and relabelled "fog".
    if (opts.plant && !dry && r() < opts.plant) {
      station = 's3';
      month = 'm7';
      label = 'fog';
      planted = true;
    }
    const readings = [precipitation.toFixed(1), temp.toFixed(1), wind.toFixed(1)];
    rows.push(opts.where ? [...readings, station, month, label] : [...readings, label]);
    truth.push(planted);
  }
  return { rows, truth };
}

async function audit(trusted: string[][], incoming: string[][]) {
  const dir = tmpDir();
  const header = [
    'precipitation',
    'temp',
    'wind',
    ...(trusted[0].length > 4 ? ['station', 'month'] : []),
    'label',
  ];
  writeCsv(join(dir, 't.csv'), header, trusted);
  writeCsv(join(dir, 'i.csv'), header, incoming);
  const run = await runAudit({
    trusted: join(dir, 't.csv'),
    incoming: join(dir, 'i.csv'),
    label: 'label',
    detectors: [triggers],
  });
  run.source.close();
  const findings = run.report.findings.filter((f) => f.rule === 'audit/trigger' && f.severity !== 'medium');
  const flagged = new Uint8Array(incoming.length);
  for (const [i, reason] of run.reasons) if (reason.includes('trigger "')) flagged[i] = 1;
  return { findings, flagged };
}

describe('trigger mining: conjunctions against the batch around them', () => {
  it('does not report a region whose label the batch carries everywhere around it, when the trusted rows missed it', async () => {
    const { findings, flagged } = await audit(
      weather(100, 81, { accident: true }).rows,
      weather(1500, 82).rows,
    );
    expect(findings.map((f) => f.message)).toEqual([]);
    expect(flagged.reduce((a, b) => a + b, 0)).toBe(0);
  }, 120_000);

  it('still finds a conjunction planted beside the accident', async () => {
    const inc = weather(3000, 83, { plant: 0.04, where: true });
    const { findings, flagged } = await audit(
      weather(100, 81, { accident: true, where: true }).rows,
      inc.rows,
    );
    let tp = 0;
    let fp = 0;
    inc.truth.forEach((t, i) => {
      if (flagged[i] && t) tp++;
      else if (flagged[i]) fp++;
    });
    const planted = inc.truth.filter(Boolean).length;
    expect(planted).toBeGreaterThan(30);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.message.includes('fog'))).toBe(true);
    expect(tp / planted).toBeGreaterThanOrEqual(0.9);
    expect(tp / Math.max(1, tp + fp)).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
