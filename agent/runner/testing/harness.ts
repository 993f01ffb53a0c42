/** Starts a FakeHub and an agent on it per test, and stops both after the test. */
import { afterEach } from 'vitest';
import { until } from '../../../test/until.ts';
import { type RunningAgent, type StartOptions, startAgent } from '../agent.ts';
import { FakeHub, type FakeHubOptions } from './fake-hub.ts';
import { captureLogs, fakeConnectors, PASSWORD, pong, testConfig } from './fixtures.ts';

export interface SetupOptions {
  hub?: FakeHubOptions;
  /** Answer every command at once with `pong` instead of waiting for the test. */
  auto?: boolean;
  start?: Partial<StartOptions>;
  config?: Parameters<typeof testConfig>[1];
}

/** The Authorization header testConfig's credentials give. */
export const BASIC = `Basic ${Buffer.from(`agent-1:${PASSWORD}`).toString('base64')}`;

export function useAgentHarness() {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = <T extends { close(): Promise<unknown> }>(x: T): T => {
    cleanups.push(() => x.close());
    return x;
  };
  /** An agent on `urls` (not waiting for any stream), with captured logs. */
  async function agentOn(urls: string[], o: Omit<SetupOptions, 'hub' | 'auto'> = {}) {
    const conn = fakeConnectors();
    const logs = captureLogs();
    const agent = track(
      await startAgent(testConfig(urls, o.config), {
        logger: logs.logger,
        connectors: conn.set,
        version: '1',
        graceMs: 300,
        ...o.start,
      }),
    );
    return { agent, conn, logs };
  }

  /** A hub, a fake ConnectorSet and an agent whose stream to the hub is open. */
  async function setup(o: SetupOptions = {}) {
    const hub = track(await FakeHub.start(o.hub));
    const conn = fakeConnectors(o.auto ? () => pong : undefined);
    const logs = captureLogs();
    const agent: RunningAgent = track(
      await startAgent(testConfig([hub.url], o.config), {
        logger: logs.logger,
        connectors: conn.set,
        version: '9.9.9',
        graceMs: 300,
        ...o.start,
      }),
    );
    await until(() => hub.open.size === 1, 'the stream');
    return { hub, conn, logs, agent };
  }
  return { setup, agentOn, track };
}
