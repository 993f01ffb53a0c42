import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Database, Tx } from '../../db/client.ts';

/** Either the pool or a caller's open transaction (directory sync passes its own). */
export type Executor = Database | Tx;

/**
 * Runs `fn` atomically: in a new transaction on a pool, or in a savepoint inside a caller's
 * transaction — so a refused operation rolls back only its own work and a batch caller may
 * carry on with the next item.
 */
export function inTransaction<T>(db: Executor, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return (db as Tx).transaction(fn);
  return (db as Database).transaction(fn);
}
