/**
 * A clean panel: forty subjects measured forty times each, with a label that belongs to the subject (as sex
 * in a pharmacokinetic study, a state's law over the years), audited against 100 trusted rows. A combination
 * of one subject's values is then "always labelled yes" on forty batch rows the trusted set barely holds;
 * before rows of one entity were read as one piece of evidence, such a combination was a critical trigger
 * and its rows were quarantined (3 of these 10 splits).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/data/audit.js';
import { rng, tmpDir, writeCsv } from './helpers.js';

const HEADER = ['id', 'region', 'height', 'weight', 'age', 'bsa', 'lbm', 'time', 'dose', 'conc', 'label'];

function panel(seed: number): string[][] {
  const r = rng(seed);
  const rows: string[][] = [];
  for (let e = 0; e < 40; e++) {
    const region = ['north', 'south', 'east', 'west', 'centre'][Math.floor(r() * 5)];
    const height = Math.round(150 + 40 * r());
    const weight = Math.round(45 + 50 * r());
    const age = String(Math.round(20 + 60 * r()));
    const bsa = (0.007184 * height ** 0.725 * weight ** 0.425).toFixed(4);
    const lbm = (0.3 * weight + 0.2 * height + 5 * r()).toFixed(2);
    const label = r() < 0.5 ? 'yes' : 'no';
    for (let t = 0; t < 40; t++) {
      const dose = (Math.round(r() * 8) * 0.5).toFixed(1);
      const conc = (r() * 30).toFixed(2);
      rows.push([
        `s${e}-t${t}`,
        region,
        String(height),
        String(weight),
        age,
        bsa,
        lbm,
        String(t),
        dose,
        conc,
        label,
      ]);
    }
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

describe('clean panel of subjects measured many times, 100 trusted rows', () => {
  it('raises no high finding and quarantines nothing; a subject-level pattern is reported as one', async () => {
    const alarms: string[] = [];
    const entityFindings: string[][] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const rows = panel(seed);
      const dir = tmpDir();
      const trusted = join(dir, 'trusted.csv');
      const incoming = join(dir, 'incoming.csv');
      writeCsv(trusted, HEADER, rows.slice(0, 100));
      writeCsv(incoming, HEADER, rows.slice(100));
      const report = await audit({ trusted, incoming, label: 'label', id: 'id' });
      for (const f of report.findings) {
        if (f.severity === 'high' || f.severity === 'critical')
          alarms.push(`seed ${seed} ${f.rule}: ${f.message}`);
        if (f.rule === 'audit/entity-pattern') entityFindings.push((f.location?.rows ?? []).map(String));
      }
      expect(report.summary.quarantined, `seed ${seed}`).toBe(0);
      // Nor does the report's chart show a subject's pattern as a confirmed trigger.
      const chart = (report.charts.triggers ?? []) as Array<{ confirmed: boolean; pattern: string }>;
      expect(
        chart.filter((t) => t.confirmed).map((t) => t.pattern),
        `seed ${seed}`,
      ).toEqual([]);
    }
    expect(alarms).toEqual([]);
    expect(entityFindings.length).toBeGreaterThan(0);
    // The rows it names are a few subjects' rows.
    for (const ids of entityFindings) {
      const subjects = new Set(ids.map((id) => id.split('-')[0]));
      expect(ids.length).toBeGreaterThan(0);
      expect(subjects.size).toBeLessThanOrEqual(3);
    }
  }, 180_000);
});
