import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AtomicBatch, writeFileAtomic } from '../../src/core/atomic-write.js';
import { tempDir } from '../helpers/tmp.js';

describe('atomic writes', () => {
  it('leaves only the final file', async () => {
    const dir = tempDir('antidote-aw-');
    await writeFileAtomic(join(dir, 'out.json'), '{"a":1}');
    expect(readdirSync(dir)).toEqual(['out.json']);
    expect(readFileSync(join(dir, 'out.json'), 'utf8')).toBe('{"a":1}');
  });
  it('an aborted batch leaves nothing behind', async () => {
    const dir = tempDir('antidote-aw-');
    const b = new AtomicBatch();
    await b.write(join(dir, 'a.csv'), 'x');
    await b.write(join(dir, 'b.csv'), 'y');
    // Two pending temporary files, neither under its final name yet.
    const pending = readdirSync(dir);
    expect(pending).toHaveLength(2);
    expect(pending.every((f) => f.startsWith('.antidote-tmp-'))).toBe(true);
    await b.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
