/**
 * The hub's agent gateway: `call` stores a command, wakes the replica streaming to an agent of
 * the data source's group (Redis pub/sub), and waits for the result that agent posts to any
 * replica. Every replica sweeps the store on a timer: expired leases move to another agent,
 * past-deadline commands expire, and waiters whose wake-up was lost still settle.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import {
  type Command,
  type CommandKind,
  type CommandResult,
  failure,
  type ResultData,
} from '../protocol.ts';
import { createAgentAuth } from './auth.ts';
import { type BusMessage, createBus } from './bus.ts';
import { createDirectRunner } from './direct.ts';
import { createDispatcher } from './dispatch.ts';
import { createGatewayMetrics } from './metrics.ts';
import { createCommandStore } from './store.ts';
import { createStreamRegistry } from './streams.ts';
import {
  type AgentGateway,
  type AgentLiveStatus,
  type CallOptions,
  type CallPayload,
  type DataSourceRef,
  GatewayError,
} from './types.ts';

export interface GatewayOptions {
  sql: postgres.Sql;
  redis: Redis;
  logger: Logger;
  replica: string;
  agentVersion: string;
  heartbeatMs: number;
  adminTimeoutMs: number;
  operationTimeoutMs: number;
  maxAttempts: number;
  /** Largest result body an agent may post (413 beyond). */
  maxResultBytes: number;
  certHeader?: string;
  requireClientChain?: boolean;
}

const ADMIN_KINDS = new Set<CommandKind>([
  'ping',
  'testConnection',
  'listAttributes',
  'listResourceTypes',
]);

interface Waiter {
  kind: CommandKind;
  settle(result: CommandResult, agentId: string | null): void;
}

export type HubGateway = ReturnType<typeof createGateway>;

