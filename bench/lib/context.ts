import type { Db } from '../../db/client.ts';
import type { BenchHub } from './hub.ts';
import type { Seeded } from './seed.ts';

/** What every scenario gets: the running hub, a raw postgres.js pool, the seeded tenant. */
export interface BenchContext {
  hub: BenchHub;
  /** The baseline pool: same size as the hub's, so both see the same database concurrency. */
  db: Db;
  seeded: Seeded;
  connections: number;
  /** Seconds per throughput run. */
  duration: number;
  progress(msg: string): void;
}

export const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)] as T;
