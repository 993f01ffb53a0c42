/**
 * The agent streams open on this replica. A stream is an SSE response body: the gateway writes
 * events into it and learns it closed when the client goes away. Several streams may belong to
 * one agent (one per hub URL in its configuration, or a reconnect racing the old stream).
 */
import type { CommandKind } from '../protocol.ts';
import type { AgentPrincipal } from './auth.ts';

export interface LocalStream {
  agent: AgentPrincipal;
  version: string | null;
  openedAt: number;
  /** Leases (command id → attempt) written to this stream: one lease is never written twice. */
  written: Map<string, number>;
  /** Writes raw SSE text; false once the stream is closed. */
  write(text: string): boolean;
  close(reason: string): void;
  closed: boolean;
}

export function createStreamRegistry() {
  const byAgent = new Map<string, Set<LocalStream>>();
  /** Commands this replica sent to an agent and not yet seen finished: agent capacity. */
  const sent = new Map<string, { agentId: string; kind: CommandKind }>();
  const inFlight = new Map<string, number>();

  return {
    add(s: LocalStream): void {
      const set = byAgent.get(s.agent.agentId) ?? new Set<LocalStream>();
      byAgent.set(s.agent.agentId, set);
      set.add(s);
    },
    remove(s: LocalStream): boolean {
      const set = byAgent.get(s.agent.agentId);
      set?.delete(s);
      if (set && set.size === 0) byAgent.delete(s.agent.agentId);
      return !byAgent.has(s.agent.agentId);
    },
    /** The newest open stream of an agent. */
    streamOf(agentId: string): LocalStream | undefined {
      const set = byAgent.get(agentId);
      if (!set) return undefined;
      let best: LocalStream | undefined;
      for (const s of set) if (!s.closed && (!best || s.openedAt > best.openedAt)) best = s;
      return best;
    },
    streamsOf(agentId: string): LocalStream[] {
      return [...(byAgent.get(agentId) ?? [])];
    },
    /** Agents of a tenant's group with a stream here, least busy first. */
    agentsOf(tenantId: string, group: string) {
      const out: AgentPrincipal[] = [];
      for (const set of byAgent.values()) {
        const first = set.values().next().value;
        if (first && first.agent.tenantId === tenantId && first.agent.group === group) {
          out.push(first.agent);
        }
      }
      return out.sort((a, b) => (inFlight.get(a.agentId) ?? 0) - (inFlight.get(b.agentId) ?? 0));
    },
    agentIds: () => [...byAgent.keys()],
    /** (tenant, group) pairs served here, for the periodic pump. */
    groups(): { tenantId: string; group: string }[] {
      const seen = new Map<string, { tenantId: string; group: string }>();
      for (const set of byAgent.values()) {
        const first = set.values().next().value;
        if (first) seen.set(`${first.agent.tenantId}/${first.agent.group}`, first.agent);
      }
      return [...seen.values()].map(({ tenantId, group }) => ({ tenantId, group }));
    },
    streamCount(): number {
      let n = 0;
      for (const set of byAgent.values()) n += set.size;
      return n;
    },
    all(): LocalStream[] {
      return [...byAgent.values()].flatMap((set) => [...set]);
    },
    load: (agentId: string) => inFlight.get(agentId) ?? 0,
    markSent(commandId: string, agentId: string, kind: CommandKind): void {
      if (sent.has(commandId)) return;
      sent.set(commandId, { agentId, kind });
      inFlight.set(agentId, (inFlight.get(agentId) ?? 0) + 1);
    },
    /** The agent a command was sent to from here. */
    sentTo: (commandId: string) => sent.get(commandId)?.agentId,
    /** The kind of a command sent from here (so its result needs no lookup). */
    kindOf: (commandId: string) => sent.get(commandId)?.kind,
    /** Frees the agent's capacity; true when the agent was full (so pending work may move). */
    markDone(commandId: string, full: number): boolean {
      const agentId = sent.get(commandId)?.agentId;
      if (!agentId) return false;
      sent.delete(commandId);
      for (const s of byAgent.get(agentId) ?? []) s.written.delete(commandId);
      const before = inFlight.get(agentId) ?? 1;
      if (before <= 1) inFlight.delete(agentId);
      else inFlight.set(agentId, before - 1);
      return before >= full;
    },
    /** Forgets capacity held by an agent whose last stream here closed. */
    forgetAgent(agentId: string): void {
      for (const [id, a] of sent) if (a.agentId === agentId) sent.delete(id);
      inFlight.delete(agentId);
    },
  };
}

export type StreamRegistry = ReturnType<typeof createStreamRegistry>;
