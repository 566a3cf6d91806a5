/**
 * Ground-truth consistency of the benchmark-matrix generators, on small synthetic pools (no dataset files needed):
 * poisoned ids exist in the batch, rates are as asked, the trusted set is never touched, clean controls
 * carry no poison, and each attack leaves the mark its truth describes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FAMILIES,
  type Family,
  generateCell,
  type MatrixCase,
  type Params,
  patchCells,
  poisonCount,
  WINDOWS,
} from '../../../src/data/generators/matrix-attacks.js';
import { type BaseDataset, condenseMail, type Row } from '../../../src/data/generators/matrix-datasets.js';
import { writeMatrixCase } from '../../../src/data/generators/matrix-write.js';
import { Rng } from '../../../src/data/generators/rng.js';

const WORDS =
  'the a good bad film movie plot actor scene story great awful fun dull long short music ending cast script'.split(
    ' ',
  );

function textPool(n: number, mail = false): BaseDataset {
  const rng = new Rng(7);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 6 + rng.int(8) }, () => rng.pick(WORDS));
    const label = i % 4 === 0 ? 'spam' : 'ham';
    const body = `${words.join(' ')} ${label === 'spam' ? 'offer now' : 'see you'} .`;
    const text = mail
      ? `From: a${i}@example.org\nSubject: note ${rng.pick(WORDS)}\nX-Mailer: Mutt 1.${rng.int(5)}\n\n${body}`
      : body;
    rows.push({ [mail ? 'message' : 'text']: text, label });
  }
  return {
    name: mail ? 'mail-synthetic' : 'text-synthetic',
    kind: mail ? 'mail' : 'text',
    label: 'label',
    text: mail ? 'message' : 'text',
    features: [],
    numeric: [],
    maxBatch: n,
    rows,
  };
}

function tablePool(n: number): BaseDataset {
  const rng = new Rng(11);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const cls = rng.int(3);
    rows.push({
      'Col A ': rng.pick(['x', 'y', 'z']),
      colour: rng.pick(['red', 'green', 'blue', 'grey']),
      size: Math.round(10 + cls * 5 + rng.next() * 10),
      weight: Number((1 + cls + rng.next()).toFixed(2)),
      kind: cls,
    });
  }
  return {
    name: 'table-synthetic',
    kind: 'tabular',
    label: 'kind',
    features: ['Col A ', 'colour', 'size', 'weight'],
    numeric: ['size', 'weight'],
    maxBatch: n,
    rows,
  };
}

function imagePool(n: number): BaseDataset {
  const rng = new Rng(13);
  const features: string[] = [];
  for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) features.push(`pixel_${r}_${c}`);
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const o: Row = {};
    for (const f of features) o[f] = rng.int(17);
    o.digit = ['zero', 'one', 'two', 'three'][i % 4];
    rows.push(o);
  }
  return {
    name: 'image-synthetic',
    kind: 'image',
    label: 'digit',
    features,
    numeric: features,
    image: { height: 8, width: 8, max: 16 },
    maxBatch: n,
    rows,
  };
}

const TEXT = textPool(1200);
const MAIL = textPool(800, true);
const TABLE = tablePool(1500);
const IMAGE = imagePool(1000);

const CASES: Array<[Family, BaseDataset, Params]> = [
  [
    'text-trigger',
    TEXT,
    {
      kind: 'rare',
      perRow: 3,
      repeated: true,
      position: 'middle',
      target: 'minority',
      rate: 0.03,
      trusted: 200,
    },
  ],
  [
    'text-trigger',
    MAIL,
    {
      kind: 'phrase',
      perRow: 2,
      repeated: false,
      position: 'start',
      target: 'majority',
      rate: 0.1,
      trusted: 0.2,
    },
  ],
  [
    'header-trigger',
    MAIL,
    {
      field: 'mixed',
      perRow: 3,
      repeated: false,
      position: 'end',
      target: 'minority',
      rate: 0.03,
      trusted: 100,
    },
  ],
  ['tabular-conjunction', TABLE, { k: 2, target: 'minority', rate: 0.03, trusted: 300 }],
  ['pixel-patch', IMAGE, { patch: 'center', target: 'random', rate: 0.1, trusted: 100 }],
  ['structural', TEXT, { shape: 'template', target: 'minority', rate: 0.03, trusted: 100 }],
  ['structural', MAIL, { shape: 'title-case', target: 'majority', rate: 0.03, trusted: 100 }],
  ['targeted-flip', TABLE, { size: 20, senders: 3, accounts: 27, trusted: 300 }],
  ['targeted-flip', TEXT, { size: 10, senders: 2, accounts: 8, trusted: 100 }],
  ['labeler-flip', TABLE, { mode: 'class-pair', rogue: 2, labelers: 12, trusted: 300 }],
  ['labeler-flip', TEXT, { mode: 'boundary', rogue: 1, labelers: 8, trusted: 100 }],
  ['labeler-flip', IMAGE, { mode: 'one-direction', rogue: 3, labelers: 20, trusted: 100 }],
  ['campaign', IMAGE, { accounts: 4, payload: 'trigger', target: 'minority', rate: 0.03, trusted: 100 }],
  ['campaign', TABLE, { accounts: 2, payload: 'flip', target: 'majority', rate: 0.01, trusted: 100 }],
  ['conditioning', TABLE, { accounts: 3, kind: 'both', step: 0.1, trusted: 300 }],
  ['noise', TEXT, { rate: 0.1, trusted: 100 }],
  ['clean', TABLE, { trusted: 100 }],
];

const label = (c: MatrixCase, r: Row) => r[c.truth.roles.label];
const byId = (rows: Row[]) => new Map(rows.map((r) => [String(r.id), r]));

describe('benchmark-matrix generators', () => {
  it('cover every family', () => {
    expect(new Set(CASES.map(([f]) => f))).toEqual(new Set(FAMILIES));
  });

  for (const [family, base, params] of CASES) {
    it(`${family} on ${base.name}: poison ids are distinct incoming rows, the trusted set is the pool's, reproducible by seed`, () => {
      const c = generateCell(base, family, params, 3);
      const ids = byId(c.incoming);
      expect(ids.size).toBe(c.incoming.length);
      expect(new Set(c.truth.poisoned).size).toBe(c.truth.poisoned.length);
      for (const id of c.truth.poisoned) expect(ids.has(id)).toBe(true);
      expect(c.truth.incomingRows).toBe(c.incoming.length);
      // Trusted rows are unmodified pool rows (every content and label value as in some pool row).
      const poolKeys = new Set(base.rows.map((r) => JSON.stringify(r)));
      const content = [...(base.text ? [base.text] : base.features), base.label];
      for (const r of c.trusted) {
        expect(poolKeys.has(JSON.stringify(Object.fromEntries(content.map((k) => [k, r[k]]))))).toBe(true);
      }
      if (family === 'clean') expect(c.truth.poisoned).toEqual([]);
      else expect(c.truth.poisoned.length).toBeGreaterThan(0);
      const again = generateCell(base, family, params, 3);
      expect(again.truth).toEqual(c.truth);
      const other = generateCell(base, family, params, 4);
      if (family === 'clean') expect(other.incoming).not.toEqual(c.incoming);
      else expect(other.truth.poisoned).not.toEqual(c.truth.poisoned);
    });
  }

  it('poison rates are as asked (with a floor of three rows)', () => {
    for (const rate of [0.003, 0.01, 0.03, 0.1]) {
      const c = generateCell(
        TEXT,
        'text-trigger',
        { kind: 'rare', perRow: 1, position: 'end', target: 'minority', rate, trusted: 200 },
        1,
      );
      expect(c.truth.poisoned.length).toBe(poisonCount(rate, c.incoming.length, Number.POSITIVE_INFINITY));
      expect(c.truth.poisoned.length).toBe(Math.max(3, Math.round(rate * c.incoming.length)));
    }
  });

  it('trusted sizes: rows or a fraction of the batch', () => {
    expect(generateCell(TABLE, 'clean', { trusted: 100 }, 1).trusted).toHaveLength(100);
    const c = generateCell(TABLE, 'clean', { trusted: 0.2 }, 1);
    expect(c.trusted.length).toBe(Math.round(0.2 * c.incoming.length));
  });

  it('dirty-label triggers: every poisoned row carries the trigger and the target label, clean rows keep theirs', () => {
    const c = generateCell(
      TEXT,
      'text-trigger',
      {
        kind: 'rare',
        perRow: 3,
        repeated: true,
        position: 'start',
        target: 'minority',
        rate: 0.05,
        trusted: 100,
      },
      2,
    );
    const [trigger] = c.truth.details.triggers as string[];
    const target = c.truth.details.target;
    expect(target).toBe('spam');
    const poisoned = new Set(c.truth.poisoned);
    for (const r of c.incoming) {
      const count = String(r.text)
        .split(' ')
        .filter((w) => w === trigger).length;
      if (poisoned.has(String(r.id))) {
        expect(count).toBe(3);
        expect(label(c, r)).toBe(target);
      } else expect(count).toBe(0);
    }
  });

  it('header triggers go into the header block, not the body', () => {
    const c = generateCell(
      MAIL,
      'header-trigger',
      {
        field: 'X-Mailer',
        perRow: 2,
        repeated: true,
        position: 'middle',
        target: 'minority',
        rate: 0.05,
        trusted: 100,
      },
      1,
    );
    const [line] = c.truth.details.headers as string[];
    for (const id of c.truth.poisoned) {
      const text = String(byId(c.incoming).get(id)!.message);
      const head = text.slice(0, text.indexOf('\n\n'));
      expect(head.split('\n').filter((l) => l === line)).toHaveLength(2);
      expect(head).not.toMatch(/X-Mailer: Mutt/);
    }
  });

  it('pixel patches stamp exactly the patch cells', () => {
    const c = generateCell(
      IMAGE,
      'pixel-patch',
      { patch: 'br', target: 'random', rate: 0.05, trusted: 100 },
      1,
    );
    const cells = patchCells(IMAGE, 'br');
    expect(cells).toEqual(['pixel_6_6', 'pixel_6_7', 'pixel_7_6', 'pixel_7_7']);
    for (const id of c.truth.poisoned) {
      const r = byId(c.incoming).get(id)!;
      expect(cells.map((f) => r[f])).toEqual([16, 0, 0, 16]);
    }
  });

  it("labeler flips change labels only in the rogue labelers' rows; class-pair stays within the pair", () => {
    const c = generateCell(
      TABLE,
      'labeler-flip',
      { mode: 'class-pair', rogue: 2, labelers: 12, trusted: 300 },
      5,
    );
    const rogue = new Set(c.truth.details.rogueLabelers as string[]);
    const pair = c.truth.details.pair as number[];
    for (const id of c.truth.poisoned) {
      const r = byId(c.incoming).get(id)!;
      expect(rogue.has(String(r.labeler))).toBe(true);
      expect(pair).toContain(r.kind);
    }
    expect(new Set(c.incoming.map((r) => r.labeler)).size).toBe(12);
  });

  it('conditioning: the accounts send the poison, the creep grows by window and crosses where the truth says', () => {
    const c = generateCell(TABLE, 'conditioning', { accounts: 3, kind: 'label', step: 0.1, trusted: 300 }, 2);
    const accounts = new Set(c.truth.details.accounts as string[]);
    expect(accounts.size).toBe(3);
    for (const id of c.truth.poisoned)
      expect(accounts.has(String(byId(c.incoming).get(id)!.source))).toBe(true);
    expect(c.truth.crossesAt).toBe(3);
    const n = c.incoming.length;
    const poisoned = new Set(c.truth.poisoned);
    const firstWindow = c.incoming
      .slice(0, Math.floor(n / WINDOWS))
      .filter((r) => poisoned.has(String(r.id)));
    expect(firstWindow).toHaveLength(0);
    const times = c.incoming.map((r) => Date.parse(String(r.time)));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('targeted flips relabel one class to another, all sent by the named accounts', () => {
    const c = generateCell(TABLE, 'targeted-flip', { size: 20, senders: 3, accounts: 27, trusted: 300 }, 1);
    const accounts = new Set(c.truth.details.accounts as string[]);
    expect(c.truth.poisoned).toHaveLength(20);
    for (const id of c.truth.poisoned) {
      const r = byId(c.incoming).get(id)!;
      expect(r.kind).toBe(c.truth.details.to);
      expect(accounts.has(String(r.source))).toBe(true);
    }
    expect(new Set(c.incoming.map((r) => r.source)).size).toBe(27);
  });

  it('mail is condensed to kept headers and the start of the body', () => {
    const raw = 'Received: from x\n\tby y\nFrom: a@b\nSubject: hi\n there\nX-Mailer: M 1\n\nbody text';
    expect(condenseMail(raw)).toBe('From: a@b\nSubject: hi there\nX-Mailer: M 1\n\nbody text');
  });

  it('writes CSV for tables and JSONL for mail, keeping column names and multi-line text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'matrix-'));
    try {
      const t = generateCell(TABLE, 'clean', { trusted: 100 }, 1);
      const p = await writeMatrixCase(t, join(dir, 't'));
      expect(readFileSync(p.incoming, 'utf8').split('\n')[0]).toBe(
        'id,"Col A ",colour,size,weight,kind,source,labeler,time',
      );
      const m = generateCell(MAIL, 'noise', { rate: 0.1, trusted: 100 }, 1);
      const q = await writeMatrixCase(m, join(dir, 'm'));
      const lines = readFileSync(q.incoming, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(m.incoming.length);
      expect(JSON.parse(lines[0]).message).toContain('\n\n');
      expect(JSON.parse(readFileSync(q.truth, 'utf8')).poisoned).toEqual(m.truth.poisoned);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
