/**
 * The durable command store (table agent_commands). Every state change is one SQL statement
 * guarded by the state it expects, so replicas racing on the same command cannot both win:
 * pending → leased (by one agent, SKIP LOCKED) → succeeded | failed; leased → pending when the
 * lease expires (the agent went quiet); pending | leased → expired at the deadline.
 */
import type postgres from 'postgres';
import type { Command, CommandKind, CommandResult } from '../protocol.ts';

export type CommandState = 'pending' | 'leased' | 'succeeded' | 'failed' | 'expired';

export interface NewCommand {
  tenantId: string;
  dataSourceId: string;
  agentGroup: string;
  kind: CommandKind;
  payload: Record<string, unknown>;
  deadline: Date;
  targetAgentId?: string;
}

export interface LeasedRow {
  id: string;
  /** Which lease of the command this is (1 for the first agent, 2 after a move…). */
  attempts: number;
  kind: CommandKind;
  payload: Record<string, unknown>;
  deadline: Date;
  dataSource: string;
}

export interface FinishedRow {
  state: CommandState;
  agentId: string | null;
  result: CommandResult | null;
}

const toCommand = (r: LeasedRow): Command =>
  ({
    id: r.id,
    kind: r.kind,
    dataSource: r.dataSource,
    payload: r.payload,
    deadline: new Date(r.deadline).toISOString(),
  }) as Command;

