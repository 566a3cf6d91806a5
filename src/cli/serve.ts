/**
 * antidote serve: the history of audits, gates and scans behind a REST API and a dashboard.
 *   antidote serve --port 8700 --data DIR [--db postgres://...] [--host 127.0.0.1]
 *   antidote serve token create --role viewer|reviewer|admin [--name N] --data DIR   (prints the token once)
 *   antidote serve token list | revoke ID [--server URL]   (on the store, or through a running server)
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

/** A call to a running server's API with the admin token in $ANTIDOTE_TOKEN; undefined on 404 when asked. */
async function callServer(
  base: string,
  method: string,
  path: string,
  missingOk = false,
  body?: unknown,
): Promise<unknown> {
  const { AntidoteError } = await import('../core/errors.js');
  const { TOKEN_ENV } = await import('./post.js');
  const token = process.env[TOKEN_ENV];
  if (!token) throw usageError(`--server needs an admin token in $${TOKEN_ENV}`);
  let url: URL;
  try {
    url = new URL(path, base);
  } catch {
    throw usageError(`--server must be a server URL such as http://127.0.0.1:8700 (got "${base}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--server must be an http(s) URL (got "${base}")`);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new AntidoteError('E_IO', `cannot reach ${url.origin}: ${(err as Error).message}`, {
      hint: 'is the server running?',
    });
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 404 && missingOk) return undefined;
  if (!res.ok)
    throw new AntidoteError(
      'E_IO',
      `the server refused (HTTP ${res.status}): ${answer.error ?? res.statusText}`,
      {
        hint: 'creating, listing and revoking tokens needs an admin token',
      },
    );
  return answer;
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
  const serverOption = () =>
    new Option(
      '--server <url>',
      'ask a running server instead of opening the store (token in $ANTIDOTE_TOKEN, admin)',
    );

  storeOptions(
    token
      .command('create')
      .description('create a token with a role; it is printed once and stored only as its SHA-256')
      .requiredOption(
        '--role <role>',
        'viewer (read), reviewer (read, review) or admin (read, review, post runs)',
      )
      .option('--name <name>', 'who or what uses the token (recorded with each review)')
      .addOption(serverOption()),
  ).action(
    action(async (_f: unknown, cmd: Command) => {
      const flags = merged<{ role: string; name?: string; server?: string }>(cmd);
      const { ROLES } = await import('../server/schema.js');
      if (!(ROLES as readonly string[]).includes(flags.role))
        throw usageError(`--role must be viewer, reviewer or admin (got "${flags.role}")`);
      const name = flags.name ?? `${flags.role}-${new Date().toISOString().slice(0, 10)}`;
      if (name.length > 100) throw usageError('--name is at most 100 characters');
      const created = (t: string, id: string) => {
        process.stdout.write(`${t}\n`);
        process.stderr.write(
          `antidote: ${flags.role} token "${name}" created (id ${id}); it is shown only this once\n`,
        );
      };
      if (flags.server) {
        const r = (await callServer(flags.server, 'POST', '/api/tokens', false, {
          role: flags.role,
          name,
        })) as {
          token: string;
          id: string;
        };
        created(r.token, r.id);
        return;
      }
      const { newToken, hashToken } = await import('../server/auth.js');
      const store = await openStore(flags);
      try {
        const t = newToken();
        await store.addToken(hashToken(t), flags.role as 'viewer', name);
        created(t, hashToken(t).slice(0, 12));
      } finally {
        await store.close();
      }
    }),
  );

  storeOptions(
    token
      .command('list')
      .description('list the tokens: id, role, name, created, revoked (never the token itself)')
      .addOption(serverOption()),
  ).action(
    action(async (_f: unknown, cmd: Command) => {
      const flags = merged<{ server?: string }>(cmd);
      type Info = { id: string; role: string; name: string; createdAt: string; revokedAt: string | null };
      let list: Info[];
      if (flags.server)
        list = ((await callServer(flags.server, 'GET', '/api/tokens')) as { tokens: Info[] }).tokens;
      else {
        const store = await openStore(flags);
        try {
          list = await store.listTokens();
        } finally {
          await store.close();
        }
      }
      for (const t of list)
        process.stdout.write(
          `${t.id}  ${t.role.padEnd(8)}  ${t.createdAt}  ${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}  ${t.name}\n`,
        );
      if (!list.length) process.stderr.write('antidote: no tokens\n');
    }),
  );

  storeOptions(
    token
      .command('revoke')
      .description('revoke a token by its id (from `token list`); every route refuses it from then on')
      .argument('<id>', 'the token id: 12 hexadecimal characters')
      .addOption(serverOption()),
  ).action(
    action(async (id: string, _f: unknown, cmd: Command) => {
      const flags = merged<{ server?: string }>(cmd);
      const { TOKEN_ID } = await import('../server/store.js');
      if (!TOKEN_ID.test(id))
        throw usageError(
          `a token id is 12 hexadecimal characters, as \`antidote serve token list\` shows (got "${id}")`,
        );
      let out: 'revoked' | 'already' | 'unknown';
      if (flags.server) {
        const r = (await callServer(flags.server, 'POST', `/api/tokens/${id}/revoke`, true)) as
          | { already: boolean }
          | undefined;
        out = r === undefined ? 'unknown' : r.already ? 'already' : 'revoked';
      } else {
        const store = await openStore(flags);
        try {
          out = await store.revokeToken(id);
        } finally {
          await store.close();
        }
      }
      if (out === 'unknown') throw usageError(`no token with id ${id}; see \`antidote serve token list\``);
      process.stdout.write(
        `antidote: token ${id} ${out === 'already' ? 'was already revoked' : 'revoked'}\n`,
      );
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
