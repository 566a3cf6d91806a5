/**
 * The shard index of a sharded model (`model.safetensors.index.json`, `pytorch_model.bin.index.json`):
 * `weight_map` maps each tensor name to a shard file. Shards must be plain names in the index's folder:
 * a path that leaves the folder is refused, as a loader following it would read another file.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isJsonObject, parseStrictJson } from '../../artifacts/formats/strict-json.js';
import { inputError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';

export interface ShardIndex {
  /** tensor name -> shard path */
  weightMap: Map<string, string>;
  shards: string[];
}

export async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  const raw = await readFile(indexPath);
  if (raw.length > LIMITS.headers.maxJsonConfig)
    throw inputError(`${indexPath} is ${raw.length} bytes, larger than a shard index should be`);
  let doc: unknown;
  try {
    doc = parseStrictJson(raw, { maxDepth: 8 });
  } catch (err) {
    throw inputError(`${indexPath} is not valid JSON: ${(err as Error).message}`);
  }
  const wm = isJsonObject(doc as never) ? (doc as Record<string, unknown>).weight_map : undefined;
  if (!wm || typeof wm !== 'object' || Array.isArray(wm))
    throw inputError(`${indexPath} has no weight_map object`, 'is this a shard index?');
  const dir = dirname(indexPath);
  const weightMap = new Map<string, string>();
  const shards = new Set<string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard === '' || /[\\/]/.test(shard) || shard === '.' || shard === '..')
      throw inputError(
        `${indexPath}: tensor ${name} points to ${JSON.stringify(shard)}, not a file beside the index`,
      );
    const p = join(dir, shard);
    weightMap.set(name, p);
    shards.add(p);
  }
  if (!weightMap.size) throw inputError(`${indexPath}: the weight_map is empty`);
  return { weightMap, shards: [...shards].sort() };
}
