import { describe, expect, it } from 'vitest';
import { analyze, blocks, fixture, rules } from './helpers.js';

/** Every opcode-built attack (test/fixtures/pickle/make_attacks.py) blocks, with the rule that explains it. */
const CASES: Array<[file: string, rule: string, mentions?: string]> = [
  ['dotted-global-torch-load.pkl', 'pickle/dangerous-global', 'torch.serialization.load'],
  ['dotted-global-dunder.pkl', 'pickle/dangerous-global', '__globals__'],
  ['dotted-stack-global.pkl', 'pickle/dangerous-global', 'OrderedDict.__init__.__globals__'],
  ['memo-stack-global.pkl', 'pickle/dangerous-global', 'os.system'],
  ['inst.pkl', 'pickle/dangerous-global', 'instantiated (INST)'],
  ['obj.pkl', 'pickle/dangerous-global', 'instantiated (OBJ)'],
  ['ext1.pkl', 'pickle/ext-code', 'Extension code 1'],
  ['ext2.pkl', 'pickle/ext-code', 'Extension code 513'],
  ['ext4.pkl', 'pickle/ext-code', 'Extension code 16777217'],
  ['numpy-distutils-gadget.pkl', 'pickle/dangerous-global', 'numpy.distutils.exec_command.exec_command'],
  ['torch-serialization-load.pkl', 'pickle/dangerous-global', 'torch.serialization.load'],
  ['numpy-testing-gadget.pkl', 'pickle/dangerous-global', 'numpy.testing'],
  ['build-on-module.pkl', 'pickle/global-mutation', 'torch._utils'],
  ['build-on-allowed-class.pkl', 'pickle/global-mutation', 'collections.OrderedDict'],
  ['proto0-text.pkl', 'pickle/dangerous-global', 'os.system'],
  ['proto0-unicode-escapes.pkl', 'pickle/dangerous-global', 'os.system'],
  ['proto0-builtin-py2.pkl', 'pickle/dangerous-global', 'builtins.eval'],
  ['proto2-builtin-py2.pkl', 'pickle/dangerous-global', 'builtins.eval'],
  ['newobj-ex.pkl', 'pickle/dangerous-global', 'instantiated (NEWOBJ_EX)'],
  ['nested-loads.pkl', 'pickle/dangerous-global', 'os.system'],
  ['nested-bytes-value.pkl', 'pickle/dangerous-global', 'os.system'],
  ['nested-two-levels.pkl', 'pickle/dangerous-global', 'os.system'],
  ['codecs-encode-bad-codec.pkl', 'pickle/unsafe-arguments', 'zlib_codec'],
  ['reconstructor-computed-class.pkl', 'pickle/unsafe-arguments', 'copyreg._reconstructor'],
  ['indirect-call.pkl', 'pickle/indirect-call', 'collections.OrderedDict'],
  ['frame-overrun.pkl', 'pickle/malformed', 'truncated'],
  ['torch-load-from-bytes-legacy.pkl', 'pickle/dangerous-global', 'os.system'],
  ['torch-load-from-bytes-zip.pkl', 'pickle/nested-pickle', 'zip archive'],
  ['torch-load-from-bytes-passthrough.pkl', 'pickle/dangerous-global', 'os.system'],
];

describe('opcode-built attacks are blocked by design', () => {
  for (const [file, rule, mentions] of CASES) {
    it(`${file}: ${rule}`, () => {
      const r = analyze(fixture('attacks', file));
      expect(blocks(r)).toBe(true);
      // Lean mode (what the scanner uses) reports the same.
      expect(analyze(fixture('attacks', file), { values: false }).findings).toEqual(r.findings);
      const hits = r.findings.filter((f) => f.rule === rule);
      expect(hits.length, rules(r).join(', ')).toBeGreaterThan(0);
      if (mentions) expect(hits.some((f) => f.message.includes(mentions))).toBe(true);
      for (const f of hits) {
        expect(f.atlas).toBe('AML.T0011.000');
        expect(f.location?.file).toBe('test.pkl');
        expect(typeof f.location?.offset).toBe('number');
      }
    });
  }

  it('reports where a nested payload sits', () => {
    const r = analyze(fixture('attacks', 'nested-two-levels.pkl'));
    const inner = r.findings.find(
      (f) => f.rule === 'pickle/dangerous-global' && f.message.startsWith('os.system'),
    );
    expect(inner?.evidence?.nestedIn).toMatch(/pickle\.loads argument .* > _pickle\.loads argument/);
  });

  it('analyses one pickle and leaves the second in the stream to the caller', () => {
    const bytes = fixture('attacks', 'second-pickle.pkl');
    const first = analyze(bytes);
    expect(first.complete).toBe(true);
    expect(first.end).toBeLessThan(bytes.length);
    expect(blocks(first)).toBe(false);
    const second = analyze(bytes, { start: first.end });
    expect(rules(second)).toContain('pickle/dangerous-global');
  });

  it('the Python 2 module name is critical under protocol 0 (mapped) and still blocks under protocol 3', () => {
    const p3 = analyze(Uint8Array.from([0x80, 3, ...Buffer.from('c__builtin__\neval\n)R.', 'latin1')]));
    expect(blocks(p3)).toBe(true);
    expect(p3.globals.map((g) => `${g.module}.${g.name}`)).toEqual(['__builtin__.eval']);
  });
});
