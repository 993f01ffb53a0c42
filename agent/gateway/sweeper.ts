/**
 * Each replica's periodic pass over the store, the fallback for every lost notification:
 * drop streams of silent (half-open) or revoked agents, hand expired leases back or fail them,
 * expire past-deadline commands, settle callers whose answers were stored elsewhere, and pump
 * the groups streamed here.
 */
import type { Logger } from 'pino';
import type { BusMessage } from './bus.ts';
import type { Calls } from './calls.ts';
import type { createDispatcher } from './dispatch.ts';
import type { CommandStore } from './store.ts';
import type { StreamRegistry } from './streams.ts';

export function createSweeper(deps: {
  store: CommandStore;
  streams: StreamRegistry;
  calls: Calls;
  dispatcher: ReturnType<typeof createDispatcher>;
  notify(m: BusMessage): void;
  logger: Logger;
  replica: string;
  maxAttempts: number;
  /** A streamed agent silent this long is dropped. */
  silentMs: number;
}) {
  const { store, streams, calls, dispatcher, notify } = deps;
  let sweeping = false;

  /** Drops streams of agents that stopped heartbeating (half-open) or were revoked. */
  async function checkLiveness(): Promise<void> {
    const ids = streams.agentIds();
    if (!ids.length) return;
    const now = Date.now();
    for (const r of await store.touchStreaming(ids, deps.replica)) {
      for (const s of streams.streamsOf(r.id)) {
        const heard = Math.max(s.openedAt, r.lastSeenAt ? new Date(r.lastSeenAt).getTime() : 0);
        if (r.revokedAt) s.close('revoked');
        else if (now - heard > deps.silentMs) s.close('no heartbeat');
      }
    }
  }

  async function requeueAndExpire(): Promise<void> {
    for (const c of await store.sweep(deps.maxAttempts)) {
      if (c.state === 'pending') {
        notify({ type: 'dispatch', tenantId: c.tenantId, group: c.agentGroup });
        continue;
      }
      if (c.state === 'expired' && c.agentId) {
        notify({ type: 'cancel', id: c.id, agentId: c.agentId, reason: 'deadline passed' });
      }
      notify({ type: 'done', id: c.id, agentId: null, tenantId: c.tenantId, group: c.agentGroup });
    }
  }

  return async function sweep(): Promise<void> {
    if (sweeping) return;
    sweeping = true;
    try {
      // Streams of silent agents go first: their expired leases must not be re-leased to them.
      await checkLiveness();
      await requeueAndExpire();
      await calls.settleFromStore(calls.waitingIds());
      for (const g of streams.groups()) void dispatcher.pump(g.tenantId, g.group);
    } catch (err) {
      deps.logger.warn({ err }, 'agent gateway: sweep failed');
    } finally {
      sweeping = false;
    }
  };
}
