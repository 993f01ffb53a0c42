/**
 * The hub's agent gateway: `call` stores a command, wakes the replica streaming to an agent of
 * the data source's group (Redis pub/sub), and waits for the result that agent posts to any
 * replica. Every replica sweeps the store on a timer (sweeper.ts), so a lost wake-up delays
 * work by one sweep and never loses it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type postgres from 'postgres';
import type { Command, CommandKind, Entry, ResultData } from '../protocol.ts';
import { createAgentAuth } from './auth.ts';
import { type BusMessage, createBus } from './bus.ts';
import { type Answer, createCalls } from './calls.ts';
import { createDirectRunner } from './direct.ts';
import { createDispatcher, MAX_IN_FLIGHT_PER_AGENT } from './dispatch.ts';
import { createGatewayMetrics } from './metrics.ts';
import { createCommandStore } from './store.ts';
import { createStreamRegistry } from './streams.ts';
import { createSweeper } from './sweeper.ts';
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
  const dispatcher = createDispatcher({ store, streams, leaseMs, logger });
  const calls = createCalls({ store, notify: (m) => notify(m), liveMs: leaseMs });
  const sweep = createSweeper({
    store,
    streams,
    calls,
    dispatcher,
    notify: (m) => notify(m),
    logger,
    replica: opts.replica,
    maxAttempts: opts.maxAttempts,
    // A streamed agent silent this long is dropped — before its leases (3×) expire.
    silentMs: opts.heartbeatMs * 2.5,
  });

  let bus: ReturnType<typeof createBus> | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** Subscribes and starts sweeping, once; every entry point calls it. */
  function start() {
    if (!bus) {
      bus = createBus(opts.redis, logger, opts.replica, onBus);
      const tick = Math.max(100, Math.min(1000, Math.floor(opts.heartbeatMs / 2)));
      timer = setInterval(() => void sweep(), tick);
      timer.unref();
    }
    return bus;
  }

  /** Acts on a message here at once (no Redis round trip) and tells the other replicas. */
  function notify(m: BusMessage): void {
    onBus(m);
    void start().publish(m);
  }

  function onBus(m: BusMessage): void {
    if (m.type === 'dispatch') void dispatcher.pump(m.tenantId, m.group);
    else if (m.type === 'done') {
      // Capacity freed on a full agent may let pending work move; otherwise nothing waits.
      if (streams.markDone(m.id, MAX_IN_FLIGHT_PER_AGENT))
        void dispatcher.pump(m.tenantId, m.group);
      void calls.settleFromStore([m.id]);
    } else if (m.type === 'cancel') {
      for (const s of streams.streamsOf(m.agentId)) {
        s.write(`event: cancel\ndata: ${JSON.stringify({ id: m.id, reason: m.reason })}\n\n`);
      }
    } else if (m.type === 'revoke') {
      auth.forget(m.agentId);
      for (const s of streams.streamsOf(m.agentId)) s.close('revoked');
    }
  }

  async function dataSource(tenantId: string, id: string): Promise<DataSourceRef> {
    const [row] = await sql<DataSourceRef[]>`
      select id, tenant_id as "tenantId", name, kind, agent_enabled as "agentEnabled",
             agent_group as "agentGroup", config
      from data_sources where id = ${id} and tenant_id = ${tenantId}`;
    if (!row) throw new GatewayError('not_found', `no data source "${id}"`);
    return row;
  }

  const timeoutOf = (kind: CommandKind, o?: CallOptions) =>
    o?.timeoutMs ?? (ADMIN_KINDS.has(kind) ? opts.adminTimeoutMs : opts.operationTimeoutMs);

  async function runDirect(
    ds: DataSourceRef,
    kind: CommandKind,
    payload: Record<string, unknown>,
    timeoutMs: number,
    o?: CallOptions,
  ): Promise<Answer> {
    const command = {
      id: randomUUID(),
      kind,
      dataSource: ds.name,
      payload,
      deadline: new Date(Date.now() + timeoutMs).toISOString(),
    } as Command;
    const signal = AbortSignal.any([
      AbortSignal.timeout(timeoutMs),
      ...(o?.signal ? [o.signal] : []),
    ]);
    return { result: await direct.run(ds, command, signal), agentId: null };
  }

  /** One command against a data source (resolved by the caller), through an agent or directly. */
  async function run(
    ds: DataSourceRef,
    kind: CommandKind,
    payload: Record<string, unknown>,
    o?: CallOptions,
    target?: string,
  ): Promise<{ data: unknown; agentId: string | null }> {
    start();
    const started = performance.now();
    let outcome = 'ok';
    try {
      const timeoutMs = timeoutOf(kind, o);
      const { result, agentId } = ds.agentEnabled
        ? await calls.viaAgent(ds, kind, payload, timeoutMs, o, target)
        : await runDirect(ds, kind, payload, timeoutMs, o);
      if (!result.ok) {
        throw new GatewayError(result.error.code, result.error.message, result.error.remoteCode);
      }
      return { data: result.data, agentId };
    } catch (e) {
      outcome = e instanceof GatewayError ? e.code : 'error';
      throw e;
    } finally {
      metrics.observe(kind, outcome, (performance.now() - started) / 1000);
    }
  }

  async function* pages(
    tenantId: string,
    dataSourceId: string,
    payload: Record<string, unknown>,
    o?: CallOptions,
  ): AsyncGenerator<Entry[]> {
    const ds = await dataSource(tenantId, dataSourceId);
    let cookie: string | null = null;
    let target: string | undefined;
    do {
      const { data, agentId } = await run(ds, 'search', { ...payload, cookie }, o, target);
      const page = data as ResultData<'search'>;
      target ??= agentId ?? undefined;
      cookie = page.cookie;
      yield page.entries;
    } while (cookie);
  }

  async function status(tenantId: string, agentIds: readonly string[]) {
    const out = new Map<string, AgentLiveStatus>();
    if (!agentIds.length) return out;
    const rows = await store.agentStatus(tenantId, agentIds, leaseMs());
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
  }

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      if (timer) clearInterval(timer);
      for (const s of streams.all()) s.close('hub shutting down');
      calls.failAll();
      await dispatcher.idle();
      await bus?.close();
      await direct.close();
    })();
    return closing;
  }

  const gateway: AgentGateway = {
    async call<K extends CommandKind>(
      tenantId: string,
      dataSourceId: string,
      kind: K,
      payload: CallPayload<K>,
      o?: CallOptions,
    ): Promise<ResultData<K>> {
      const ds = await dataSource(tenantId, dataSourceId);
      const { data } = await run(ds, kind, payload as Record<string, unknown>, o);
      return data as ResultData<K>;
    },
    search: (tenantId, dataSourceId, payload, o) => pages(tenantId, dataSourceId, payload, o),
    status,
    async agentRevoked(agentId) {
      onBus({ type: 'revoke', agentId });
      await start().publish({ type: 'revoke', agentId });
    },
    close,
  };

  return {
    ...gateway,
    /** Internals for the HTTP routes (routes.ts) — not for other callers. */
    internal: { store, streams, auth, dispatcher, calls, notify, leaseMs, opts, start },
    registry: metrics.registry,
  };
}
