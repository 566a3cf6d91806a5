/**
 * antidote serve: the history of audits, gates and scans behind a REST API and a dashboard.
 *   antidote serve --port 8700 --data DIR [--db postgres://...] [--host 127.0.0.1]
 *   antidote serve token create --role viewer|reviewer|admin [--name N] --data DIR   (prints the token once)
 *   antidote serve import DIR...                     record existing report folders
 *   antidote serve export-trusted --out FILE [--run ID]  cleared rows and confirmed corrections
 */
import { type Command, Option } from 'commander';
import { usageError } from '../core/errors.js';
import { action, EXIT } from './run.js';

interface StoreFlags {
  data: string;
  db?: string;
}

const DEFAULT_DATA = 'antidote-server';

/**
 * --data and --db belong to `serve` and are parsed there even when written after a subcommand; the
 * subcommands list them for their help and read the merged values (optsWithGlobals).
 */
function storeOptions(cmd: Command, withDefault = false): Command {
  return cmd
    .option(
      '--data <dir>',
      'folder of the embedded store (a DuckDB file)',
      withDefault ? DEFAULT_DATA : undefined,
    )
    .addOption(
      new Option('--db <url>', 'PostgreSQL instead of the embedded store: postgres://user:pass@host/db').env(
        'ANTIDOTE_DB',
      ),
    );
}

function merged<T>(cmd: Command): StoreFlags & T {
  const all = cmd.optsWithGlobals() as StoreFlags & T;
  return { ...all, data: all.data ?? DEFAULT_DATA };
}

async function openStore(flags: StoreFlags) {
  const { Store } = await import('../server/store.js');
  return Store.open({ dataDir: flags.data, url: flags.db });
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('serve the run history, model versions and the review queue (REST API and dashboard)')
    .option('--port <n>', 'TCP port', '8700')
    .option('--host <addr>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--max-body <mib>', 'largest accepted run post, in MiB', '64')
    .option('--rate-limit <n>', 'requests per minute per token', '600')
    .option('--quiet-log', 'log only refused requests and errors');
  storeOptions(serve, true);
  serve.action(
    action(
      async (
        flags: StoreFlags & {
          port: string;
          host: string;
          maxBody: string;
          rateLimit: string;
          quietLog?: boolean;
        },
      ) => {
        const port = Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw usageError(`--port must be a TCP port number (got "${flags.port}")`);
        const maxBody = Number(flags.maxBody);
        if (!(maxBody > 0 && maxBody <= 1024)) throw usageError('--max-body must be between 0 and 1024 MiB');
        const rate = Number(flags.rateLimit);
        if (!(rate >= 1)) throw usageError('--rate-limit must be at least 1 request per minute');
        const { startServer } = await import('../server/start.js');
        const s = await startServer({
          dataDir: flags.data,
          url: flags.db,
          port,
          host: flags.host,
          maxBody: Math.floor(maxBody * 1024 * 1024),
          rateLimit: rate,
          quietLog: flags.quietLog,
        });
        process.stdout.write(`antidote: serving on ${s.url} (store: ${s.store.dialect})\n`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            s.close().then(resolve, resolve);
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return EXIT.ok;
      },
    ),
  );

  const token = serve.command('token').description('API tokens');
  storeOptions(
    token
      .command('create')
      .description('create a token with a role; it is printed once and stored only as its SHA-256')
      .requiredOption(
        '--role <role>',
        'viewer (read), reviewer (read, review) or admin (read, review, post runs)',
      )
      .option('--name <name>', 'who or what uses the token (recorded with each review)'),
  ).action(
    action(async (_f: unknown, cmd: Command) => {
      const flags = merged<{ role: string; name?: string }>(cmd);
      const { ROLES } = await import('../server/schema.js');
      if (!(ROLES as readonly string[]).includes(flags.role))
        throw usageError(`--role must be viewer, reviewer or admin (got "${flags.role}")`);
      const name = flags.name ?? `${flags.role}-${new Date().toISOString().slice(0, 10)}`;
      if (name.length > 100) throw usageError('--name is at most 100 characters');
      const { newToken, hashToken } = await import('../server/auth.js');
      const store = await openStore(flags);
      try {
        const t = newToken();
        await store.addToken(hashToken(t), flags.role as 'viewer', name);
        process.stdout.write(`${t}\n`);
        process.stderr.write(`antidote: ${flags.role} token "${name}" created; it is shown only this once\n`);
      } finally {
        await store.close();
      }
    }),
  );

  storeOptions(
    serve
      .command('import')
      .description(
        'record existing report folders (report.json of audit, gate or scan, searched recursively)',
      )
      .argument('<dir...>', 'folders holding report.json files'),
  ).action(
    action(async (dirs: string[], _f: unknown, cmd: Command) => {
      const flags = merged(cmd);
      const { importFolders } = await import('../server/import.js');
      const store = await openStore(flags);
      try {
        const r = await importFolders(store, dirs);
        process.stdout.write(
          `antidote: ${r.created} run${r.created === 1 ? '' : 's'} recorded, ${r.existing} already there, ${r.skipped.length} skipped\n`,
        );
        for (const s of r.skipped) process.stderr.write(`  skipped ${s}\n`);
        return r.skipped.length ? EXIT.findings : EXIT.ok;
      } finally {
        await store.close();
      }
    }),
  );

  storeOptions(
    serve
      .command('export-trusted')
      .description('write the cleared rows and confirmed corrections as additions to the trusted set')
      .requiredOption('--out <file>', 'output table: .csv, .tsv or .jsonl (written atomically)')
      .option('--run <id>', 'only this audit run'),
  ).action(
    action(async (_f: unknown, cmd: Command) => {
      const flags = merged<{ out: string; run?: string }>(cmd);
      const { exportTrusted } = await import('../server/import.js');
      const store = await openStore(flags);
      try {
        const n = await exportTrusted(store, flags.out, flags.run);
        process.stdout.write(`antidote: ${n} row${n === 1 ? '' : 's'} written to ${flags.out}\n`);
      } finally {
        await store.close();
      }
    }),
  );
}
