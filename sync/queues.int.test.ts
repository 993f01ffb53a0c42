import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createQueues, QUEUE_NAMES, QUEUE_PREFIX } from './queues.ts';

const reEscape = (s: string) => s.replace(/[{}]/g, '\\$&');
const url = inject('redisUrl');
const probe = new Redis(url, { lazyConnect: true });
afterAll(() => probe.disconnect());

describe('queue registry', () => {
  it('defines exactly the hub queues under the hash-tagged prefix', async () => {
    const registry = createQueues(url);
    try {
      expect(QUEUE_NAMES).toEqual(['directory-sync', 'push', 'outbox-relay']);
      expect(registry.all.map((q) => q.name)).toEqual([...QUEUE_NAMES]);
      expect(Object.keys(registry.byName).sort()).toEqual([...QUEUE_NAMES].sort());
      expect(QUEUE_PREFIX).toBe('{idhub}');
      for (const q of registry.all) expect(q.opts.prefix).toBe('{idhub}');
      // One producer connection for the lot, failing fast while Redis is away.
      expect(registry.connection.options.enableOfflineQueue).toBe(false);
      await registry.byName.push.getJobCounts();
      expect(registry.connection.status).toBe('ready');
    } finally {
      await registry.close();
    }
  });

  it('keeps every key of a queue under one Redis Cluster hash tag', async () => {
    const prefix = `{idhub-test-${process.pid}-${Date.now()}}`;
    const registry = createQueues(url, { prefix });
    try {
      await registry.byName.push.add('probe', { targetId: 't1' });
      const keys = await probe.keys(`*${prefix.slice(1, -1)}*`);
      expect(keys.length).toBeGreaterThan(0);
      const names = QUEUE_NAMES.join('|');
      for (const key of keys) expect(key).toMatch(new RegExp(`^${reEscape(prefix)}:(${names}):`));
      expect(keys.some((k) => k.startsWith(`${prefix}:push:`))).toBe(true);
      expect(await registry.byName.push.getJobCounts('waiting')).toEqual({ waiting: 1 });
    } finally {
      await Promise.all(registry.all.map((q) => q.obliterate({ force: true })));
      await registry.close();
    }
  });

  it('closes its own connection, idempotently, and leaves a shared one open', async () => {
    const owned = createQueues(url);
    await owned.byName.push.getJobCounts();
    const client = owned.connection;
    expect(client.status).toBe('ready');
    await Promise.all([owned.close(), owned.close()]);
    await owned.close();
    expect(client.status).toBe('end');

    const shared = new Redis(url, { maxRetriesPerRequest: null });
    const borrowed = createQueues(shared);
    await borrowed.byName['outbox-relay'].getJobCounts();
    await borrowed.close();
    expect(shared.status).toBe('ready');
    expect(await shared.ping()).toBe('PONG');
    shared.disconnect();
  });
});
