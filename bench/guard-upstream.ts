/** The model server of bench/guard-proxy.bench.ts, in its own process: prints its URL, serves until killed. */
import { startModelServer } from '../test/guard/watch-fixtures.js';

const s = await startModelServer();
console.log(s.url);
