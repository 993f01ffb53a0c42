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

/** Opens a pooled connection to PostgreSQL. */
export function createDb(url: string, opts: { max?: number } = {}): Db {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: 'idhub' },
  });
  const db = drizzle(client, { schema });
  return { db, sql: client, close: () => client.end({ timeout: 5 }) };
}
