/**
 * The Hugging Face cache layout (`hub/models--ORG--NAME/{blobs,snapshots/REV,refs}`): a snapshot folder holds
 * only symbolic links into the same entry's `blobs/`, where each file's bytes are. Commands that otherwise
 * never follow a link (scan, lock) read those as the files they name, so a cached model can be checked where
 * loaders read it.
 */
import { sep } from 'node:path';

/**
 * The `blobs/` folder (with a trailing separator) of the cache entry a real path lies in, when the path is the
 * entry's `snapshots/` folder or under it; undefined otherwise.
 */
export function cacheBlobs(real: string): string | undefined {
  const parts = real.split(sep);
  for (let i = parts.length - 2; i >= 0; i--) {
    if (/^(models|datasets|spaces)--./.test(parts[i]) && parts[i + 1] === 'snapshots')
      return [...parts.slice(0, i + 1), 'blobs', ''].join(sep);
  }
  return undefined;
}
