/** Open the store, build the app and listen: used by `antidote serve`, the tests and the benchmark. */
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { jsonLogger, type Logger } from './http.js';
import { Store } from './store.js';

export interface StartOptions {
  dataDir: string;
  url?: string;
  port?: number;
  host?: string;
  maxBody?: number;
  rateLimit?: number;
  quietLog?: boolean;
  log?: Logger;
  /** Serve the dashboard (default true). */
  dashboard?: boolean;
}

export interface Running {
  url: string;
  store: Store;
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions): Promise<Running> {
  const store = await Store.open({ dataDir: opts.dataDir, url: opts.url });
  const base = opts.log ?? jsonLogger();
  const log: Logger = opts.quietLog ? (e) => (Number(e.status) >= 400 ? base(e) : undefined) : base;
  let views: import('./app.js').Views | undefined;
  let assets: Map<string, { type: string; body: Buffer }> | undefined;
  if (opts.dashboard !== false) {
    const ui = await import('./views.js');
    views = ui.createViews();
    assets = await ui.loadAssets();
  }
  const server = createApp({ store, maxBody: opts.maxBody, rateLimit: opts.rateLimit, log, views, assets });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 120_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${addr.port}`,
    store,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
