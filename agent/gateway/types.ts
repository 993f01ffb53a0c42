/**
 * The hub's side of the agent protocol, as the rest of the hub sees it. Sync and push work,
 * and GraphQL, go through `AgentGateway`: it stores the command durably, reaches whichever
 * agent of the data source's group is connected (to any hub replica), and resolves with the
 * typed result. Data sources with `agentEnabled: false` run the same connector in the hub.
 */
import type { CommandKind, Entry, ErrorCode, ResultData, SearchPayload } from '../protocol.ts';

/** Payload accepted by `call` for a kind (defaults of the protocol schema may be omitted). */
export type CallPayload<K extends CommandKind> = K extends 'search'
  ? Partial<SearchPayload>
  : K extends 'export'
    ? import('../protocol.ts').ExportPayload
    : Record<string, never>;

export interface CallOptions {
  /** Overrides the per-kind default (admin kinds short, search/export long). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Where a data source's commands run and which data source the agent knows it by. */
export interface DataSourceRef {
  id: string;
  tenantId: string;
  name: string;
  kind: 'ldap' | 'sql' | 'scim';
  agentEnabled: boolean;
  agentGroup: string;
  config: Record<string, unknown>;
}

/** Live view of a registered agent, merged from the store and the replicas' streams. */
export interface AgentLiveStatus {
  connected: boolean;
  /** Replica name holding its stream, when connected. */
  replica: string | null;
  lastSeenAt: Date | null;
  version: string | null;
  commandsInFlight: number;
}

/** A failed command: the protocol's typed error, or `unavailable` when no agent is connected. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode | 'unavailable' | 'cancelled',
    message: string,
    readonly remoteCode?: string | number,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface AgentGateway {
  /** Runs one command against a data source of the tenant (by id); throws GatewayError. */
  call<K extends CommandKind>(
    tenantId: string,
    dataSourceId: string,
    kind: K,
    payload: CallPayload<K>,
    opts?: CallOptions,
  ): Promise<ResultData<K>>;
  /**
   * Pages through a search: each page is one command, and every page after the first goes to
   * the agent that served the first (an LDAP paging cookie is bound to its connection).
   */
  search(
    tenantId: string,
    dataSourceId: string,
    payload: Omit<Partial<SearchPayload>, 'cookie'>,
    opts?: CallOptions,
  ): AsyncIterable<Entry[]>;
  /** Live status of agents by id (agents not in the tenant are absent). */
  status(tenantId: string, agentIds: readonly string[]): Promise<Map<string, AgentLiveStatus>>;
  /** Drops the live stream of a revoked agent on whichever replica holds it. */
  agentRevoked(agentId: string): Promise<void>;
  close(): Promise<void>;
}
