/**
 * The second frozen part of the benchmark matrix (frozen2): its split leaves dev and frozen part 1 exactly as
 * they were, its readers parse files in the formats bench/audit-matrix/frozen2-data.sh writes, and every
 * frozen2 cell generates a valid trusted file, incoming file and truth.json with the right counts. On small
 * files written here (never the benchmark data folder; nothing audited).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { allCells, sampleCells } from '../../../bench/audit-matrix/cells.js';
import {
  DATASET_PART,
  FROZEN_VALUES,
  FROZEN2_VALUES,
  frozen2Values,
} from '../../../bench/audit-matrix/split.js';
import { verifyWrittenCase } from '../../../bench/audit-matrix/verify.js';
import { FAMILIES, generateCell, patchCells } from '../../../src/data/generators/matrix-attacks.js';
import {
  type BaseDataset,
  DATASET_KIND,
  type DataPaths,
  FORTUNE_EN_CLASSES,
  fortuneRecords,
  MATRIX_DATASETS,
  type Row,
} from '../../../src/data/generators/matrix-datasets.js';
import { writeMatrixCase } from '../../../src/data/generators/matrix-write.js';
import { Rng } from '../../../src/data/generators/rng.js';
import { cellHash } from './cell-hash.js';
import { rCsv } from './r-csv.js';

const tmp = mkdtempSync(join(tmpdir(), 'antidote-frozen2-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('frozen2 split', () => {
  it('keeps the held-out samples exactly as they were fixed (dev may grow; frozen and frozen2 may not)', () => {
    // Frozen part 1 as on main before frozen2 existed (56 cells); frozen2 as first sampled (62 cells).
    expect(sampleCells('frozen')).toHaveLength(56);
    expect(cellHash('frozen')).toBe('79fcc70f9b283160c51e9b856b3ffadcb8eaffab50395fe2c6d410756dcccf9c');
    expect(sampleCells('frozen2')).toHaveLength(62);
    expect(cellHash('frozen2')).toBe('dbbe8dc69659cfe8800c285961e4a360d45be24a1e6db7b0e332f40eb0d67a74');
    for (const c of sampleCells('dev')) expect(c.part).toBe('dev');
  });

  it('no frozen2 value occurs in dev or frozen cells, and no part-1 held-out value is reused as a frozen2 value', () => {
    for (const c of allCells().filter((x) => x.part === 'dev' || x.part === 'frozen')) {
      expect(DATASET_PART[c.dataset]).not.toBe('frozen2');
      for (const [k, held] of Object.entries(frozen2Values(c.family))) {
        const v = c.params[k];
        if (v !== undefined && typeof v !== 'boolean') expect(held).not.toContain(v);
      }
    }
    for (const [k, vs] of Object.entries(FROZEN2_VALUES))
      for (const v of vs) expect(FROZEN_VALUES[k] ?? []).not.toContain(v);
  });

  it('the frozen2 sample judges every family, holds only frozen2 cells, covers every held-out value, and is fixed', () => {
    const cells = sampleCells('frozen2');
    expect(cells.length).toBeGreaterThanOrEqual(50);
    expect(cells.length).toBeLessThanOrEqual(70);
    expect(cells.every((c) => c.part === 'frozen2')).toBe(true);
    for (const f of FAMILIES) expect(cells.some((c) => c.family === f)).toBe(true);
    // Every family that applies to a frozen2 dataset is judged on one (header triggers need mail: none is new).
    for (const f of FAMILIES.filter((x) => x !== 'header-trigger'))
      expect(cells.some((c) => c.family === f && DATASET_PART[c.dataset] === 'frozen2')).toBe(true);
    for (const d of Object.keys(DATASET_PART).filter((x) => DATASET_PART[x as 'fgl'] === 'frozen2'))
      expect(cells.some((c) => c.family === 'clean' && c.dataset === d)).toBe(true);
    for (const [k, vs] of Object.entries(FROZEN2_VALUES))
      for (const v of vs) expect(cells.some((c) => c.params[k] === v)).toBe(true);
    expect(sampleCells('frozen2').map((c) => c.id)).toEqual(cells.map((c) => c.id));
    expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
  });
});

// ---------------------------------------------------------------- small files in the builder's formats

const rng = new Rng(20261203);
/** A vocabulary big enough for the ordinary-phrase triggers (ranks 150-1500). */
const SYL = ['ka', 'lo', 'mi', 'ren', 'sto', 'vu', 'par', 'el', 'ti', 'gos', 'an', 'dre'];
const VOCAB = Array.from({ length: 900 }, (_, i) => {
  let w = '';
  for (let x = i + 7; x > 0; x = Math.floor(x / SYL.length)) w += SYL[x % SYL.length];
  return w;
});
const zipfWord = () => VOCAB[Math.min(VOCAB.length - 1, Math.floor(VOCAB.length * rng.next() ** 3))];
const sentence = (marker: string) =>
  `${Array.from({ length: 6 + rng.int(10) }, zipfWord).join(' ')} ${marker}.\n  -- ${zipfWord()}`;

