/**
 * No command writes under HOME: every command runs here with HOME set to a fresh empty folder and
 * XDG_CACHE_HOME and CI unset, and the folder must still be empty afterwards. (onnxruntime, loaded by the gate for an
 * ONNX model, records telemetry under ~/.cache/Microsoft/ unless it is switched off; a library cache or a
 * history file would show here too.)
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adultSplit, writeCsv } from '../gate/helpers/data.js';
import { CORPUS, FIXTURES, ROOT, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeModel, writeKeys } from '../provenance/helpers.js';

/** Every path under `dir`, folders included. */
function everything(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? [p, ...everything(p)] : [p];
  });
}

describe('no command writes under HOME', () => {
  const base = tempDir('antidote-home-');
  const home = join(base, 'home');
  const work = join(base, 'work');
  mkdirSync(home);
  mkdirSync(work);
  // CI unset too: onnxruntime records no telemetry when CI is set, which would hide the very thing looked for.
  const env = {
    HOME: home,
    XDG_CACHE_HOME: undefined,
    XDG_CONFIG_HOME: undefined,
    XDG_DATA_HOME: undefined,
    CI: undefined,
  };
  const run = (args: string[]) => runCli(args, { cwd: work, env });

  const model = makeModel(join(work, 'model'));
  const keys = writeKeys(work, 'k', 'prime256v1');
  const trusted = join(work, 'adult.csv');
  const t = adultSplit().trusted;
  writeCsv(trusted, {
    header: ['id', ...t.header],
    rows: t.rows.slice(0, 2000).map((r, i) => [`r${i}`, ...r]),
  });

  // [command line, expected exit code]
  const commands: Array<[string[], number]> = [
    [['scan', join(CORPUS, 'data'), '-f', 'json', '-o', join(work, 'scan.json')], 1],
    [['scan', join(FIXTURES, 'real', 'legacy_state_dict.pt')], 0],
    [
      [
        'audit',
        '--trusted',
        join(ROOT, 'examples', 'sst2', 'dev.tsv'),
        '--incoming',
        join(ROOT, 'examples', 'sst2', 'test.tsv'),
        '--label',
        'label',
        '--out',
        join(work, 'audit'),
      ],
      0,
    ],
    [
      [
        'gate',
        '--trusted',
        trusted,
        '--label',
        'income',
        '--id',
        'id',
        '--incumbent',
        join(FIXTURES, 'gate', 'adult_lr_incumbent.onnx'),
        '--candidate',
        join(FIXTURES, 'gate', 'adult_lr_clean.onnx'),
        '--probe',
        'auto',
        '--out',
        join(work, 'gate'),
      ],
      0,
    ],
    [['demo', '--out', join(work, 'demo')], 0],
    [
      ['convert', join(FIXTURES, 'convert', 'linear_state_dict.pt'), '-o', join(work, 'linear.safetensors')],
      0,
    ],
    [['hash', model], 0],
    [['lock', model, '-o', join(work, 'antidote.lock')], 0],
    [['verify', '-l', join(work, 'antidote.lock'), model], 0],
    [['sign', model, '--key', keys.priv, '-o', join(work, 'model.sig')], 0],
    [['verify-signature', model, '--sig', join(work, 'model.sig'), '--key', keys.pub], 0],
    [['bom', model, '-o', join(work, 'bom.json')], 0],
    [
      [
        'guard',
        'fit',
        '--model',
        join(FIXTURES, 'guard', 'adult_conj_backdoor.onnx'),
        '--trusted',
        join(FIXTURES, 'guard', 'adult_trusted.csv'),
        '--label',
        'income',
        '-o',
        join(work, 'guard.json'),
      ],
      0,
    ],
  ];

  for (const [args, code] of commands) {
    it(`antidote ${args[0]} ${args[0] === 'scan' ? args[1].split('/').pop() : ''}leaves HOME empty`, () => {
      const r = run(args);
      expect(r.code, r.stderr).toBe(code);
      expect(everything(home)).toEqual([]);
    });
  }

  it('every command was run', () => {
    const names = new Set(commands.map(([a]) => a[0]));
    for (const c of ['scan', 'audit', 'gate', 'demo', 'convert', 'hash', 'lock', 'verify', 'sign', 'bom'])
      expect(names.has(c), c).toBe(true);
    // The commands did their work in the working folder (so the check above is not vacuous).
    expect(readdirSync(work)).toEqual(
      expect.arrayContaining([
        'scan.json',
        'audit',
        'gate',
        'demo',
        'linear.safetensors',
        'model.sig',
        'bom.json',
      ]),
    );
  });
});
