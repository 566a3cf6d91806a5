/** `antidote convert` of training checkpoints ({model, optimizer, epoch, ...}) made by torch.save. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const W = join(FIXTURES, 'weights');
const tmp = tempDir('antidote-convert-key-');

const tensorNames = (file: string) => {
  const raw = readFileSync(file);
  const n = Number(raw.readBigUInt64LE(0));
  return Object.keys(JSON.parse(raw.subarray(8, 8 + n).toString()))
    .filter((k) => k !== '__metadata__')
    .sort();
};

describe('convert: training checkpoints', () => {
  it('finds the one nested state dict of {model, optimizer, epoch, step} and says which entry it took', () => {
    const out = join(tmp, 'auto.safetensors');
    const r = runCli(['convert', join(W, 'train_ckpt.pt'), '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(entry model)');
    expect(tensorNames(out)).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
  });

  it('refuses a checkpoint with two state dicts, listing them, until --key picks one', () => {
    const out = join(tmp, 'two.safetensors');
    const r = runCli(['convert', join(W, 'two_models.pt'), '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'antidote: error: the checkpoint holds 2 state dicts: model (4 tensors), ema (4 tensors); choose one with --key NAME',
    );
    const ok = runCli(['convert', join(W, 'two_models.pt'), '-o', out, '--key', 'ema']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(entry ema)');
  });

  it('an entry that does not exist is one line naming the entries there are', () => {
    const r = runCli(['convert', join(W, 'two_models.pt'), '-o', join(tmp, 'x.safetensors'), '--key', 'net']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no entry "net"; its entries: model, ema, epoch');
  });

  it('an entry that is not a state dict (the optimizer) is refused with what is wrong in it', () => {
    const r = runCli([
      'convert',
      join(W, 'train_ckpt.pt'),
      '-o',
      join(tmp, 'o.safetensors'),
      '--key',
      'optimizer',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/param_groups is a list, not a tensor/);
  });
});
