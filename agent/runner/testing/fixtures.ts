/** Test doubles for the runner: a steerable ConnectorSet, a config, commands, a log capture. */
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { type AgentConfig, Secret } from '../../config/index.ts';
import type { ConnectorSet } from '../../connectors/types.ts';
import type { Command, CommandInput, CommandResult } from '../../protocol.ts';

export interface Call {
  command: Command;
  signal: AbortSignal;
  resolve(result: CommandResult): void;
}

/** A ConnectorSet whose calls wait for the test to resolve them, unless `auto` answers. */
export function fakeConnectors(auto?: (c: Command) => CommandResult | undefined) {
  const calls: Call[] = [];
  let closed = false;
  const set: ConnectorSet = {
    execute: (command, signal) =>
      new Promise((resolve) => {
        const answer = auto?.(command);
        if (answer) return resolve(answer);
        calls.push({ command, signal: signal as AbortSignal, resolve });
      }),
    close: async () => {
      closed = true;
    },
  };
  return { set, calls, isClosed: () => closed };
}

export const TENANT = '0b9f6a8e-6d1c-4f7e-9a6b-1c2d3e4f5a6b';
export const PASSWORD = 's3cret:pw';

export function testConfig(urls: string[], over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    configPath: '/tmp/agent-test.yaml',
    urls,
    tenantId: TENANT,
    auth: { kind: 'basic', userName: 'agent-1', password: new Secret(PASSWORD) },
    reconnectDelay: { initialMs: 100, maxMs: 400, jitter: 0 },
    keepAlive: { intervalMs: 1000 },
    dataSources: {},
    allowHosts: [],
    maxResultBytes: 1024 * 1024,
    ...over,
  };
}

export const ping = (over: Partial<CommandInput> = {}): CommandInput =>
  ({
    id: randomUUID(),
    kind: 'ping',
    dataSource: 'corp',
    deadline: new Date(Date.now() + 30_000).toISOString(),
    payload: {},
    ...over,
  }) as CommandInput;

export const pong: CommandResult = {
  ok: true,
  data: { protocolVersion: 1, agentVersion: 'test', time: new Date(0).toISOString() },
};

/** A trace-level logger writing into `lines`, so tests can read what the agent logged. */
export function captureLogs(): { logger: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => void lines.push(s) });
  return { logger, lines, text: () => lines.join('') };
}
