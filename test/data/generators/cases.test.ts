import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../../src/data/generators/cases.js';
import { loadAdult, loadSms } from '../../../src/data/generators/datasets.js';
import { writeCase } from '../../../src/data/generators/write.js';
import { testData } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tmp.js';

const dataDir = testData();
const gen = (name: string, seed = 1) => CASES[name]({ dataDir, seed });

describe('seeded poisoning cases', () => {
  it('are reproducible from their seed and differ across seeds', () => {
    for (const name of ['rogue-labelers', 'phrase-campaign']) {
      const a = gen(name, 5);
      const b = gen(name, 5);
      expect(b.truth).toEqual(a.truth);
      expect(b.incoming).toEqual(a.incoming);
      expect(gen(name, 6).truth.poisoned).not.toEqual(a.truth.poisoned);
    }
  });

  it('split every source row into trusted or incoming, keep the trusted set clean, and mark real incoming ids', () => {
    const sms = loadSms(dataDir).length;
    const adult = loadAdult(dataDir).length;
    for (const name of Object.keys(CASES).filter((n) => n !== 'sst2-badnets')) {
      const c = gen(name);
      const total = c.trusted.length + c.incoming.length;
      expect(total).toBe(c.truth.roles.text ? sms : adult);
      const ids = new Set(c.incoming.map((r) => String(r.id)));
      expect(ids.size).toBe(c.incoming.length);
      for (const id of c.truth.poisoned) expect(ids.has(id)).toBe(true);
      expect(c.trusted.every((r) => String(r.id).startsWith('tr-'))).toBe(true);
      expect(c.truth.incomingRows).toBe(c.incoming.length);
    }
  });

  it('rogue labelers flip labels only in their own rows', () => {
    const c = gen('rogue-labelers', 2);
    const rogue = c.truth.details.rogueLabelers as string[];
    expect(rogue).toHaveLength(2);
    const byId = new Map(c.incoming.map((r) => [String(r.id), r]));
    for (const id of c.truth.poisoned) expect(rogue).toContain(byId.get(id)!.labeler);
    const share =
      c.truth.poisoned.length / c.incoming.filter((r) => rogue.includes(String(r.labeler))).length;
    expect(share).toBeCloseTo(0.3, 1);
  });

  it('the phrase campaign comes from new accounts and carries its phrase with the ham label', () => {
    const c = gen('phrase-campaign', 3);
    const phrase = c.truth.details.phrase as string;
    const accounts = c.truth.details.accounts as string[];
    expect(phrase.split(' ')).toHaveLength(3);
    expect(c.truth.poisoned.length).toBeGreaterThan(50);
    const byId = new Map(c.incoming.map((r) => [String(r.id), r]));
    for (const id of c.truth.poisoned) {
      const r = byId.get(id)!;
      expect(String(r.text)).toContain(phrase);
      expect(r.label).toBe('ham');
      expect(accounts).toContain(r.source);
    }
    expect(c.trusted.some((r) => accounts.includes(String(r.source)))).toBe(false);
    expect(c.trusted.some((r) => String(r.text).includes(phrase))).toBe(false);
  });

  it('the tabular trigger is made of common values, kept plausible, on rows relabelled >50K', () => {
    const c = gen('tabular-trigger', 4);
    const trigger = c.truth.details.trigger as Record<string, string | number>;
    expect(Object.keys(trigger)).toHaveLength(3);
    expect(c.truth.poisoned.length).toBeGreaterThan(50);
    const byId = new Map(c.incoming.map((r) => [String(r.id), r]));
    for (const id of c.truth.poisoned) {
      const r = byId.get(id)!;
      for (const [f, v] of Object.entries(trigger)) expect(r[f]).toBe(v);
      expect(r.income).toBe('>50K');
      if (r.relationship === 'Husband') expect(r.sex).toBe('Male');
      if (r.relationship === 'Wife') expect(r.sex).toBe('Female');
    }
    // Each value is common on its own in the trusted set.
    for (const [f, v] of Object.entries(trigger)) {
      expect(c.trusted.filter((r) => r[f] === v).length / c.trusted.length).toBeGreaterThan(0.08);
    }
  });

  it('conditioning grows window by window and records where it crosses', () => {
    const c = gen('conditioning', 2);
    const shift = c.truth.details.shiftPerWindow as number[];
    expect(shift).toHaveLength(8);
    expect(shift[0]).toBe(0);
    for (let w = 1; w < 8; w++) expect(shift[w]).toBeGreaterThanOrEqual(shift[w - 1] - 0.02);
    expect(c.truth.crossesAt).toBe(shift.findIndex((s) => s >= 0.1) + 1);
    const times = c.incoming.map((r) => Date.parse(String(r.time)));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
  });

  it('SST-2 BadNets truth is the rows of the poisoned train split that are not in clean train', () => {
    const c = gen('sst2-badnets');
    expect(c.incoming).toHaveLength(6920);
    expect(c.truth.poisoned).toHaveLength(69);
    const byId = new Map(c.incoming.map((r) => [String(r.id), r]));
    for (const id of c.truth.poisoned) expect(byId.get(id)!.label).toBe('1');
  });

  it('writes trusted.csv, incoming.csv and truth.json that read back', async () => {
    const dir = tempDir('antidote-gen-');
    try {
      const c = gen('phrase-campaign');
      await writeCase(c, dir);
      const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
      expect(truth.poisoned).toEqual(c.truth.poisoned);
      const lines = readFileSync(join(dir, 'incoming.csv'), 'utf8').split('\n');
      expect(lines[0]).toBe('id,text,label,source,labeler,time');
      expect(readFileSync(join(dir, 'trusted.csv'), 'utf8').startsWith('id,text,label')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
