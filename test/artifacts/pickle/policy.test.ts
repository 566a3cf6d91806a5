import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickleRules } from '../../../src/artifacts/pickle/api.js';
import { defaultPolicy, loadPolicy } from '../../../src/artifacts/pickle/policy.js';
import { PROFILES } from '../../../src/artifacts/pickle/profiles/index.js';
import { AntidoteError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/tmp.js';
import { analyze, blocks, rules } from './helpers.js';
import { op, pk } from './ops.js';

const dir = tempDir('antidote-policy-');
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const custom = pk(op.PROTO(2), op.global('mypkg.layers', 'Custom'), op.EMPTY_TUPLE, op.NEWOBJ, op.STOP);

describe('allowlist policy', () => {
  it('blocks an unknown name (high), saying what and how, and --allow lets exactly that name through', () => {
    const r = analyze(custom);
    expect(rules(r)).toEqual(['pickle/unknown-global']);
    expect(r.findings[0].severity).toBe('high');
    expect(r.findings[0].message).toContain(
      'mypkg.layers.Custom is imported (GLOBAL) and instantiated (NEWOBJ)',
    );
    expect(r.findings[0].message).toContain('--allow mypkg.layers.Custom');
    expect(blocks(analyze(custom, { policy: loadPolicy(undefined, ['mypkg.layers.Custom']) }))).toBe(false);
  });

  it('allows by exact name, never by prefix', () => {
    const policy = loadPolicy(undefined, ['mypkg.layers.Custom']);
    const sibling = pk(op.PROTO(2), op.global('mypkg.layers', 'Other'), op.STOP);
    const deeper = pk(op.PROTO(2), op.global('mypkg.layers', 'Custom.__init__'), op.STOP);
    expect(blocks(analyze(sibling, { policy }))).toBe(true);
    expect(blocks(analyze(deeper, { policy }))).toBe(true);
    expect(() => loadPolicy(undefined, ['mypkg.*'])).toThrow(/not a fully qualified Python name/);
    expect(() => loadPolicy(undefined, ['os'])).toThrow(AntidoteError);
  });

  it('reads a policy file with profiles and names', () => {
    const p = loadPolicy(
      file('p.json', JSON.stringify({ profiles: ['numpy'], allow: ['mypkg.layers.Custom'] })),
    );
    expect(p.profiles).toEqual(['numpy']);
    expect(p.allowed.has('numpy.core.multiarray._reconstruct')).toBe(true);
    expect(p.allowed.has('torch._utils._rebuild_tensor_v2')).toBe(false);
    const torchSd = pk(op.PROTO(2), op.global('torch._utils', '_rebuild_tensor_v2'), op.STOP);
    expect(blocks(analyze(torchSd, { policy: p }))).toBe(true);
    expect(blocks(analyze(custom, { policy: p }))).toBe(false);
  });

  it('rejects invalid policy files with one line and exit-2 errors', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"profiles": ["nope"]}', /unknown pickle profile "nope"/],
      ['{"allow": "x.y"}', /invalid policy at allow/],
      ['{"allow": ["x.y"], "extra": 1}', /invalid policy/],
      ['{not json', /not valid JSON/],
      ['{"allow": ["os.*"]}', /not a fully qualified Python name/],
    ];
    for (const [text, msg] of cases) {
      let err: unknown;
      try {
        loadPolicy(file('bad.json', text));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AntidoteError);
      expect((err as AntidoteError).code).toBe('E_CONFIG');
      expect((err as AntidoteError).oneLine()).toMatch(msg);
      expect((err as AntidoteError).oneLine()).not.toContain('\n');
    }
    expect(() => loadPolicy(join(dir, 'missing.json'))).toThrow(/no such file/);
  });

  it('profiles hold only exact dotted names and none of the denylisted weapons', () => {
    for (const [name, names] of Object.entries(PROFILES)) {
      expect(names.length, name).toBeGreaterThan(0);
      for (const n of names) expect(n, name).toMatch(/^[A-Za-z_][\w]*(\.[\w]+)+$/);
    }
    const all = defaultPolicy().allowed;
    for (const weapon of [
      'builtins.eval',
      'builtins.getattr',
      'os.system',
      'torch.load',
      'numpy.load',
      'functools.partial',
      'builtins.type',
    ])
      expect(all.has(weapon), weapon).toBe(false);
    expect(all.has('sklearn.tree._tree.Tree')).toBe(true);
    expect(all.has('sklearn.ensemble._forest.RandomForestClassifier')).toBe(true);
    expect(all.has('numpy._core.multiarray._reconstruct')).toBe(true);
    expect(all.has('pandas.core.frame.DataFrame')).toBe(true);
  });

  it('exports metadata for every pickle rule', () => {
    const ids = pickleRules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of pickleRules) {
      expect(r.id).toMatch(/^pickle\//);
      expect(r.rationale.length).toBeGreaterThan(40);
      expect(r.atlas).toBe('AML.T0011.000');
    }
  });
});
