import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Every queue the hub defines; workers and job schedulers arrive with later work. */
export const QUEUE_NAMES = ['directory-sync', 'push', 'outbox-relay'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/**
 * Key prefix of every queue. The braces are a Redis Cluster hash tag: all of a queue's keys
 * land in one slot, which BullMQ's multi-key Lua scripts require.
 */
export const QUEUE_PREFIX = '{idhub}';

export interface QueueRegistry {
  byName: Record<QueueName, Queue>;
  /** The queues in QUEUE_NAMES order. */
  all: readonly Queue[];
  /** The producer connection the queues share (opened here, or the one passed in). */
  connection: Redis;
  /** Closes the queues, then the connection when the registry opened it. Idempotent. */
  close(): Promise<void>;
}

export interface QueueRegistryOptions {
  prefix?: string;
  logger?: Pick<Logger, 'warn'>;
}

/**
 * The one queue registry. Given a URL it opens one producer connection for all queues with
 * the offline queue off, so adding a job fails fast while Redis is down (BullMQ, "going to
 * production"); given a connection it shares it and leaves closing it to its owner.
 */
export function createQueues(
  redis: string | Redis,
  opts: QueueRegistryOptions = {},
): QueueRegistry {
  const owned = typeof redis === 'string';
  const connection = owned
    ? new Redis(redis, { maxRetriesPerRequest: null, enableOfflineQueue: false })
    : redis;
  if (owned) connection.on('error', (err) => opts.logger?.warn({ err }, 'queue connection'));
  const prefix = opts.prefix ?? QUEUE_PREFIX;
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, { connection, prefix });
    queue.on('error', (err) => opts.logger?.warn({ err, queue: name }, 'queue'));
    return [name, queue] as const;
  });
  const byName = Object.fromEntries(entries) as Record<QueueName, Queue>;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await Promise.allSettled(entries.map(([, q]) => q.close()));
      if (owned) await quit(connection);
    })();
    return closing;
  };
  return { byName, all: entries.map(([, q]) => q), connection, close };
}

/** QUIT, then wait until the socket is gone (disconnecting outright if Redis does not answer). */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'end') return;
  const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
  await connection.quit().catch(() => connection.disconnect());
  const timer = setTimeout(() => connection.disconnect(), 1000);
  await ended;
  clearTimeout(timer);
}
