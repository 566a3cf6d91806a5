/**
 * Runs once per `vitest run`, before any worker starts.
 *
 * - Gives the run its own temporary folder and points TMPDIR at it, so every folder a test or a CLI child
 *   creates with os.tmpdir() lands there. Tests remove what they create; the teardown names anything left
 *   (so a leak is seen and mended) and then removes the run's folder, and only that folder.
 * - Expands the committed, gzip-compressed datasets (test/fixtures/data, see copy-from-shared.sh) into
 *   `<run folder>/data` one folder per dataset, for the tests and generators that read a data folder.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIXTURE_DATA = join(ROOT, 'test', 'fixtures', 'data');

let runDir = '';
let previousTmp: string | undefined;

function expandData(into: string): void {
  for (const name of readdirSync(FIXTURE_DATA)) {
    mkdirSync(join(into, name), { recursive: true });
    for (const f of readdirSync(join(FIXTURE_DATA, name))) {
      if (f.endsWith('.gz'))
        writeFileSync(
          join(into, name, f.slice(0, -3)),
          gunzipSync(readFileSync(join(FIXTURE_DATA, name, f))),
        );
    }
  }
  // SST-2's clean splits are committed once, as the demo's examples/sst2.
  for (const s of ['train', 'dev', 'test'])
    copyFileSync(join(ROOT, 'examples', 'sst2', `${s}.tsv`), join(into, 'sst2-badnets', `clean_${s}.tsv`));
}

export function setup(): void {
  previousTmp = process.env.TMPDIR;
  runDir = mkdtempSync(join(tmpdir(), 'antidote-test-run-'));
  const tmp = join(runDir, 'tmp');
  const data = join(runDir, 'data');
  mkdirSync(tmp);
  expandData(data);
  process.env.TMPDIR = tmp;
  process.env.ANTIDOTE_TEST_DATA = data;
}

export function teardown(): void {
  if (!runDir) return;
  const left = readdirSync(join(runDir, 'tmp'));
  if (left.length > 0)
    console.warn(
      `tests left ${left.length} temporary entries (removed now): ${left.slice(0, 20).join(', ')}`,
    );
  rmSync(runDir, { recursive: true, force: true });
  if (previousTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmp;
}
