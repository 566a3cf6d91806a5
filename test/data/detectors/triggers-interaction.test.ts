/**
 * A small trusted set's sampling accident must not read as a planted conjunction: the batch carries the
 * region's label as often as the rest of the larger region around it does, and only the trusted rows (and the
 * model fitted on them) missed it. A planted conjunction beside it is still found.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../helpers.js';
import { quality, tableTriggers } from './audit-csv.js';

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

/** Trigger mining on a weather table (a station and a month when its rows carry them). */
function audit(trusted: string[][], incoming: string[][]) {
  const header = [
    'precipitation',
    'temp',
    'wind',
    ...(trusted[0].length > 4 ? ['station', 'month'] : []),
    'label',
  ];
  return tableTriggers(header, trusted, incoming);
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
    const q = quality(flagged, inc.truth);
    expect(inc.truth.filter(Boolean).length).toBeGreaterThan(30);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.message.includes('fog'))).toBe(true);
    expect(q.recall).toBeGreaterThanOrEqual(0.9);
    expect(q.precision).toBeGreaterThanOrEqual(0.9);
  }, 120_000);
});