function fortuneFile(n: number, marker: string): string {
  return `${Array.from({ length: n }, () => sentence(marker)).join('\n%\n')}\n%\n`;
}

function idx(magic: number, dims: number[], bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => {
    head.writeUInt32BE(d, 4 + 4 * i);
  });
  return gzipSync(Buffer.concat([head, Buffer.from(bytes)]));
}

function writeFrozen2Files(root: string): DataPaths {
  const f2 = join(root, 'frozen2');
  const dir = (n: string) => {
    mkdirSync(join(f2, n), { recursive: true });
    return join(f2, n);
  };
  for (const c of FORTUNE_EN_CLASSES) writeFileSync(join(dir('fortunes-en'), c), fortuneFile(110, c));
  writeFileSync(join(dir('fortunes-de'), 'zitate'), fortuneFile(600, 'sagte er'));
  writeFileSync(join(dir('fortunes-de'), 'witze'), fortuneFile(90, 'lacht'));
  const num = (lo: number, hi: number, d = 2) => Number((lo + rng.next() * (hi - lo)).toFixed(d));
  const fgl = ['WinF', 'WinNF', 'Veh', 'Con', 'Tabl', 'Head'];
  writeFileSync(
    join(dir('fgl'), 'fgl.csv'),
    rCsv(
      ['RI', 'Na', 'Mg', 'Al', 'Si', 'K', 'Ca', 'Ba', 'Fe', 'type'],
      Array.from({ length: 214 }, (_, i) => [
        num(-5, 5),
        num(11, 15),
        num(0, 4.5),
        num(0.3, 3.5),
        num(70, 75),
        num(0, 1),
        num(5, 14),
        rng.next() < 0.8 ? 0 : num(0, 3),
        rng.next() < 0.7 ? 0 : num(0, 0.5),
        fgl[i % 6],
      ]),
    ),
  );
  const areas = ['North-Apulia', 'Calabria', 'South-Apulia', 'Sicily', 'Umbria', 'West-Liguria'];
  writeFileSync(
    join(dir('olive'), 'olive.csv'),
    rCsv(
      [
        'area',
        'palmitic',
        'palmitoleic',
        'stearic',
        'oleic',
        'linoleic',
        'linolenic',
        'arachidic',
        'eicosenoic',
      ],
      Array.from({ length: 600 }, (_, i) => [
        areas[i % 6],
        num(6, 17),
        num(0.2, 2.8),
        num(1.5, 3.8),
        num(63, 84),
        num(4.5, 14),
        num(0, 0.7),
        num(0, 1),
        num(0, 0.6),
      ]),
    ),
  );
  const cuts = ['Fair', 'Good', 'Very Good', 'Premium', 'Ideal'];
  writeFileSync(
    join(dir('diamonds'), 'diamonds.csv'),
    rCsv(
      ['carat', 'cut', 'color', 'clarity', 'depth', 'table', 'price', 'x', 'y', 'z'],
      Array.from({ length: 900 }, (_, i) => [
        num(0.2, 3),
        cuts[Math.min(4, Math.floor((i % 10) / 2))],
        rng.pick(['D', 'E', 'F', 'G', 'H', 'I', 'J']),
        rng.pick(['I1', 'SI2', 'SI1', 'VS2', 'VS1', 'VVS2', 'VVS1', 'IF']),
        num(55, 68, 1),
        50 + rng.int(15),
        300 + rng.int(18000),
        num(3, 9),
        num(3, 9),
        num(2, 6),
      ]),
    ),
  );
  const words = Array.from({ length: 57 }, (_, i) => `w${i}`);
  writeFileSync(
    join(dir('spambase'), 'spambase.csv'),
    rCsv(
      [...words, 'type'],
      Array.from({ length: 700 }, (_, i) => [
        ...words.map(() => (rng.next() < 0.5 ? 0 : rng.pick([0.32, 0.64]))),
        i % 5 < 2 ? 'spam' : 'nonspam',
      ]),
    ),
  );
  const n = 700;
  const pixels = new Uint8Array(n * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rng.next() < 0.5 ? 0 : rng.int(256);
  mkdirSync(join(root, 'fashion-mnist'), { recursive: true });
  writeFileSync(join(root, 'fashion-mnist', 't10k-images-idx3-ubyte.gz'), idx(2051, [n, 28, 28], pixels));
  writeFileSync(
    join(root, 'fashion-mnist', 't10k-labels-idx1-ubyte.gz'),
    idx(
      2049,
      [n],
      Uint8Array.from({ length: n }, (_, i) => i % 10),
    ),
  );
  return { shared: root, sklearn: join(root, 'none'), vega: join(root, 'none') };
}

const PATHS = writeFrozen2Files(join(tmp, 'data'));
const FROZEN2_DATASETS = Object.keys(DATASET_PART).filter((d) => DATASET_PART[d as 'fgl'] === 'frozen2');

/** A small pool of a seen dataset's kind, under that dataset's name (some generators key on it). */
function seenPool(name: string): BaseDataset {
  const kind = DATASET_KIND[name];
  const r = new Rng(5);
  if (kind === 'text' || kind === 'mail') {
    const mail = kind === 'mail';
    const rows: Row[] = Array.from({ length: 900 }, (_, i) => {
      const label = i % 4 === 0 ? 'spam' : 'ham';
      const body = `${Array.from({ length: 8 + r.int(8) }, zipfWord).join(' ')} ${label === 'spam' ? 'offer' : 'later'} .`;
      return {
        text: mail
          ? `From: a${i}@example.org\nSubject: note ${zipfWord()} ${zipfWord()}\nX-Mailer: Mutt 1.${r.int(5)}\n\n${body}`
          : body,
        label,
      };
    });
    return { name, kind, label: 'label', text: 'text', features: [], numeric: [], maxBatch: 900, rows };
  }
  if (kind === 'image') {
    const features: string[] = [];
    for (let y = 0; y < 7; y++) for (let x = 0; x < 7; x++) features.push(`px_${y}_${x}`);
    const rows: Row[] = Array.from({ length: 900 }, (_, i) => {
      const o: Row = { item: ['coat', 'bag', 'shirt'][i % 3] };
      for (const f of features) o[f] = r.int(256);
      return o;
    });
    const image = { height: 7, width: 7, max: 255 };
    return { name, kind, label: 'item', features, numeric: features, image, maxBatch: 900, rows };
  }
  const rows: Row[] = Array.from({ length: 900 }, (_, i) => ({
    colour: r.pick(['red', 'green', 'blue']),
    size: 10 + r.int(30),
    weight: Number((1 + r.next() * 3).toFixed(2)),
    kind: i % 3,
  }));
  return {
    name,
    kind: 'tabular',
    label: 'kind',
    features: ['colour', 'size', 'weight'],
    numeric: ['size', 'weight'],
    maxBatch: 900,
    rows,
  };
}

describe('frozen2 readers', () => {
  it('read fortune files: records split on "%" lines, overstrike removed, long records left out', () => {
    const text = `Short one\n  -- someone\n%\nB\bBo\bol\bld f_\bi_\bx here, twenty chars\n%\n${'x'.repeat(400)}\n%\n`;
    expect(fortuneRecords(text, 300)).toEqual(['Short one -- someone', 'Bold fix here, twenty chars']);
  });

  it('read every frozen2 dataset with its label, kind, columns and numbers', () => {
    const pools = Object.fromEntries(FROZEN2_DATASETS.map((d) => [d, MATRIX_DATASETS[d](PATHS)]));
    expect(pools['fortunes-en'].rows).toHaveLength(660);
    expect(new Set(pools['fortunes-en'].rows.map((r) => r.category))).toEqual(new Set(FORTUNE_EN_CLASSES));
    expect(pools['fortunes-de'].rows.filter((r) => r.art === 'witz')).toHaveLength(90);
    expect(pools.fgl.numeric).toEqual(['RI', 'Na', 'Mg', 'Al', 'Si', 'K', 'Ca', 'Ba', 'Fe']);
    expect(pools.olive.label).toBe('area');
    expect(pools.diamonds.features).toEqual([
      'carat',
      'color',
      'clarity',
      'depth',
      'table',
      'price',
      'x',
      'y',
      'z',
    ]);
    expect(pools.diamonds.numeric).not.toContain('color');
    expect(new Set(pools.diamonds.rows.map((r) => r.cut)).size).toBe(5);
    expect(pools.spambase.features).toHaveLength(57);
    expect(typeof pools.spambase.rows[0].w0).toBe('number');
    const img = pools['fashion-mnist-test'];
    expect(img.features).toHaveLength(36);
    expect(img.image).toEqual({ height: 6, width: 6, max: 255 });
    expect(img.rows[3].class).toBe(3);
    for (const d of FROZEN2_DATASETS) expect(pools[d].kind).toBe(DATASET_KIND[d]);
  });

  it('a mid-edge patch sits in the middle of an edge, away from the corners and the centre', () => {
    const img = MATRIX_DATASETS['fashion-mnist-test'](PATHS);
    expect(patchCells(img, 'top')).toEqual(['pix_0_2', 'pix_0_3', 'pix_1_2', 'pix_1_3']);
    expect(patchCells(img, 'left')).toEqual(['pix_2_0', 'pix_2_1', 'pix_3_0', 'pix_3_1']);
  });
});

describe('frozen2 cells generate valid batches', () => {
  const pools = new Map<string, BaseDataset>();
  const pool = (d: string) => {
    if (!pools.has(d))
      pools.set(d, DATASET_PART[d as 'fgl'] === 'frozen2' ? MATRIX_DATASETS[d](PATHS) : seenPool(d));
    return pools.get(d)!;
  };
  it('every frozen2 cell writes a trusted file, an incoming file and truth.json that agree', async () => {
    const cells = sampleCells('frozen2');
    const failures: string[] = [];
    for (const [i, cell] of cells.entries()) {
      const c = generateCell(pool(cell.dataset), cell.family, cell.params, 1);
      const dir = join(tmp, 'cells', String(i));
      await writeMatrixCase(c, dir);
      const problems = verifyWrittenCase(c, dir);
      if (problems.length) failures.push(`${cell.id}: ${problems.join('; ')}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('the checker fails a batch whose truth does not match its files', async () => {
    const cell = sampleCells('frozen2').find((c) => c.family === 'text-trigger')!;
    const c = generateCell(pool(cell.dataset), cell.family, cell.params, 1);
    c.truth.poisoned = [...c.truth.poisoned.slice(1), 'in-99999'];
    const dir = join(tmp, 'broken');
    await writeMatrixCase(c, dir);
    expect(verifyWrittenCase(c, dir)).toContain('a poisoned id is not an incoming row');
  });

  it('the new shapes and positions leave the marks they describe', () => {
    const text = pool('fortunes-en');
    const caps = generateCell(
      text,
      'structural',
      { shape: 'caps-first', target: 'minority', rate: 0.05, trusted: 100 },
      2,
    );
    const byId = new Map(caps.incoming.map((r) => [String(r.id), String(r.fortune)]));
    for (const id of caps.truth.poisoned) {
      const first = byId.get(id)!.split(' ')[0];
      expect(first).toBe(first.toUpperCase());
    }
    const emo = generateCell(
      text,
      'structural',
      { shape: 'emoticon', target: 'majority', rate: 0.05, trusted: 100 },
      2,
    );
    const suffix = String(emo.truth.details.form).match(/"(.+)"/)![1];
    for (const r of emo.incoming.filter((x) => emo.truth.poisoned.includes(String(x.id))))
      expect(String(r.fortune).endsWith(` ${suffix}`)).toBe(true);
    const five = generateCell(
      text,
      'text-trigger',
      {
        kind: 'rare',
        perRow: 5,
        repeated: false,
        position: 'anywhere',
        target: 'minority',
        rate: 0.05,
        trusted: 100,
      },
      3,
    );
    const triggers = five.truth.details.triggers as string[];
    expect(triggers).toHaveLength(5);
    for (const r of five.incoming.filter((x) => five.truth.poisoned.includes(String(x.id)))) {
      const words = String(r.fortune).split(' ');
      expect(triggers.every((t) => words.includes(t))).toBe(true);
    }
    const mail = generateCell(
      seenPool('spamassassin-a'),
      'header-trigger',
      {
        field: 'mixed',
        perRow: 5,
        repeated: false,
        position: 'anywhere',
        target: 'minority',
        rate: 0.05,
        trusted: 100,
      },
      1,
    );
    expect(new Set((mail.truth.details.headers as string[]).map((h) => h.split(':')[0])).size).toBe(5);
  });
});
