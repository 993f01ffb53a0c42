/**
 * Calls through agents: store the command (only while an agent of its group is live), wake
 * the replica holding a stream, and wait. The answer arrives in memory when the agent posts
 * its result to this replica, or from the store when another replica took it — or when the
 * caller's timeout, its abort, or the sweeper ends the command first.
 */
import type { CommandKind, CommandResult } from '../protocol.ts';
import { failure } from '../protocol.ts';
import type { BusMessage } from './bus.ts';
import type { CommandStore } from './store.ts';
import { type CallOptions, type DataSourceRef, GatewayError } from './types.ts';

export interface Answer {
  result: CommandResult;
  agentId: string | null;
}

interface Waiter {
  kind: CommandKind;
  settle(answer: Answer): void;
}

export function createCalls(deps: {
  store: CommandStore;
  notify(m: BusMessage): void;
  /** How recently an agent must have been heard of to count as live. */
  liveMs: () => number;
}) {
  const { store, notify } = deps;
  const waiters = new Map<string, Waiter>();

  /** Settles waiters whose commands ended (read from the store, for answers stored elsewhere). */
  async function settleFromStore(ids: string[]): Promise<void> {
    const wanted = ids.filter((id) => waiters.has(id));
    if (!wanted.length) return;
    for (const r of await store.ended(wanted)) waiters.get(r.id)?.settle(r);
  }

  function wait(id: string, kind: CommandKind, timeoutMs: number, o?: CallOptions) {
    return new Promise<Answer>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        o?.signal?.removeEventListener('abort', onAbort);
        waiters.delete(id);
      };
      const done = (answer: Answer) => {
        cleanup();
        resolve(answer);
      };
      const giveUp = async (state: 'expired' | 'failed', error: GatewayError) => {
        const code = error.code === 'timeout' ? 'timeout' : 'refused';
        const { changed, agentId } = await store.finish(id, state, failure(code, error.message));
        const row = changed ? undefined : await store.read(id);
        // A result that won the race is the answer.
        if (row?.result && row.state !== 'expired')
          return done({ result: row.result, agentId: row.agentId });
        const holder = agentId ?? row?.agentId;
        if (holder) notify({ type: 'cancel', id, agentId: holder, reason: error.message });
        cleanup();
        reject(error);
      };
      const fail = (state: 'expired' | 'failed', error: GatewayError) =>
        giveUp(state, error).catch((err: unknown) => {
          cleanup();
          reject(err);
        });
      const timer = setTimeout(
        () => fail('expired', new GatewayError('timeout', `no result within ${timeoutMs} ms`)),
        timeoutMs + 250,
      );
      const onAbort = () => fail('failed', new GatewayError('cancelled', 'the caller cancelled'));
      o?.signal?.addEventListener('abort', onAbort, { once: true });
      waiters.set(id, { kind, settle: done });
    });
  }

  return {
    settleFromStore,
    waitingIds: () => [...waiters.keys()],
    /** The kind of a command a caller here waits for (so a result needs no lookup). */
    kindOf: (id: string) => waiters.get(id)?.kind,
    /** Hands a stored result to the caller waiting here; false when none waits here. */
    deliver(id: string, answer: Answer): boolean {
      const w = waiters.get(id);
      w?.settle(answer);
      return Boolean(w);
    },

    async viaAgent(
      ds: DataSourceRef,
      kind: CommandKind,
      payload: Record<string, unknown>,
      timeoutMs: number,
      o?: CallOptions,
      target?: string,
    ): Promise<Answer> {
      const id = await store.insertIfLive(
        {
          tenantId: ds.tenantId,
          dataSourceId: ds.id,
          agentGroup: ds.agentGroup,
          kind,
          payload,
          deadline: new Date(Date.now() + timeoutMs),
          targetAgentId: target,
        },
        deps.liveMs(),
      );
      if (!id) {
        throw new GatewayError(
          'unavailable',
          target
            ? 'the agent serving this search is no longer connected; restart the search'
            : `no agent of group "${ds.agentGroup}" is connected`,
        );
      }
      const answer = wait(id, kind, timeoutMs, o);
      notify({ type: 'dispatch', tenantId: ds.tenantId, group: ds.agentGroup });
      return answer;
    },

    /** The hub is stopping: every caller here gets a timeout. */
    failAll(): void {
      for (const w of waiters.values()) {
        w.settle({ result: failure('timeout', 'the hub is shutting down'), agentId: null });
      }
      waiters.clear();
    },
  };
}

export type Calls = ReturnType<typeof createCalls>;
