/**
 * Moves pending commands to the agents streaming to this replica: lease in the store (one
 * statement, SKIP LOCKED, so replicas never lease the same command twice), then write the SSE
 * event. Pumps for one (tenant, group) never overlap; a request arriving mid-pump reruns it.
 */
import type { Logger } from 'pino';
import { formatSseEvent } from '../protocol.ts';
import type { CommandStore, LeasedRow } from './store.ts';
import type { LocalStream, StreamRegistry } from './streams.ts';

/** Commands one agent holds at once (the agent queues beyond its own concurrency). */
export const MAX_IN_FLIGHT_PER_AGENT = 16;

export function createDispatcher(deps: {
  store: CommandStore;
  streams: StreamRegistry;
  leaseMs: () => number;
  logger: Logger;
}) {
  const { store, streams, logger } = deps;
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();

  /** Writes commands to a stream; a failed write leaves the lease to expire and move on. */
  function send(stream: LocalStream, rows: LeasedRow[]): void {
    for (const row of rows) {
      streams.markSent(row.id, stream.agent.agentId, row.kind);
      // A replay racing the pump on a new stream must not send the same lease twice; a new
      // lease of the command (it came back after a lost one) is sent again.
      if (stream.written.get(row.id) === row.attempts) continue;
      stream.written.set(row.id, row.attempts);
      if (!stream.write(formatSseEvent(store.toCommand(row)))) {
        logger.warn({ commandId: row.id, agentId: stream.agent.agentId }, 'stream closed mid-send');
      }
    }
  }

  async function pumpOnce(tenantId: string, group: string): Promise<void> {
    const agents = streams.agentsOf(tenantId, group);
    // With one agent here, lease its whole capacity at once; with several, one at a time
    // round-robin so the least busy agent gets the next command.
    const batch = agents.length === 1 ? MAX_IN_FLIGHT_PER_AGENT : 1;
    let progress = true;
    while (progress) {
      progress = false;
      for (const agent of streams.agentsOf(tenantId, group)) {
        const room = Math.min(batch, MAX_IN_FLIGHT_PER_AGENT - streams.load(agent.agentId));
        const stream = streams.streamOf(agent.agentId);
        if (room <= 0 || !stream) continue;
        const rows = await store.lease(agent, room, deps.leaseMs());
        if (rows.length === 0) continue;
        send(stream, rows);
        progress = rows.length === room;
      }
    }
  }

  function pump(tenantId: string, group: string): Promise<void> {
    const key = `${tenantId}/${group}`;
    const current = running.get(key);
    if (current) {
      again.add(key);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(key);
          await pumpOnce(tenantId, group);
        } while (again.has(key));
      } catch (err) {
        logger.warn({ err, tenantId, group }, 'agent gateway: dispatch failed');
      } finally {
        running.delete(key);
      }
    })();
    running.set(key, run);
    return run;
  }

  return {
    pump,
    /** Re-sends what is leased to the agent (reconnect, hub restart), then pumps. */
    async replay(stream: LocalStream): Promise<void> {
      const rows = await store.leasedTo(stream.agent.agentId, deps.leaseMs());
      send(stream, rows);
      await pump(stream.agent.tenantId, stream.agent.group);
    },
    idle: () => Promise.all([...running.values()]).then(() => undefined),
  };
}
