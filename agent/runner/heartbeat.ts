/**
 * Every keepAlive interval, each URL whose stream is up gets `POST /agent/v1/heartbeat` with
 * the commands in flight; the hub answers which it still leases to this agent (`held`), and
 * the others are aborted unanswered — another agent has them now.
 */
import type { Logger } from 'pino';
import { HEARTBEAT_PATH, heartbeatResponseSchema } from '../protocol.ts';
import type { CommandExecutor } from './executor.ts';
import { type HubClient, hubError } from './http.ts';
import { parseJson } from './json.ts';

export interface HeartbeatOptions {
  links: readonly { client: HubClient; connected: () => boolean }[];
  executor: CommandExecutor;
  agentVersion: string;
  intervalMs: number;
  logger: Logger;
}

export function startHeartbeats(o: HeartbeatOptions): { stop(): void } {
  const stop = new AbortController();
  const busy = new Set<HubClient>();
  const beat = async (client: HubClient, inFlight: string[]) => {
    const log = o.logger.child({ hub: client.url });
    const body = JSON.stringify({ agentVersion: o.agentVersion, inFlight });
    try {
      const res = await client.postJson(HEARTBEAT_PATH, body, stop.signal, o.intervalMs);
      if (res.status !== 200) {
        const { code, message } = hubError(res.body);
        return void log.warn({ status: res.status, code }, `heartbeat refused: ${message}`);
      }
      const answer = parseJson(heartbeatResponseSchema, res.body);
      if (!answer) return void log.warn('heartbeat answer has an unexpected shape');
      o.executor.applyHeld(inFlight, answer.held);
    } catch (e) {
      if (!stop.signal.aborted) log.warn(`heartbeat failed: ${(e as Error).message}`);
    }
  };
  const tick = () => {
    const inFlight = o.executor.inFlight();
    for (const { client, connected } of o.links) {
      if (!connected() || busy.has(client)) continue; // one heartbeat at a time per URL
      busy.add(client);
      void beat(client, inFlight).finally(() => busy.delete(client));
    }
  };
  const timer = setInterval(tick, o.intervalMs);
  return {
    stop() {
      clearInterval(timer);
      stop.abort();
    },
  };
}