/** Cheap to create: the pub/sub subscription and the sweep timer start on first use. */
export function createGateway(opts: GatewayOptions) {
  const { sql, logger } = opts;
  const store = createCommandStore(sql);
  const streams = createStreamRegistry();
  const auth = createAgentAuth(sql, {
    certHeader: opts.certHeader,
    requireChain: opts.requireClientChain,
  });
  const metrics = createGatewayMetrics(streams);
  const direct = createDirectRunner(logger, opts.agentVersion);
  /** Leases outlive a few missed heartbeats; heartbeats renew every lease of a live agent. */
  const leaseMs = () => opts.heartbeatMs * 3;
  /** A streamed agent silent this long is dropped — before its leases (3×) expire. */
  const silentMs = opts.heartbeatMs * 2.5;
  const dispatcher = createDispatcher({ store, streams, leaseMs, logger });
  const waiters = new Map<string, Waiter>();

  let busInstance: ReturnType<typeof createBus> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const tick = Math.max(100, Math.min(1000, Math.floor(opts.heartbeatMs / 2)));
  /** Subscribes and starts sweeping, once; every entry point calls it. */
  function start() {
    if (!busInstance) {
      busInstance = createBus(opts.redis, logger, (m) => onBus(m));
      timer = setInterval(() => void sweep(), tick);
      timer.unref();
    }
    return busInstance;
  }
  const bus = { publish: (m: BusMessage) => start().publish(m) };
  /** Acts on a message here at once (no Redis round trip) and tells the other replicas. */
  function notify(m: BusMessage): void {
    onBus(m);
    void bus.publish(m);
  }

  function onBus(m: BusMessage): void {
    if (m.type === 'dispatch') void dispatcher.pump(m.tenantId, m.group);
    else if (m.type === 'done') {
      streams.markDone(m.id);
      void settleFromStore([m.id]);
      void dispatcher.pump(m.tenantId, m.group);
    } else if (m.type === 'cancel') {
      for (const s of streams.streamsOf(m.agentId)) {
        s.write(`event: cancel\ndata: ${JSON.stringify({ id: m.id, reason: m.reason })}\n\n`);
      }
    } else if (m.type === 'revoke') {
      auth.forget(m.agentId);
      for (const s of streams.streamsOf(m.agentId)) s.close('revoked');
    }
  }

  async function settleFromStore(ids: string[]): Promise<void> {
    const wanted = ids.filter((id) => waiters.has(id));
    if (!wanted.length) return;
    const rows = await sql<{ id: string; agentId: string | null; result: CommandResult }[]>`
      select id, agent_id as "agentId", result from agent_commands
      where id = any(${wanted}::uuid[]) and state not in ('pending', 'leased')`;
    for (const r of rows) waiters.get(r.id)?.settle(r.result, r.agentId);
  }

  async function dataSource(tenantId: string, id: string): Promise<DataSourceRef> {
    const [row] = await sql<DataSourceRef[]>`
      select id, tenant_id as "tenantId", name, kind, agent_enabled as "agentEnabled",
             agent_group as "agentGroup", config
      from data_sources where id = ${id} and tenant_id = ${tenantId}`;
    if (!row) throw new GatewayError('not_found', `no data source "${id}"`);
    return row;
  }

  async function anyAgentLive(ds: DataSourceRef, target?: string): Promise<boolean> {
    const [row] = await sql`
      select 1 from agents
      where tenant_id = ${ds.tenantId} and agent_group = ${ds.agentGroup} and revoked_at is null
        and connected_to is not null
        and last_seen_at > now() - make_interval(secs => ${leaseMs() / 1000})
        and (${target ?? null}::uuid is null or id = ${target ?? null}::uuid)
      limit 1`;
    return Boolean(row);
  }

  function timeoutOf(kind: CommandKind, o?: CallOptions): number {
    return o?.timeoutMs ?? (ADMIN_KINDS.has(kind) ? opts.adminTimeoutMs : opts.operationTimeoutMs);
  }

  /** Runs a command through an agent; resolves with the result and who answered. */
  async function viaAgent(
    ds: DataSourceRef,
    kind: CommandKind,
    payload: Record<string, unknown>,
    o: CallOptions | undefined,
    target?: string,
  ): Promise<{ result: CommandResult; agentId: string | null }> {
    if (!(await anyAgentLive(ds, target))) {
      throw new GatewayError(
        'unavailable',
        target
          ? 'the agent serving this search is no longer connected; restart the search'
          : `no agent of group "${ds.agentGroup}" is connected`,
      );
    }
    const timeout = timeoutOf(kind, o);
    const deadline = new Date(Date.now() + timeout);
    const id = await store.insert({
      tenantId: ds.tenantId,
      dataSourceId: ds.id,
      agentGroup: ds.agentGroup,
      kind,
      payload,
      deadline,
      targetAgentId: target,
    });
    return new Promise((resolve, reject) => {
      const giveUp = (state: 'expired' | 'failed', error: GatewayError) => {
        const code = error.code === 'timeout' ? 'timeout' : 'refused';
        void store
          .finish(id, state, failure(code, error.message))
          .then(async ({ changed, agentId }) => {
            const row = changed ? undefined : await store.read(id);
            // A result that won the race is the answer.
            if (row?.result && row.state !== 'expired') return done(row.result, row.agentId);
            const holder = agentId ?? row?.agentId;
            if (holder) notify({ type: 'cancel', id, agentId: holder, reason: error.message });
            cleanup();
            reject(error);
          })
          .catch((err: unknown) => {
            cleanup();
            reject(err);
          });
      };
      const timer = setTimeout(
        () => giveUp('expired', new GatewayError('timeout', `no result within ${timeout} ms`)),
        timeout + 250,
      );
      const onAbort = () => giveUp('failed', new GatewayError('cancelled', 'the caller cancelled'));
      o?.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        o?.signal?.removeEventListener('abort', onAbort);
        waiters.delete(id);
      };
      const done = (result: CommandResult, agentId: string | null) => {
        cleanup();
        resolve({ result, agentId });
      };
      waiters.set(id, { kind, settle: done });
      notify({ type: 'dispatch', tenantId: ds.tenantId, group: ds.agentGroup });
    });
  }

  async function run(
    tenantId: string,
    dataSourceId: string,
    kind: CommandKind,
    payload: Record<string, unknown>,
    o?: CallOptions,
    target?: string,
  ): Promise<{ data: unknown; agentId: string | null }> {
    start();
    const started = performance.now();
    let outcome = 'ok';
    try {
      const ds = await dataSource(tenantId, dataSourceId);
      let answer: { result: CommandResult; agentId: string | null };
      if (ds.agentEnabled) answer = await viaAgent(ds, kind, payload, o, target);
      else {
        const command = {
          id: randomUUID(),
          kind,
          dataSource: ds.name,
          payload,
          deadline: new Date(Date.now() + timeoutOf(kind, o)).toISOString(),
        } as Command;
        const signal = AbortSignal.any([
          AbortSignal.timeout(timeoutOf(kind, o)),
          ...(o?.signal ? [o.signal] : []),
        ]);
        answer = { result: await direct.run(ds, command, signal), agentId: null };
      }
      const r = answer.result;
      if (!r.ok) throw new GatewayError(r.error.code, r.error.message, r.error.remoteCode);
      return { data: r.data, agentId: answer.agentId };
    } catch (e) {
      outcome = e instanceof GatewayError ? e.code : 'error';
      throw e;
    } finally {
      metrics.observe(kind, outcome, (performance.now() - started) / 1000);
    }
  }

  let sweeping = false;
  async function sweep(): Promise<void> {
    if (sweeping) return;
    sweeping = true;
    try {
      // Streams of silent agents go first: their expired leases must not be re-leased to them.
      await checkLiveness();
      const changed = await store.sweep(opts.maxAttempts);
      for (const c of changed) {
        if (c.state === 'pending') {
          void bus.publish({ type: 'dispatch', tenantId: c.tenantId, group: c.agentGroup });
        } else {
          if (c.state === 'expired' && c.agentId) {
            notify({ type: 'cancel', id: c.id, agentId: c.agentId, reason: 'deadline passed' });
          }
          void bus.publish({
            type: 'done',
            id: c.id,
            agentId: null,
            tenantId: c.tenantId,
            group: c.agentGroup,
          });
        }
      }
      await settleFromStore([...waiters.keys()]);
      for (const g of streams.groups()) void dispatcher.pump(g.tenantId, g.group);
    } catch (err) {
      logger.warn({ err }, 'agent gateway: sweep failed');
    } finally {
      sweeping = false;
    }
  }

  /** Drops streams of agents that stopped heartbeating (half-open) or were revoked. */
  async function checkLiveness(): Promise<void> {
    const ids = streams.agentIds();
    if (!ids.length) return;
    const rows = await sql<{ id: string; lastSeenAt: Date | null; revokedAt: Date | null }[]>`
      update agents set connected_to = coalesce(connected_to, ${opts.replica})
      where id = any(${ids}::uuid[])
      returning id, last_seen_at as "lastSeenAt", revoked_at as "revokedAt"`;
    const now = Date.now();
    for (const r of rows) {
      for (const s of streams.streamsOf(r.id)) {
        const heard = Math.max(s.openedAt, r.lastSeenAt ? new Date(r.lastSeenAt).getTime() : 0);
        if (r.revokedAt) s.close('revoked');
        else if (now - heard > silentMs) s.close('no heartbeat');
      }
    }
  }

  const gateway: AgentGateway = {
    async call<K extends CommandKind>(
      tenantId: string,
      dataSourceId: string,
      kind: K,
      payload: CallPayload<K>,
      o?: CallOptions,
    ): Promise<ResultData<K>> {
      const { data } = await run(
        tenantId,
        dataSourceId,
        kind,
        payload as Record<string, unknown>,
        o,
      );
      return data as ResultData<K>;
    },
    search(tenantId, dataSourceId, payload, o) {
      return pages(tenantId, dataSourceId, payload, o);
    },
    async status(tenantId, agentIds) {
      const out = new Map<string, AgentLiveStatus>();
      if (!agentIds.length) return out;
      const rows = await sql<
        {
          id: string;
          replica: string | null;
          lastSeenAt: Date | null;
          version: string | null;
          live: boolean;
        }[]
      >`
        select id, connected_to as replica, last_seen_at as "lastSeenAt", version,
               (connected_to is not null and revoked_at is null
                and last_seen_at > now() - make_interval(secs => ${leaseMs() / 1000})) as live
        from agents where tenant_id = ${tenantId} and id = any(${agentIds as string[]}::uuid[])`;
      const counts = await store.inFlight(rows.map((r) => r.id));
      for (const r of rows) {
        out.set(r.id, {
          connected: r.live,
          replica: r.live ? r.replica : null,
          lastSeenAt: r.lastSeenAt ? new Date(r.lastSeenAt) : null,
          version: r.version,
          commandsInFlight: counts.get(r.id) ?? 0,
        });
      }
      return out;
    },
    async agentRevoked(agentId) {
      onBus({ type: 'revoke', agentId });
      await bus.publish({ type: 'revoke', agentId });
    },
    close: () => close(),
  };

  async function* pages(
    tenantId: string,
    dataSourceId: string,
    payload: Record<string, unknown>,
    o?: CallOptions,
  ): AsyncGenerator<import('../protocol.ts').Entry[]> {
    let cookie: string | null = null;
    let target: string | undefined;
    do {
      const { data, agentId } = await run(
        tenantId,
        dataSourceId,
        'search',
        { ...payload, cookie },
        o,
        target,
      );
      const page = data as ResultData<'search'>;
      target ??= agentId ?? undefined;
      cookie = page.cookie;
      yield page.entries;
    } while (cookie);
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      if (timer) clearInterval(timer);
      for (const s of streams.all()) s.close('hub shutting down');
      for (const [id, w] of waiters) {
        w.settle(failure('timeout', 'the hub is shutting down'), null);
        waiters.delete(id);
      }
      await dispatcher.idle();
      await busInstance?.close();
      await direct.close();
    })();
    return closing;
  }

  return {
    ...gateway,
    /** Internals for the HTTP routes (routes.ts) — not for other callers. */
    internal: { store, streams, auth, dispatcher, notify, metrics, leaseMs, opts, start },
    registry: metrics.registry,
  };
}
