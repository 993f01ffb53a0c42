import DataLoader from 'dataloader';
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import {
  type AgentRecord,
  agentColumns,
  type DataSourceRecord,
} from '../../agent/gateway/registry.ts';
import type { AgentGateway, AgentLiveStatus } from '../../agent/gateway/types.ts';
import type { Db } from '../../db/client.ts';
import { agents, dataSources } from '../../db/schema/index.ts';
import { isUuid } from '../../scim/store/keys.ts';
import { tag } from './rows.ts';

/** Rows the Agent and DataSource types resolve from (tagged like rows.ts does). */
export type AgentRow = AgentRecord & { kind: 'Agent' };
/** The table's own `kind` (ldap | sql | scim) moves to `sourceKind`: `kind` is the tag. */
export type DataSourceRow = Omit<DataSourceRecord, 'kind'> & {
  kind: 'DataSource';
  sourceKind: DataSourceRecord['kind'];
};

export const dataSourceRow = ({ kind, ...r }: DataSourceRecord): DataSourceRow => ({
  ...r,
  kind: 'DataSource',
  sourceKind: kind,
});

const byId = <T extends { id: string }>(keys: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((r) => [r.id, r]));
  return keys.map((k) => map.get(k.toLowerCase()) ?? null);
};

/**
 * Per-request loaders of agents, data sources and agents' live status. Like loaders.ts, each
 * filters by the caller's tenant (another tenant's id loads as null; the operator loads
 * nothing). Live status comes from the gateway, once per request for all agents asked.
 */
export function createAgentLoaders(db: Db, tenantId: string | null, gateway: AgentGateway) {
  const d = db.db;
  const ids = (keys: readonly string[]) => keys.filter(isUuid).map((k) => k.toLowerCase());

  const agent = new DataLoader<string, AgentRow | null>(async (keys) => {
    const wanted = ids(keys);
    if (!tenantId || !wanted.length) return keys.map(() => null);
    const rows = await d
      .select(agentColumns)
      .from(agents)
      .where(and(eq(agents.tenantId, tenantId), inArray(agents.id, wanted)));
    return byId(
      keys,
      rows.map((r) => tag('Agent', r)),
    );
  });

  const dataSource = new DataLoader<string, DataSourceRow | null>(async (keys) => {
    const wanted = ids(keys);
    if (!tenantId || !wanted.length) return keys.map(() => null);
    const rows = await d
      .select()
      .from(dataSources)
      .where(and(eq(dataSources.tenantId, tenantId), inArray(dataSources.id, wanted)));
    return byId(keys, rows.map(dataSourceRow));
  });

  /** Active (not revoked) agents of a group, oldest first: who serves its data sources. */
  const activeAgentsOfGroup = new DataLoader<string, AgentRow[]>(async (groups) => {
    if (!tenantId) return groups.map(() => []);
    const rows = await d
      .select(agentColumns)
      .from(agents)
      .where(
        and(
          eq(agents.tenantId, tenantId),
          inArray(agents.agentGroup, [...groups]),
          isNull(agents.revokedAt),
        ),
      )
      .orderBy(asc(agents.createdAt), asc(agents.id));
    return groups.map((g) => rows.filter((r) => r.agentGroup === g).map((r) => tag('Agent', r)));
  });

  /** Null for an agent the gateway does not know live (never connected, revoked, elsewhere). */
  const agentStatus = new DataLoader<string, AgentLiveStatus | null>(async (keys) => {
    if (!tenantId) return keys.map(() => null);
    const live = await gateway.status(tenantId, keys);
    return keys.map((k) => live.get(k) ?? null);
  });

  return { agent, dataSource, activeAgentsOfGroup, agentStatus };
}

export type AgentLoaders = ReturnType<typeof createAgentLoaders>;
