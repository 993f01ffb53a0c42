import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';

export type Database = ReturnType<typeof drizzle<typeof schema>>;
/** A transaction handle: the same query API as Database, bound to one connection. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

export interface Db {
  db: Database;
  /** The raw postgres.js client, for COPY, LISTEN/NOTIFY and hand-written SQL. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

type Unsafe = postgres.Sql['unsafe'];

/**
 * drizzle sends every statement unprepared, so PostgreSQL plans the same SCIM query on every
 * request (planning costs more than running it). This view of the client prepares every
 * parameterised statement — postgres.js keeps them per connection, keyed by the SQL text,
 * which depends on the filter's shape only, never on its values.
 */
function preparing(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        const unsafe: Unsafe = (query, args, options) =>
          target.unsafe(query, args, args?.length ? { prepare: true, ...options } : options);
        return unsafe;
      }
      if (prop === 'begin') {
        return (...a: unknown[]) => {
          const last = a.length - 1;
          const fn = a[last] as (tx: postgres.Sql) => unknown;
          a[last] = (tx: postgres.Sql) => fn(preparing(tx));
          return (target.begin as (...x: unknown[]) => unknown)(...a);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

/**
 * Opens a pooled connection to PostgreSQL. `prepare: false` is for poolers in transaction
 * mode (PgBouncer), which cannot keep prepared statements.
 */
export function createDb(
  url: string,
  opts: { max?: number; prepare?: boolean; applicationName?: string } = {},
): Db {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'idhub' },
  });
  const db = drizzle(opts.prepare === false ? client : preparing(client), { schema });
  return { db, sql: client, close: () => client.end({ timeout: 5 }) };
}
