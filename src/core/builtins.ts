/**
 * Node built-ins that most runs never use, loaded on first use. Importing node:zlib, node:crypto or node:v8
 * costs 1 to 5 ms each at every start, before any work, and a scan of a safetensors file or `--help` needs
 * none of them.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

let zlibModule: typeof import('node:zlib') | undefined;
let cryptoModule: typeof import('node:crypto') | undefined;

export function zlib(): typeof import('node:zlib') {
  zlibModule ??= load('node:zlib') as typeof import('node:zlib');
  return zlibModule;
}

export function crypto(): typeof import('node:crypto') {
  cryptoModule ??= load('node:crypto') as typeof import('node:crypto');
  return cryptoModule;
}