export function createCommandStore(sql: postgres.Sql) {
  /** JSON text cast to jsonb in the statement (postgres.js' sql.json needs fetched types). */
  const json = (v: unknown) => JSON.stringify(v);

  return {
    toCommand,

    /**
     * Stores a command only if an unrevoked agent of its group (or its target agent) was heard
     * of within `liveMs`; undefined otherwise (one statement: the check and the insert).
     */
    async insertIfLive(c: NewCommand, liveMs: number): Promise<string | undefined> {
      const target = c.targetAgentId ?? null;
      const [row] = await sql<{ id: string }[]>`
        insert into agent_commands
          (tenant_id, data_source_id, agent_group, kind, payload, deadline, target_agent_id)
        select ${c.tenantId}, ${c.dataSourceId}, ${c.agentGroup}, ${c.kind},
               ${json(c.payload)}::jsonb, ${c.deadline.toISOString()}, ${target}::uuid
        where exists (
          select 1 from agents
          where tenant_id = ${c.tenantId} and agent_group = ${c.agentGroup}
            and revoked_at is null and connected_to is not null
            and last_seen_at > now() - make_interval(secs => ${liveMs / 1000})
            and (${target}::uuid is null or id = ${target}::uuid))
        returning id`;
      return row?.id;
    },

    /** Leases up to `limit` pending commands of the group to one agent, oldest first. */
    async lease(
      agent: { agentId: string; tenantId: string; group: string },
      limit: number,
      leaseMs: number,
    ): Promise<LeasedRow[]> {
      if (limit <= 0) return [];
      return sql<LeasedRow[]>`
        with picked as (
          select id from agent_commands
          where tenant_id = ${agent.tenantId} and agent_group = ${agent.group}
            and state = 'pending' and deadline > now()
            and (target_agent_id is null or target_agent_id = ${agent.agentId})
          order by seq
          limit ${limit}
          for update skip locked
        )
        update agent_commands c
        set state = 'leased', agent_id = ${agent.agentId}, attempts = c.attempts + 1,
            lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
        from picked, data_sources d
        where c.id = picked.id and d.id = c.data_source_id
        returning c.id, c.attempts, c.kind, c.payload, c.deadline, d.name as "dataSource"`;
    },

    /** Commands leased to this agent and not answered yet: replayed when its stream opens. */
    async leasedTo(agentId: string, leaseMs: number): Promise<LeasedRow[]> {
      return sql<LeasedRow[]>`
        update agent_commands c
        set lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
        from data_sources d
        where c.agent_id = ${agentId} and c.state = 'leased' and d.id = c.data_source_id
        returning c.id, c.attempts, c.kind, c.payload, c.deadline, d.name as "dataSource"`;
    },

    /**
     * A heartbeat: extends the leases of the commands the agent says it holds (running or
     * queued) and returns those still leased to it. A command sent but never received is not
     * listed, so its lease runs out and it is sent again instead of being held forever.
     */
    async renew(agentId: string, ids: string[], leaseMs: number): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await sql<{ id: string }[]>`
        update agent_commands
        set lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
        where agent_id = ${agentId} and state = 'leased' and id = any(${ids}::uuid[])
        returning id`;
      const held = new Set(rows.map((r) => r.id));
      return ids.filter((id) => held.has(id));
    },

    /**
     * Records a result from the agent holding the lease. `stale` when the command was moved to
     * another agent or already ended (the first answer wins), `unknown` when it is not this
     * tenant's.
     */
    async complete(
      tenantId: string,
      agentId: string,
      id: string,
      result: CommandResult,
      /** What to keep in the row (default: the result itself). */
      stored: unknown = result,
    ): Promise<'stored' | 'stale' | 'unknown'> {
      const state = result.ok ? 'succeeded' : 'failed';
      const rows = await sql<{ id: string }[]>`
        update agent_commands
        set state = ${state}, result = ${json(stored)}::jsonb, completed_at = now(),
            lease_expires_at = null
        where id = ${id} and tenant_id = ${tenantId} and agent_id = ${agentId}
          and state = 'leased'
        returning id`;
      if (rows.length) return 'stored';
      const [exists] = await sql`
        select 1 from agent_commands where id = ${id} and tenant_id = ${tenantId}`;
      return exists ? 'stale' : 'unknown';
    },

    /** Ends a command the hub gives up on (direct run, timeout, refusal); true if it changed. */
    async finish(
      id: string,
      state: 'failed' | 'expired' | 'succeeded',
      result: CommandResult,
    ): Promise<{ changed: boolean; agentId: string | null }> {
      const rows = await sql<{ agentId: string | null }[]>`
        update agent_commands
        set state = ${state}, result = ${json(result)}::jsonb, completed_at = now(),
            lease_expires_at = null
        where id = ${id} and state in ('pending', 'leased')
        returning agent_id as "agentId"`;
      return { changed: rows.length > 0, agentId: rows[0]?.agentId ?? null };
    },

    /** Results of the given commands that ended. */
    async ended(
      ids: string[],
    ): Promise<{ id: string; agentId: string | null; result: CommandResult }[]> {
      return sql`
        select id, agent_id as "agentId", result from agent_commands
        where id = any(${ids}::uuid[]) and state not in ('pending', 'leased')`;
    },

    async read(id: string): Promise<FinishedRow | undefined> {
      const [row] = await sql<FinishedRow[]>`
        select state, agent_id as "agentId", result from agent_commands where id = ${id}`;
      return row;
    },

    async kindOf(tenantId: string, id: string): Promise<CommandKind | undefined> {
      const [row] = await sql<{ kind: CommandKind }[]>`
        select kind from agent_commands where id = ${id} and tenant_id = ${tenantId}`;
      return row?.kind;
    },

    /**
     * Expired leases go back to pending (another agent of the group takes them) unless the
     * command ran out of attempts or was pinned to the lost agent; past-deadline commands
     * expire. Returns what changed so waiters and dispatchers can be told.
     */
    async sweep(maxAttempts: number): Promise<
      {
        id: string;
        tenantId: string;
        agentGroup: string;
        agentId: string | null;
        state: CommandState;
      }[]
    > {
      const lost = JSON.stringify({
        ok: false,
        error: { code: 'connector_error', message: 'the agent running it was lost' },
      });
      const expired = JSON.stringify({
        ok: false,
        error: { code: 'timeout', message: 'no result before the deadline' },
      });
      return sql`
        with due as (
          select id, case
              when deadline <= now() then 'expired'
              when attempts >= ${maxAttempts} or target_agent_id is not null then 'failed'
              else 'pending' end as next
          from agent_commands
          where (state = 'leased' and lease_expires_at < now())
             or (state in ('pending', 'leased') and deadline <= now())
          for update skip locked
        )
        update agent_commands c
        set state = due.next,
            agent_id = case when due.next = 'pending' then null else c.agent_id end,
            lease_expires_at = null,
            result = case due.next when 'expired' then ${expired}::jsonb
                                   when 'failed' then ${lost}::jsonb else null end,
            completed_at = case when due.next = 'pending' then null else now() end
        from due
        where c.id = due.id
        returning c.id, c.tenant_id as "tenantId", c.agent_group as "agentGroup",
                  c.agent_id as "agentId", c.state`;
    },

    /** Marks local agents as streaming here (when unset) and reads when each was last heard of. */
    async touchStreaming(agentIds: string[], replica: string) {
      return sql<{ id: string; lastSeenAt: string | null; revokedAt: string | null }[]>`
        update agents set connected_to = coalesce(connected_to, ${replica})
        where id = any(${agentIds}::uuid[])
        returning id, last_seen_at as "lastSeenAt", revoked_at as "revokedAt"`;
    },

    /** Live status of a tenant's agents: connected = streaming and heard of within `liveMs`. */
    async agentStatus(tenantId: string, agentIds: readonly string[], liveMs: number) {
      return sql<
        {
          id: string;
          replica: string | null;
          lastSeenAt: string | null;
          version: string | null;
          live: boolean;
        }[]
      >`
        select id, connected_to as replica, last_seen_at as "lastSeenAt", version,
               (connected_to is not null and revoked_at is null
                and last_seen_at > now() - make_interval(secs => ${liveMs / 1000})) as live
        from agents
        where tenant_id = ${tenantId} and id = any(${agentIds as string[]}::uuid[])`;
    },

    /** Leased commands per agent (for live status). */
    async inFlight(agentIds: readonly string[]): Promise<Map<string, number>> {
      if (agentIds.length === 0) return new Map();
      const rows = await sql<{ agentId: string; n: number }[]>`
        select agent_id as "agentId", count(*)::int as n from agent_commands
        where state = 'leased' and agent_id = any(${agentIds as string[]}::uuid[])
        group by agent_id`;
      return new Map(rows.map((r) => [r.agentId, r.n]));
    },
  };
}

export type CommandStore = ReturnType<typeof createCommandStore>;
